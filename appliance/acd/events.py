"""What the ACD engine tells its subscribers: one small record per happening.

Every event carries ``time`` (the engine clock's monotonic seconds) and ``wall``
(epoch seconds, for records).  Subscribers (the stats book, the store recorder, the
queue_log writer, the call service) receive them in order, after the engine's state
already reflects them.  ``kind`` names the event in the store and in logs.

Events are plain data: treat them as read-only.
"""
from __future__ import annotations

import functools

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Optional

__all__ = [
    "AcdEvent", "CallerEvent", "RingEvent", "MemberEvent", "EngineStarted", "CallerJoined", "JoinRefused", "Offer", "RingNoAnswer",
    "RingCanceled", "Connected", "CallCompleted", "CallerLeft", "CallerLost", "Announcement",
    "CallerPenaltyChanged", "CallerPriorityChanged", "MemberAdded", "MemberRemoved", "MembershipChanged",
    "MemberPenaltyChanged", "AgentPaused", "AgentStateChanged", "EVENT_TYPES", "event_data",
]


@dataclass(slots=True)
class AcdEvent:
    kind: ClassVar[str] = "event"
    time: float
    wall: float


@dataclass(slots=True)
class CallerEvent(AcdEvent):
    """Something that happened to ``caller`` in ``queue``."""

    queue: str
    caller: str


@dataclass(slots=True)
class RingEvent(CallerEvent):
    """Something between ``caller`` and ``agent``."""

    agent: str


@dataclass(slots=True)
class MemberEvent(AcdEvent):
    """Something about ``agent``'s membership of ``queue``."""

    queue: str
    agent: str


@dataclass(slots=True)
class EngineStarted(AcdEvent):
    """The engine is up (queue_log QUEUESTART)."""

    kind: ClassVar[str] = "engine_started"


@dataclass(slots=True)
class CallerJoined(CallerEvent):
    """A caller entered ``queue`` at ``position``.  ``resumed`` marks a caller back within
    the abandoned-resume window: ``join_wall`` is then the original join and
    ``abandoned_wait`` how long it had waited before hanging up."""

    kind: ClassVar[str] = "caller_joined"
    callerid: str
    priority: int
    position: int
    join_wall: float
    resumed: bool = False
    abandoned_wait: float = 0.0


@dataclass(slots=True)
class JoinRefused(CallerEvent):
    """``reason``: "full" (maxlen) or "joinempty" (no member passes joinempty)."""

    kind: ClassVar[str] = "join_refused"
    callerid: str
    reason: str


@dataclass(slots=True)
class Offer(RingEvent):
    """Ring ``agent`` for ``caller`` now; the engine gives up after ``timeout`` seconds."""

    kind: ClassVar[str] = "offer"
    timeout: float


@dataclass(slots=True)
class RingNoAnswer(RingEvent):
    """``agent`` did not take ``caller`` (``reason``: "timeout" or "declined")."""

    kind: ClassVar[str] = "ring_no_answer"
    ringtime: float
    reason: str


@dataclass(slots=True)
class RingCanceled(RingEvent):
    """Stop ringing ``agent``: ``reason`` "answered_elsewhere", "caller_left" or "agent_left"."""

    kind: ClassVar[str] = "ring_canceled"
    ringtime: float
    reason: str


@dataclass(slots=True)
class Connected(RingEvent):
    """``agent`` answered ``caller`` after ``holdtime`` seconds in queue (queue_log CONNECT)."""

    kind: ClassVar[str] = "connected"
    holdtime: float
    ringtime: float
    join_wall: float
    agent_call: str = ""     # the agent leg's unique id, when the service knows it


@dataclass(slots=True)
class CallCompleted(RingEvent):
    """The call ended: ``by`` is "caller", "agent" or "transfer" (to ``extension``);
    ``answer_wall`` is when the agent answered (epoch seconds)."""

    kind: ClassVar[str] = "call_completed"
    by: str
    holdtime: float
    talktime: float
    origposition: int
    join_wall: float
    extension: str = ""
    answer_wall: float = 0.0


