"""Agents at run time: the lifecycle states and what the engine keeps per agent.

An agent's reported state is derived, never stored twice:

* ``logged_out`` - not logged in;
* ``reserved`` / ``ringing`` / ``talking`` / ``wrapup`` - its activity, whatever else;
* ``paused`` - idle, and paused in every queue it serves (on break, with a reason);
* ``available`` - idle and takes calls from at least one queue.

Wrap-up belongs to the agent, not to a queue: while it runs no queue offers the agent
anything, and only its own timer ends it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from appliance.acd.config import AgentConfig

__all__ = [
    "AGENT_STATES", "DEVICE_STATES", "MemberRuntime", "AgentRuntime", "AgentRecord", "AgentStatus",
]

AGENT_STATES = ("logged_out", "available", "paused", "reserved", "ringing", "talking", "wrapup")
# Device states the call service reports for an agent's phone or channel (app_queue's names).
DEVICE_STATES = ("not_inuse", "inuse", "unavailable", "invalid", "unknown")
AUTOPAUSE_REASON = "Auto-Pause"


class MemberRuntime:
    """An agent's membership of one queue."""

    __slots__ = ("queue", "penalty", "idx", "paused", "pause_reason", "calls")

    def __init__(self, queue: str, penalty: int, idx: int) -> None:
        self.queue = queue
        self.penalty = penalty
        self.idx = idx                  # membership id in the routing core
        self.paused = False
        self.pause_reason = ""
        self.calls = 0


class AgentRuntime:
    __slots__ = (
        "config", "id", "idx", "logged_in", "activity", "device", "members", "offer", "call",
        "no_answer_streak", "calls", "talk_time", "last_call_end", "wrapup_timer",
        "logout_pending", "pause_reason", "state",
    )

    def __init__(self, config: AgentConfig, idx: int) -> None:
        self.config = config
        self.id = config.id
        self.idx = idx                  # agent id in the routing core
        self.logged_in = False
        self.activity = "idle"          # idle | reserved | ringing | talking | wrapup
        self.device = "not_inuse"
        self.members: dict[str, MemberRuntime] = {}
        self.offer: Any = None          # the CallerRuntime being offered to this agent
        self.call: Any = None           # the CallerRuntime this agent talks to
        self.no_answer_streak = 0
        self.calls = 0
        self.talk_time = 0.0
        self.last_call_end: Optional[float] = None   # engine clock seconds
        self.wrapup_timer: Any = None
        self.logout_pending = False
        self.pause_reason = ""
        self.state = "logged_out"       # last state announced (AgentStateChanged)

    def derive_state(self) -> str:
        if not self.logged_in:
            return "logged_out"
        if self.activity != "idle":
            return self.activity
        for member in self.members.values():
            if not member.paused:
                return "available"
        return "paused" if self.members else "available"

    @property
    def free(self) -> bool:
        """Could take a call now, in some queue (the core still checks per-queue pauses)."""
        return (self.logged_in and self.activity == "idle" and not self.logout_pending
                and self.device not in ("unavailable", "invalid"))


@dataclass(frozen=True)
class AgentRecord:
    """What the store keeps of an agent across restarts (times are epoch seconds)."""

    id: str
    logged_in: bool = False
    pause_reason: str = ""
    calls: int = 0
    talk_time: float = 0.0
    last_call_end_wall: Optional[float] = None
    # queue -> (penalty, paused, pause reason, calls answered there)
    members: dict[str, tuple[int, bool, str, int]] = field(default_factory=dict)
    # queues its configuration lists that it was taken out of at run time
    removed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AgentStatus:
    """A view for the service and the CLI."""

    id: str
    state: str
    reason: str
    device: str
    queues: dict[str, dict[str, Any]]
    calls: int
    talk_time: float
    caller: Optional[str]
