"""The ``queues`` and ``agents`` sections of the box configuration, as frozen dataclasses.

Field names follow Asterisk's queues.conf where one exists (``strategy``, ``timeout``,
``retry``, ``wrapuptime``, ``maxlen``, ``weight``, ``ringinuse``, ``autopause``,
``joinempty``, ``leavewhenempty``, ``announce_frequency`` ...) and mod_callcenter's
otherwise (``max_no_answer``, ``tier_rule_*``, ``abandoned_resume_allowed``,
``discard_abandoned_after``).  Types are limited to what the box's generic loader
validates (Literal, int/float/str/bool, tuple, nested dataclasses, Optional, and
``{"min": .., "max": ..}`` metadata); the few string mini-languages Asterisk users
know (``joinempty = paused,inuse``, ``penaltychange => 30,+2``) are checked here in
``__post_init__`` and raise :class:`BadInput` naming the field.

Example (YAML)::

    queues:
      - name: sales
        strategy: rrmemory
        timeout: 15
        wrapuptime: 10
        servicelevel: [20, 60]
        penaltychange: [{after: 30, max_penalty: "+2"}, {after: 60, raise_penalty: "1"}]
    agents:
      - id: "1001"
        queues: [{queue: sales, penalty: 0}]
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Optional

from appliance.acd.strategies import resolve
from appliance.errors import BadInput

__all__ = [
    "QueueConfig", "AgentConfig", "Membership", "PenaltyRule",
    "EMPTY_CONDITIONS", "parse_empty_conditions", "validate_acd",
]

StrategyName = Literal[
    "ringall", "ring-all", "leastrecent", "longest-idle-agent", "fewestcalls",
    "agent-with-fewest-calls", "least-talk-time", "agent-with-least-talk-time", "random",
    "wrandom", "rrmemory", "round-robin", "rrordered", "linear",
    "sequentially-by-agent-order", "top-down", "ring-progressively",
]

# app_queue's joinempty / leavewhenempty conditions: a member counts as present unless
# one of the listed conditions rules it out.
EMPTY_CONDITIONS = ("penalty", "paused", "inuse", "ringing", "unavailable", "invalid", "unknown", "wrapup")
_EMPTY_WORDS = {
    # app_queue's backwards-compatible words, per option.
    "joinempty": {"yes": (), "no": ("penalty", "paused", "invalid"),
                  "strict": ("penalty", "paused", "invalid", "unavailable"), "loose": ("penalty", "invalid")},
    "leavewhenempty": {"yes": ("penalty", "paused", "invalid"), "no": (),
                       "strict": ("penalty", "paused", "invalid", "unavailable"), "loose": ("penalty", "invalid")},
}
_EXIT_KEYS = set("0123456789*#")
#: an agent's interface: extension NUMBER on agent span N, written "spanN/NUMBER"
AGENT_INTERFACE = re.compile(r"^span(?P<span>\d+)/(?P<number>[0-9*#]{1,32})$")


def parse_empty_conditions(option: str, value: str) -> frozenset[str]:
    """``"paused,inuse"`` or ``"yes"``/``"no"``/``"strict"``/``"loose"`` -> the condition set."""
    text = value.strip().lower()
    if text in _EMPTY_WORDS[option]:
        return frozenset(_EMPTY_WORDS[option][text])
    words = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in words if w not in EMPTY_CONDITIONS]
    if unknown:
        raise BadInput(f"{option}: unknown condition {unknown[0]!r} "
                       f"(use yes, no, strict, loose or a list of {', '.join(EMPTY_CONDITIONS)})")
    return frozenset(words)


def _parse_penalty_change(name: str, text: str) -> tuple[bool, int] | None:
    """``""`` -> None (unchanged); ``"+2"``/``"-1"`` -> relative; ``"5"`` -> absolute."""
    text = text.strip()
    if not text:
        return None
    relative = text[0] in "+-"
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"penaltychange: {name} {text!r} is not a number, +N or -N") from None
    if not relative and value < 0:
        raise BadInput(f"penaltychange: {name} {text!r} must not be negative")
    return relative, value


def _changed(name: str, text: str, current: int) -> int:
    """``current`` moved by the rule's ``text`` for ``name``, never below 0 (app_queue)."""
    change = _parse_penalty_change(name, text)
    if change is None:
        return current
    relative, value = change
    return max(0, current + value if relative else value)