@dataclass(slots=True)
class CallerLeft(CallerEvent):
    """A waiting caller left unserved.  ``reason``: "abandon" (hung up), "timeout" (max_wait:
    send it to ``destination``), "empty" (leavewhenempty) or "key" (pressed ``key``)."""

    kind: ClassVar[str] = "caller_left"
    reason: str
    position: int
    origposition: int
    waited: float
    join_wall: float
    key: str = ""
    destination: str = ""


@dataclass(slots=True)
class CallerLost(CallerEvent):
    """A caller of an earlier run that nothing ended: the service died (kill -9, power)
    while it waited, or talked (``answered``).  Written once, when the service starts
    again (:mod:`appliance.acd.recovery`); app_queue writes nothing for these.
    ``last_seen`` is the wall time of that run's last record, ``waited`` runs from the
    join to it."""

    kind: ClassVar[str] = "caller_lost"
    answered: bool
    join_wall: float
    last_seen: float
    waited: float


@dataclass(slots=True)
class Announcement(CallerEvent):
    """Something for the IVR to play to ``caller``.

    ``what`` is "position" (say ``position``, or "more than ``more_than``" callers, and/or
    the estimated hold time ``holdtime_minutes``/``holdtime_seconds``; None means "do
    not say") or "periodic" (play ``prompt``)."""

    kind: ClassVar[str] = "announcement"
    what: str
    position: Optional[int] = None
    more_than: Optional[int] = None
    holdtime_minutes: Optional[int] = None
    holdtime_seconds: Optional[int] = None
    prompt: str = ""


@dataclass(slots=True)
class CallerPenaltyChanged(CallerEvent):
    """Escalation widened (or moved) ``caller``'s penalty window; members below
    ``raise_penalty`` now count as having it."""

    kind: ClassVar[str] = "caller_penalty_changed"
    min_penalty: int
    max_penalty: Optional[int]
    raise_penalty: int = 0


@dataclass(slots=True)
class CallerPriorityChanged(CallerEvent):
    kind: ClassVar[str] = "caller_priority_changed"
    priority: int
    position: int


@dataclass(slots=True)
class MemberAdded(MemberEvent):
    """``agent`` now serves ``queue`` (login, or a membership added while logged in)."""

    kind: ClassVar[str] = "member_added"
    penalty: int
    paused: bool


@dataclass(slots=True)
class MemberRemoved(MemberEvent):
    kind: ClassVar[str] = "member_removed"


@dataclass(slots=True)
class MembershipChanged(MemberEvent):
    """``agent`` was made a member of ``queue`` (``member`` True) or taken out of it at
    run time, logged in or not (MemberAdded/MemberRemoved only tell of logged-in
    agents); the store keeps it across restarts.  Not a queue_log line."""

    kind: ClassVar[str] = "membership_changed"
    member: bool


@dataclass(slots=True)
class MemberPenaltyChanged(MemberEvent):
    kind: ClassVar[str] = "member_penalty_changed"
    penalty: int


@dataclass(slots=True)
class AgentPaused(AcdEvent):
    """``agent`` was paused (``paused`` True) or unpaused in ``queue`` ("" = all its queues);
    ``queues`` lists the queues it applies to."""

    kind: ClassVar[str] = "agent_paused"
    agent: str
    queue: str
    queues: tuple[str, ...]
    paused: bool
    reason: str


@dataclass(slots=True)
class AgentStateChanged(AcdEvent):
    """``state`` is one of appliance.acd.agents.AGENT_STATES."""

    kind: ClassVar[str] = "agent_state"
    agent: str
    state: str
    previous: str
    reason: str = ""


EVENT_TYPES: dict[str, type[AcdEvent]] = {
    cls.kind: cls for cls in (
        EngineStarted, CallerJoined, JoinRefused, Offer, RingNoAnswer, RingCanceled, Connected,
        CallCompleted, CallerLeft, CallerLost, Announcement, CallerPenaltyChanged, CallerPriorityChanged,
        MemberAdded, MemberRemoved, MembershipChanged, MemberPenaltyChanged, AgentPaused, AgentStateChanged,
    )
}


def event_data(event: AcdEvent) -> dict[str, Any]:
    """The event's fields as a plain dict (for JSON records and the event bus).

    Fields hold plain values, so a shallow walk is enough; ``dataclasses.asdict`` deep-copies
    and cost a sixth of the service's CPU under load.
    """
    return {name: getattr(event, name) for name in _field_names(type(event))}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))
