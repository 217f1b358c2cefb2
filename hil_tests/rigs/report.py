"""What the rig saw, as plain data the demo and the benchmark print as JSON.

One :class:`CallRecord` per caller; :func:`summarise` folds them (and the agents'
and exchange's counters) into the report.  Times are seconds of run time since
the traffic started; a time is None when the call never got there.

Outcomes: ``answered`` (an agent picked the call up), ``abandoned`` (the caller hung
up while waiting in the queue: patience ran out, or the run ended), ``ivr_hangup``
(the caller hung up before reaching the queue: the run ended), ``cleared``
(the service cleared the call before an agent answered: an IVR hang-up, a
transfer, out of hours), ``rejected`` (the service refused the SETUP), ``blocked``
(no free B-channel on any trunk: never offered to the service), ``unfinished``
(still up when the rig gave up waiting).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

__all__ = ["CallRecord", "summarise", "OUTCOMES", "REPORT_VERSION"]

REPORT_VERSION = 1
OUTCOMES = ("answered", "abandoned", "ivr_hangup", "cleared", "rejected", "blocked", "unfinished")
SERVICE_LEVEL_S = 20.0


@dataclass
class CallRecord:
    number: str                                  # the caller's (calling) number
    script: tuple[str, ...]                      # the digits keyed at each prompt
    offered_at: float
    span: int | None = None
    channel: int | None = None
    connected_at: float | None = None            # CONNECT from the service
    queued_at: float | None = None               # the script is done: waiting for an agent
    answered_at: float | None = None             # an agent answered
    agent: str | None = None
    ended_at: float | None = None                # released
    outcome: str = "unfinished"
    cleared_by: str | None = None                # caller, agent (through the service), service
    cause: int | None = None
    digits: str = ""                             # every digit whose audio was sent in full

    @property
    def wait_s(self) -> float | None:
        """Time in the queue: until an agent answered or the caller gave up."""
        if self.queued_at is None:
            return None
        end = self.answered_at if self.answered_at is not None else self.ended_at
        return None if end is None else max(0.0, end - self.queued_at)

    @property
    def talk_s(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at

    def as_dict(self) -> dict:
        out = asdict(self)
        out["script"] = list(self.script)
        out["wait_s"] = _round(self.wait_s)
        out["talk_s"] = _round(self.talk_s)
        for key in ("offered_at", "connected_at", "queued_at", "answered_at", "ended_at"):
            out[key] = _round(out[key])
        return out


@dataclass
class AgentTally:
    rings: int = 0
    answered: int = 0
    no_answer: int = 0
    breaks: int = 0
    extra: Counter = field(default_factory=Counter)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def summarise(calls: Iterable[CallRecord], *, duration_s: float, agents: dict[str, AgentTally],
              counters: dict[str, int], mode: str, speed: float, seed: int) -> dict:
    """The report: totals first, then per-agent figures, the rig's counters, every call."""
    calls = list(calls)
    outcomes = Counter(c.outcome for c in calls)
    offered = [c for c in calls if c.outcome != "blocked"]
    answered = [c for c in offered if c.outcome == "answered"]
    waits = [c.wait_s for c in answered if c.wait_s is not None]
    in_level = sum(1 for w in waits if w <= SERVICE_LEVEL_S)
    return {
        "version": REPORT_VERSION,
        "mode": mode,
        "speed": speed,
        "seed": seed,
        "duration_s": round(duration_s, 3),
        "offered": len(offered),
        "answered": len(answered),
        "abandoned": outcomes["abandoned"],
        "ivr_hangups": outcomes["ivr_hangup"],
        "cleared": outcomes["cleared"],
        "rejected": outcomes["rejected"],
        "blocked": outcomes["blocked"],
        "unfinished": outcomes["unfinished"],
        "digits_pressed": sum(len(c.digits) for c in calls),
        "asa_s": _round(sum(waits) / len(waits)) if waits else None,
        "service_level": {str(int(SERVICE_LEVEL_S)): round(in_level / len(answered), 4) if answered else None},
        "agent_rings": sum(a.rings for a in agents.values()),
        "agent_no_answer": sum(a.no_answer for a in agents.values()),
        "agent_breaks": sum(a.breaks for a in agents.values()),
        "agents": {name: {"rings": a.rings, "answered": a.answered, "no_answer": a.no_answer,
                          "breaks": a.breaks, **a.extra} for name, a in sorted(agents.items())},
        "counters": dict(sorted(counters.items())),
        "calls": [c.as_dict() for c in calls],
    }