@dataclass(frozen=True)
class PenaltyRule:
    """app_queue's ``penaltychange => after,max[,min[,raise]]``: after ``after`` seconds
    of waiting, the caller's max, min and raise penalties become absolute ``"5"`` or
    move by ``"+2"``/``"-1"``; ``""`` leaves one unchanged.

    ``raise_penalty`` (Asterisk 13.16+, QUEUE_RAISE_PENALTY): members whose penalty is
    below it count as having exactly it, both for the window and for the ring order.
    A caller starts at the queue's ``raise_penalty`` (0: nobody is raised), so a rule
    like ``{after: 30, raise_penalty: "2"}`` acts without a starting value, the way
    qbox's min penalty does (app_queue moves it only if the dialplan set it first).
    """

    after: float = field(metadata={"min": 0})
    max_penalty: str = ""
    min_penalty: str = ""
    raise_penalty: str = ""

    def __post_init__(self) -> None:
        for name in ("max_penalty", "min_penalty", "raise_penalty"):
            _parse_penalty_change(name, getattr(self, name))

    def apply(self, min_penalty: int, max_penalty: int, raise_penalty: int,
              unlimited: int) -> tuple[int, int, int]:
        """The caller's new ``(min, max, raise)``, clamped as app_queue's update_qe_rule:
        an unlimited max stays unlimited, min never goes above max, raise is free."""
        new_max = max_penalty
        if max_penalty != unlimited:
            new_max = _changed("max_penalty", self.max_penalty, max_penalty)
        new_min = _changed("min_penalty", self.min_penalty, min_penalty)
        return min(new_min, new_max), new_max, _changed("raise_penalty", self.raise_penalty, raise_penalty)


@dataclass(frozen=True)
class QueueConfig:
    """One queue.  Times are seconds; 0 switches a timer off unless said otherwise."""

    name: str
    strategy: StrategyName = "ringall"
    weight: int = field(default=0, metadata={"min": 0})           # higher wins agents shared with other queues
    timeout: float = field(default=15.0, metadata={"min": 1})     # ring an agent this long before RINGNOANSWER
    retry: float = field(default=5.0, metadata={"min": 0})        # pause after a ring round before the next
    wrapuptime: float = field(default=0.0, metadata={"min": 0})   # agent rests after a call (all queues)
    maxlen: int = field(default=0, metadata={"min": 0})           # 0: no limit
    ringinuse: bool = False                                       # offer agents whose device is busy elsewhere
    autopause: Literal["no", "yes", "all"] = "no"                 # pause this queue / all queues on no answer
    max_no_answer: int = field(default=1, metadata={"min": 1})    # ... after this many in a row
    joinempty: str = "yes"                                        # app_queue conditions, see EMPTY_CONDITIONS
    leavewhenempty: str = "no"
    max_wait: float = field(default=0.0, metadata={"min": 0})     # then EXITWITHTIMEOUT to `overflow`
    overflow: str = ""
    exit_keys: str = ""                                           # digits that leave the queue (EXITWITHKEY)
    min_penalty: int = field(default=0, metadata={"min": 0})      # callers' starting window
    max_penalty: Optional[int] = field(default=None, metadata={"min": 0})
    raise_penalty: int = field(default=0, metadata={"min": 0})    # members below count as this (0: none)
    penaltychange: tuple[PenaltyRule, ...] = ()
    tier_rules_apply: bool = False                                # mod_callcenter tier wait rules
    tier_rule_wait_second: float = field(default=0.0, metadata={"min": 0})
    tier_rule_wait_multiply_level: bool = True
    tier_rule_no_agent_no_wait: bool = False
    ring_progressively_delay: float = field(default=10.0, metadata={"min": 0})
    announce_frequency: float = field(default=0.0, metadata={"min": 0})
    min_announce_frequency: float = field(default=15.0, metadata={"min": 0})
    announce_position: Literal["no", "yes", "limit", "more"] = "no"
    announce_position_limit: int = field(default=5, metadata={"min": 1})
    announce_holdtime: Literal["no", "yes", "once"] = "no"
    announce_round_seconds: Literal[0, 1, 5, 10, 15, 20, 30] = 0
    periodic_announce: tuple[str, ...] = ()
    periodic_announce_frequency: float = field(default=0.0, metadata={"min": 0})
    random_periodic_announce: bool = False
    servicelevel: tuple[float, ...] = (20.0,)                     # SL thresholds, seconds
    abandoned_resume_allowed: bool = False
    discard_abandoned_after: float = field(default=60.0, metadata={"min": 0})

    def __post_init__(self) -> None:
        where = f"queue {self.name!r}"
        if not self.name or "|" in self.name:
            raise BadInput(f"queue name {self.name!r} must be non-empty and contain no '|'")
        try:
            resolve(self.strategy)
            parse_empty_conditions("joinempty", self.joinempty)
            parse_empty_conditions("leavewhenempty", self.leavewhenempty)
            for rule in self.penaltychange:
                if not isinstance(rule, PenaltyRule):
                    raise BadInput("penaltychange: entries must be PenaltyRule")
        except BadInput as exc:
            raise BadInput(f"{where}: {exc}") from None
        bad_keys = set(self.exit_keys) - _EXIT_KEYS
        if bad_keys:
            raise BadInput(f"{where}: exit_keys: {''.join(sorted(bad_keys))!r} are not DTMF digits")
        if not self.servicelevel or any(t <= 0 for t in self.servicelevel):
            raise BadInput(f"{where}: servicelevel: give one or more thresholds > 0 seconds")
        for name in ("weight", "maxlen", "min_penalty", "raise_penalty", "timeout", "retry", "wrapuptime",
                     "max_wait"):
            if getattr(self, name) < 0:
                raise BadInput(f"{where}: {name} must not be negative")
        if self.max_penalty is not None and self.max_penalty < self.min_penalty:
            raise BadInput(f"{where}: max_penalty must be >= min_penalty")

    @property
    def canonical_strategy(self) -> str:
        return resolve(self.strategy).name

    @property
    def join_conditions(self) -> frozenset[str]:
        return parse_empty_conditions("joinempty", self.joinempty)

    @property
    def leave_conditions(self) -> frozenset[str]:
        return parse_empty_conditions("leavewhenempty", self.leavewhenempty)


