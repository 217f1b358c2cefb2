"""Service levels and agent occupancy, kept from the engine's events.

Calls count in the 15-minute interval (wall clock) in which they joined, the usual
workforce-management convention, so offered, answered and abandoned of one interval
are the same calls.  Per queue and threshold ``T`` (the queue's ``servicelevel``):

* SL  = answered within T / answered
* SL2 = (answered within T + abandoned within T) / (answered + abandoned)
* ASA = mean wait of answered calls; AHT = (talk + wrap-up) / completed calls
* abandon rate = abandoned / offered; longest wait = the longest any caller of the
  interval waited (answered or not).
* lost = callers the service lost while they waited (it died; see
  :mod:`appliance.acd.recovery`), lost_in_call = answered callers whose call it lost.
  They are kept apart from abandoned, timed out and completed, so SL, abandon rate and
  AHT count only what callers and agents did.

Per agent: seconds in each state and occupancy = (talking + wrap-up) / (available +
reserved + ringing + talking + wrap-up); paused and logged-out time do not count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from appliance.acd import events as ev

__all__ = ["INTERVAL", "IntervalStats", "AgentTimes", "StatsBook", "interval_start"]

INTERVAL = 900.0
_WORKING = ("available", "reserved", "ringing", "talking", "wrapup")


def interval_start(wall: float, length: float = INTERVAL) -> float:
    return wall - wall % length


@dataclass
class IntervalStats:
    thresholds: tuple[float, ...]
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    timed_out: int = 0
    exited_empty: int = 0
    exited_key: int = 0
    completed: int = 0
    lost: int = 0
    lost_in_call: int = 0
    wait_answered: float = 0.0
    wait_abandoned: float = 0.0
    talk: float = 0.0
    wrapup: float = 0.0
    longest_wait: float = 0.0
    answered_within: dict[float, int] = field(default_factory=dict)
    abandoned_within: dict[float, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for t in self.thresholds:
            self.answered_within.setdefault(t, 0)
            self.abandoned_within.setdefault(t, 0)

    def service_level(self, threshold: float) -> Optional[float]:
        return self.answered_within[threshold] / self.answered if self.answered else None

    def service_level2(self, threshold: float) -> Optional[float]:
        handled = self.answered + self.abandoned
        if not handled:
            return None
        return (self.answered_within[threshold] + self.abandoned_within[threshold]) / handled

    @property
    def asa(self) -> Optional[float]:
        return self.wait_answered / self.answered if self.answered else None

    @property
    def aht(self) -> Optional[float]:
        return (self.talk + self.wrapup) / self.completed if self.completed else None

    @property
    def abandon_rate(self) -> Optional[float]:
        return self.abandoned / self.offered if self.offered else None

    def merge(self, other: "IntervalStats") -> None:
        for name in ("offered", "answered", "abandoned", "timed_out", "exited_empty", "exited_key",
                     "completed", "lost", "lost_in_call", "wait_answered", "wait_abandoned", "talk", "wrapup"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_wait = max(self.longest_wait, other.longest_wait)
        for t in self.thresholds:
            self.answered_within[t] += other.answered_within.get(t, 0)
            self.abandoned_within[t] += other.abandoned_within.get(t, 0)

    def summary(self) -> dict[str, Any]:
        """Plain figures for JSON views."""
        return {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "timed_out": self.timed_out, "exited_empty": self.exited_empty, "exited_key": self.exited_key,
            "lost": self.lost, "lost_in_call": self.lost_in_call,
            "service_level": {str(t): self.service_level(t) for t in self.thresholds},
            "service_level2": {str(t): self.service_level2(t) for t in self.thresholds},
            "asa": self.asa, "aht": self.aht, "abandon_rate": self.abandon_rate,
            "longest_wait": self.longest_wait,
        }


@dataclass
class AgentTimes:
    seconds: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    state: str = "logged_out"
    since: float = 0.0          # engine clock time the current state began

    def enter(self, state: str, time: float) -> float:
        """The agent entered ``state`` at ``time``: the state left gets its seconds;
        returns them."""
        spent = time - self.since
        if self.state != "logged_out" and spent > 0:
            self.seconds[self.state] = self.seconds.get(self.state, 0.0) + spent
        self.state, self.since = state, time
        return spent

    def total(self, state: str, now: Optional[float] = None) -> float:
        extra = now - self.since if now is not None and state == self.state else 0.0
        return self.seconds.get(state, 0.0) + extra

    def occupancy(self, now: Optional[float] = None) -> Optional[float]:
        working = sum(self.total(s, now) for s in _WORKING)
        busy = self.total("talking", now) + self.total("wrapup", now)
        return busy / working if working else None


class StatsBook:
    """Subscribe :meth:`on_event` to an engine.  ``touched`` collects the (queue, interval)
    keys and agents changed since the last :meth:`take_touched` (the store saves those)."""

    def __init__(self, thresholds: Mapping[str, tuple[float, ...]], interval: float = INTERVAL) -> None:
        self.thresholds = dict(thresholds)
        self.interval = interval
        self.intervals: dict[str, dict[float, IntervalStats]] = {q: {} for q in self.thresholds}
        self.agents: dict[str, AgentTimes] = {}
        self._last_call: dict[str, tuple[str, float]] = {}   # agent -> (queue, interval) of its last call
        self.touched: set[tuple[str, float]] = set()
        self.touched_agents: set[str] = set()

    @classmethod
    def for_engine(cls, engine: Any) -> "StatsBook":
        return cls({name: q.config.servicelevel for name, q in engine.queues.items()})

    def _bucket(self, queue: str, join_wall: float) -> IntervalStats:
        return self._bucket_at(queue, interval_start(join_wall, self.interval))

    def _bucket_at(self, queue: str, start: float) -> IntervalStats:
        per_queue = self.intervals.setdefault(queue, {})
        stats = per_queue.get(start)
        if stats is None:
            stats = per_queue[start] = IntervalStats(self.thresholds.get(queue, (20.0,)))
        self.touched.add((queue, start))
        return stats

    def take_touched(self) -> tuple[set[tuple[str, float]], set[str]]:
        touched, agents = self.touched, self.touched_agents
        self.touched, self.touched_agents = set(), set()
        return touched, agents

    def on_event(self, event: ev.AcdEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event)

    def _joined(self, e: ev.CallerJoined) -> None:
        stats = self._bucket(e.queue, e.join_wall)
        if e.resumed:   # the abandon it comes back from was not a lost call after all
            stats.abandoned -= 1
            stats.wait_abandoned -= e.abandoned_wait
            for t in stats.thresholds:
                if e.abandoned_wait <= t:
                    stats.abandoned_within[t] -= 1
        else:
            stats.offered += 1

    def _connected(self, e: ev.Connected) -> None:
        stats = self._bucket(e.queue, e.join_wall)
        stats.answered += 1
        stats.wait_answered += e.holdtime
        stats.longest_wait = max(stats.longest_wait, e.holdtime)
        for t in stats.thresholds:
            if e.holdtime <= t:
                stats.answered_within[t] += 1

    def _completed(self, e: ev.CallCompleted) -> None:
        stats = self._bucket(e.queue, e.join_wall)
        stats.completed += 1
        stats.talk += e.talktime
        self._last_call[e.agent] = (e.queue, interval_start(e.join_wall, self.interval))
        times = self.agents.setdefault(e.agent, AgentTimes())
        times.calls += 1
        self.touched_agents.add(e.agent)

    def _left(self, e: ev.CallerLeft) -> None:
        stats = self._bucket(e.queue, e.join_wall)
        stats.longest_wait = max(stats.longest_wait, e.waited)
        if e.reason == "abandon":
            stats.abandoned += 1
            stats.wait_abandoned += e.waited
            for t in stats.thresholds:
                if e.waited <= t:
                    stats.abandoned_within[t] += 1
        elif e.reason == "timeout":
            stats.timed_out += 1
        elif e.reason == "empty":
            stats.exited_empty += 1
        elif e.reason == "key":
            stats.exited_key += 1

    def _lost(self, e: ev.CallerLost) -> None:
        stats = self._bucket(e.queue, e.join_wall)
        if e.answered:
            stats.lost_in_call += 1
        else:
            stats.lost += 1
            stats.longest_wait = max(stats.longest_wait, e.waited)

    def _refused(self, e: ev.JoinRefused) -> None:
        # Refused callers were offered to the queue and not served.
        self._bucket(e.queue, e.wall).offered += 1

    def _agent_state(self, e: ev.AgentStateChanged) -> None:
        times = self.agents.get(e.agent)
        if times is None:
            times = self.agents[e.agent] = AgentTimes(since=e.time)
        left = times.state
        spent = times.enter(e.state, e.time)
        if left == "wrapup" and e.agent in self._last_call:
            self._bucket_at(*self._last_call[e.agent]).wrapup += spent
        self.touched_agents.add(e.agent)

    def _started(self, e: ev.EngineStarted) -> None:
        # After a restart every agent's current state begins now.
        for times in self.agents.values():
            times.since = e.time

    _handlers = {
        ev.CallerJoined: _joined, ev.Connected: _connected, ev.CallCompleted: _completed,
        ev.CallerLeft: _left, ev.CallerLost: _lost, ev.JoinRefused: _refused, ev.AgentStateChanged: _agent_state,
        ev.EngineStarted: _started,
    }

    def total(self, queue: str) -> IntervalStats:
        """All intervals of ``queue`` summed."""
        total = IntervalStats(self.thresholds.get(queue, (20.0,)))
        for stats in self.intervals.get(queue, {}).values():
            total.merge(stats)
        return total

    def restore(self, intervals: Mapping[str, Mapping[float, IntervalStats]],
                agents: Mapping[str, AgentTimes], now: float, states: Mapping[str, str]) -> None:
        """Load what the store kept; agents' current states (after restore) begin ``now``."""
        for queue, per_queue in intervals.items():
            self.intervals.setdefault(queue, {}).update(per_queue)
        for agent, times in agents.items():
            times.state = states.get(agent, "logged_out")
            times.since = now
            self.agents[agent] = times
