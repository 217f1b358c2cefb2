"""Queues and callers at run time, and app_queue's "is this queue empty?" test."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from appliance.acd.agents import AgentRuntime, MemberRuntime
from appliance.acd.config import PenaltyRule, QueueConfig
from appliance.acd.escalation import admits

__all__ = ["QueueRuntime", "CallerRuntime", "AbandonedRecord", "member_present", "CallerStatus", "QueueStatus"]


@dataclass(frozen=True)
class AbandonedRecord:
    """A caller who hung up while waiting, kept for the abandoned-resume window."""

    caller: str
    callerid: str
    abandoned_at: float
    seq: int
    join_time: float
    join_wall: float
    origposition: int
    priority: int
    waited: float


class QueueRuntime:
    __slots__ = ("config", "name", "idx", "strategy", "holdtime", "members", "callers",
                 "abandoned", "rules", "join_conditions", "leave_conditions")

    def __init__(self, config: QueueConfig, idx: int) -> None:
        self.name = config.name
        self.idx = idx                      # queue id in the routing core
        self.holdtime = 0.0                 # app_queue's running hold-time average (EHT)
        self.members: dict[str, AgentRuntime] = {}        # agent id -> agent, config order
        self.callers: dict[int, "CallerRuntime"] = {}      # core caller id -> caller
        self.abandoned: dict[str, AbandonedRecord] = {}    # callerid -> last abandon
        self.configure(config)

    def configure(self, config: QueueConfig) -> None:
        """Take ``config`` and what follows from it (also on a reload)."""
        self.config = config
        self.strategy = config.canonical_strategy
        self.rules: tuple[PenaltyRule, ...] = tuple(sorted(config.penaltychange, key=lambda r: r.after))
        self.join_conditions = config.join_conditions
        self.leave_conditions = config.leave_conditions

    def record_holdtime(self, holdtime: float) -> None:
        # app_queue: holdtime = (3 * holdtime + new) / 4
        self.holdtime = (3 * self.holdtime + holdtime) / 4


class CallerRuntime:
    __slots__ = (
        "id", "queue", "idx", "callerid", "priority", "seq", "join_time", "join_wall",
        "origposition", "min_penalty", "max_penalty", "raise_penalty", "state", "offers", "agent", "answer_time", "answer_wall",
        "rules", "rule_index", "timers", "last_announce", "last_position_said", "announced",
        "periodic_index",
    )

    def __init__(self, caller_id: str, queue: QueueRuntime, callerid: str, priority: int, seq: int,
                 join_time: float, join_wall: float) -> None:
        self.id = caller_id
        self.queue = queue
        self.idx = -1
        self.callerid = callerid
        self.priority = priority
        self.seq = seq
        self.join_time = join_time
        self.join_wall = join_wall
        self.origposition = 0
        self.min_penalty = 0
        self.max_penalty = 0
        self.raise_penalty = 0             # members below count as this (app_queue QUEUE_RAISE_PENALTY)
        self.state = "waiting"              # waiting | offered | retry | talking
        self.offers: dict[str, tuple[float, Any]] = {}  # agent id -> (offered at, ring timer)
        self.agent: Optional[AgentRuntime] = None
        self.answer_time = 0.0
        self.answer_wall = 0.0
        self.rules: tuple[PenaltyRule, ...] = ()
        self.rule_index = 0
        self.timers: dict[str, Any] = {}    # name -> timer handle (max_wait, rule, announce, ...)
        self.last_announce: Optional[float] = None
        self.last_position_said = 0
        self.announced = False
        self.periodic_index = 0

    def cancel_timers(self) -> None:
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()


def member_present(agent: AgentRuntime, member: MemberRuntime, conditions: frozenset[str],
                   min_penalty: int, max_penalty: int, raise_penalty: int = 0) -> bool:
    """app_queue's get_member_status for one member: does it count as "there" for a
    caller with this penalty window, under joinempty/leavewhenempty ``conditions``?
    Logged-out agents are not members at all (login adds them, as AddQueueMember)."""
    if not agent.logged_in:
        return False
    if "penalty" in conditions and not admits(member.penalty, min_penalty, max_penalty, raise_penalty):
        return False
    device = agent.device
    if device in ("invalid", "unavailable", "unknown") and device in conditions:
        return False
    if "inuse" in conditions and (agent.activity == "talking" or device == "inuse"):
        return False
    if "ringing" in conditions and agent.activity in ("reserved", "ringing"):
        return False
    if "paused" in conditions and member.paused:
        return False
    if "wrapup" in conditions and agent.activity == "wrapup":
        return False
    return True


@dataclass(frozen=True)
class CallerStatus:
    id: str
    queue: str
    state: str
    position: int
    priority: int
    waited: float
    min_penalty: int
    max_penalty: Optional[int]
    agents: tuple[str, ...]
    raise_penalty: int = 0


@dataclass(frozen=True)
class QueueStatus:
    name: str
    strategy: str
    callers: tuple[CallerStatus, ...]
    members: tuple[dict[str, Any], ...]
    holdtime: float
