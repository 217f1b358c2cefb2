"""What the ACD engine tells its subscribers: one small record per happening.

Every event carries ``time`` (the engine clock's monotonic seconds) and ``wall``
(epoch seconds, for records).  Subscribers (the stats book, the store recorder, the
queue_log writer, the call service) receive them in order, after the engine's state
already reflects them.  ``kind`` names the event in the store and in logs.

Events are plain data: treat them as read-only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Optional

__all__ = [
    "AcdEvent", "EngineStarted", "CallerJoined", "JoinRefused", "Offer", "RingNoAnswer",
    "RingCanceled", "Connected", "CallCompleted", "CallerLeft", "Announcement",
    "CallerPenaltyChanged", "CallerPriorityChanged", "MemberAdded", "MemberRemoved",
    "MemberPenaltyChanged", "AgentPaused", "AgentStateChanged", "EVENT_TYPES", "event_data",
]


@dataclass(slots=True)
class AcdEvent:
    kind: ClassVar[str] = "event"
    time: float
    wall: float


@dataclass(slots=True)
class EngineStarted(AcdEvent):
    """The engine is up (queue_log QUEUESTART)."""

    kind: ClassVar[str] = "engine_started"


@dataclass(slots=True)
class CallerJoined(AcdEvent):
    """A caller entered ``queue`` at ``position``.  ``resumed`` marks a caller back within
    the abandoned-resume window: ``join_wall`` is then the original join and
    ``abandoned_wait`` how long it had waited before hanging up."""

    kind: ClassVar[str] = "caller_joined"
    queue: str
    caller: str
    callerid: str
    priority: int
    position: int
    join_wall: float
    resumed: bool = False
    abandoned_wait: float = 0.0


@dataclass(slots=True)
class JoinRefused(AcdEvent):
    """``reason``: "full" (maxlen) or "joinempty" (no member passes joinempty)."""

    kind: ClassVar[str] = "join_refused"
    queue: str
    caller: str
    callerid: str
    reason: str


@dataclass(slots=True)
class Offer(AcdEvent):
    """Ring ``agent`` for ``caller`` now; the engine gives up after ``timeout`` seconds."""

    kind: ClassVar[str] = "offer"
    queue: str
    caller: str
    agent: str
    timeout: float


@dataclass(slots=True)
class RingNoAnswer(AcdEvent):
    """``agent`` did not take ``caller`` (``reason``: "timeout" or "declined")."""

    kind: ClassVar[str] = "ring_no_answer"
    queue: str
    caller: str
    agent: str
    ringtime: float
    reason: str


@dataclass(slots=True)
class RingCanceled(AcdEvent):
    """Stop ringing ``agent``: ``reason`` "answered_elsewhere", "caller_left" or "agent_left"."""

    kind: ClassVar[str] = "ring_canceled"
    queue: str
    caller: str
    agent: str
    ringtime: float
    reason: str


@dataclass(slots=True)
class Connected(AcdEvent):
    """``agent`` answered ``caller`` after ``holdtime`` seconds in queue (queue_log CONNECT)."""

    kind: ClassVar[str] = "connected"
    queue: str
    caller: str
    agent: str
    holdtime: float
    ringtime: float
    join_wall: float
    agent_call: str = ""     # the agent leg's unique id, when the service knows it


@dataclass(slots=True)
class CallCompleted(AcdEvent):
    """The call ended: ``by`` is "caller", "agent" or "transfer" (to ``extension``)."""

    kind: ClassVar[str] = "call_completed"
    queue: str
    caller: str
    agent: str
    by: str
    holdtime: float
    talktime: float
    origposition: int
    join_wall: float
    extension: str = ""


@dataclass(slots=True)
class CallerLeft(AcdEvent):
    """A waiting caller left unserved.  ``reason``: "abandon" (hung up), "timeout" (max_wait:
    send it to ``destination``), "empty" (leavewhenempty) or "key" (pressed ``key``)."""

    kind: ClassVar[str] = "caller_left"
    queue: str
    caller: str
    reason: str
    position: int
    origposition: int
    waited: float
    join_wall: float
    key: str = ""
    destination: str = ""


@dataclass(slots=True)
class Announcement(AcdEvent):
    """Something for the IVR to play to ``caller``.

    ``what`` is "position" (say ``position``, or "more than ``more_than``" callers, and/or
    the estimated hold time ``holdtime_minutes``/``holdtime_seconds``; None means "do
    not say") or "periodic" (play ``prompt``)."""

    kind: ClassVar[str] = "announcement"
    queue: str
    caller: str
    what: str
    position: Optional[int] = None
    more_than: Optional[int] = None
    holdtime_minutes: Optional[int] = None
    holdtime_seconds: Optional[int] = None
    prompt: str = ""


@dataclass(slots=True)
class CallerPenaltyChanged(AcdEvent):
    """Escalation widened (or moved) ``caller``'s penalty window."""

    kind: ClassVar[str] = "caller_penalty_changed"
    queue: str
    caller: str
    min_penalty: int
    max_penalty: Optional[int]


@dataclass(slots=True)
class CallerPriorityChanged(AcdEvent):
    kind: ClassVar[str] = "caller_priority_changed"
    queue: str
    caller: str
    priority: int
    position: int


@dataclass(slots=True)
class MemberAdded(AcdEvent):
    """``agent`` now serves ``queue`` (login, or a membership added while logged in)."""

    kind: ClassVar[str] = "member_added"
    queue: str
    agent: str
    penalty: int
    paused: bool


@dataclass(slots=True)
class MemberRemoved(AcdEvent):
    kind: ClassVar[str] = "member_removed"
    queue: str
    agent: str


@dataclass(slots=True)
class MemberPenaltyChanged(AcdEvent):
    kind: ClassVar[str] = "member_penalty_changed"
    queue: str
    agent: str
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
        CallCompleted, CallerLeft, Announcement, CallerPenaltyChanged, CallerPriorityChanged,
        MemberAdded, MemberRemoved, MemberPenaltyChanged, AgentPaused, AgentStateChanged,
    )
}


def event_data(event: AcdEvent) -> dict[str, Any]:
    """The event's fields as a plain dict (for JSON records)."""
    return asdict(event)