@dataclass(frozen=True)
class Membership:
    """An agent's place in one queue; ``penalty`` is the skill level (0 = best)."""

    queue: str
    penalty: int = field(default=0, metadata={"min": 0})

    def __post_init__(self) -> None:
        if self.penalty < 0:
            raise BadInput(f"queue {self.queue!r}: penalty {self.penalty} must not be negative")


@dataclass(frozen=True)
class AgentConfig:
    """One agent.  ``membername`` is what queue_log's agent column shows (default: id);
    ``wrapuptime`` overrides the queues' when set.  Queues list their members in the
    order agents appear in the section (linear, rrordered)."""

    id: str
    name: str = ""
    membername: str = ""
    interface: str = ""        # where the service rings the agent: "span3/8001" (default: the id on the first agent span)
    wrapuptime: Optional[float] = field(default=None, metadata={"min": 0})
    queues: tuple[Membership, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or "|" in self.id:
            raise BadInput(f"agent id {self.id!r} must be non-empty and contain no '|'")
        if self.wrapuptime is not None and self.wrapuptime < 0:
            raise BadInput(f"agent {self.id!r}: wrapuptime must not be negative")
        if self.interface and not AGENT_INTERFACE.match(self.interface):
            raise BadInput(f"agent {self.id!r}: interface {self.interface!r} is not like 'span3/8001'")

    @property
    def log_name(self) -> str:
        return self.membername or self.id


def validate_acd(queues: Iterable[QueueConfig], agents: Iterable[AgentConfig]) -> None:
    """Cross-checks: unique names, memberships naming known queues, once each."""
    queue_names: set[str] = set()
    for q in queues:
        if q.name in queue_names:
            raise BadInput(f"queues: {q.name!r} is defined twice")
        queue_names.add(q.name)
    agent_ids: set[str] = set()
    for agent in agents:
        if agent.id in agent_ids:
            raise BadInput(f"agents: {agent.id!r} is defined twice")
        agent_ids.add(agent.id)
        seen: set[str] = set()
        for member in agent.queues:
            if member.queue not in queue_names:
                raise BadInput(f"agent {agent.id!r}: unknown queue {member.queue!r}")
            if member.queue in seen:
                raise BadInput(f"agent {agent.id!r}: queue {member.queue!r} listed twice")
            seen.add(member.queue)
