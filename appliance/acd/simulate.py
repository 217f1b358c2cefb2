"""Capacity simulation through the real engine, in simulated time.

Poisson arrivals, exponential handling times and (optionally) exponential patience
drive an :class:`AcdEngine` on a :class:`ManualClock`: the same code that queues live
calls, the same :class:`StatsBook` that reports them.  Agents answer the moment they
are offered (no ring time, no wrap-up), which is the M/M/n(+M) model Erlang C and
Erlang A describe, so the two can be compared.

Arrivals stop after ``hours``; callers still in the system are then served (or hang
up) so every offered call has an outcome.  Occupancy is measured over the arrival
window.  Besides the totals, figures per batch of arrivals (batch means) give
confidence intervals for tests and for the curious.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Optional

from appliance.acd import events as ev
from appliance.acd.config import AgentConfig, Membership, QueueConfig
from appliance.acd.engine import AcdEngine
from appliance.acd.erlang import ErlangA, ErlangC, erlang_a_metrics, erlang_c_metrics
from appliance.acd.stats import StatsBook
from appliance.acd.strategies import resolve
from appliance.errors import BadInput
from drivers.clock import ManualClock

__all__ = ["SimulationResult", "simulate", "check_parameters"]

_QUEUE = "sim"


@dataclass
class Batch:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    delayed: int = 0
    within: int = 0
    wait: float = 0.0


@dataclass
class SimulationResult:
    offered: int
    answered: int
    abandoned: int
    service_level: float
    asa: float
    abandon_rate: float
    occupancy: float
    p_wait: float
    analytic: ErlangC | ErlangA
    batches: list[Batch] = field(repr=False, default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The figures ``qbox simulate --json`` prints (keys as documented there)."""
        out: dict[str, Any] = {
            "offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
            "service_level": self.service_level, "asa": self.asa, "abandon_rate": self.abandon_rate,
            "occupancy": self.occupancy,
        }
        if isinstance(self.analytic, ErlangA):
            out["erlang_a"] = {"p_abandon": self.analytic.p_abandon, "p_wait": self.analytic.p_wait}
        else:
            out["erlang_c"] = {"p_wait": self.analytic.p_wait, "service_level": self.analytic.service_level,
                               "asa": self.analytic.asa}
        return out

    def batch_error(self, figure: str) -> float:
        """Standard error of ``figure`` ("service_level", "asa", "abandon_rate", "p_wait")
        from the spread of the batch means."""
        values = []
        for b in self.batches:
            if figure == "service_level" and b.answered:
                values.append(b.within / b.answered)
            elif figure == "asa" and b.answered:
                values.append(b.wait / b.answered)
            elif figure == "abandon_rate" and b.offered:
                values.append(b.abandoned / b.offered)
            elif figure == "p_wait" and b.offered:
                values.append(b.delayed / b.offered)
        if len(values) < 2:
            return math.inf
        mean = sum(values) / len(values)
        variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
        return math.sqrt(variance / len(values))


def check_parameters(agents: int, calls_per_hour: float, aht: float, patience: Optional[float],
                     hours: float, sl_threshold: float) -> None:
    """BadInput for parameters no simulation can answer."""
    if agents < 1:
        raise BadInput(f"--agents must be at least 1, not {agents}")
    for name, value in (("--calls-per-hour", calls_per_hour), ("--aht", aht), ("--hours", hours)):
        if not value > 0 or math.isinf(value):
            raise BadInput(f"{name} must be a number > 0, not {value}")
    if patience is not None and (not patience > 0 or math.isinf(patience)):
        raise BadInput(f"--patience must be a number > 0, not {patience}")
    if not sl_threshold >= 0:
        raise BadInput(f"--sl-threshold must be >= 0, not {sl_threshold}")
    load = calls_per_hour * aht / 3600
    if patience is None and load >= agents:
        raise BadInput(f"{load:.2f} erlangs offered to {agents} agents: without --patience the queue grows "
                       f"without bound; use more than {math.floor(load)} agents")


def simulate(agents: int, calls_per_hour: float, aht: float, *, patience: Optional[float] = None,
             hours: float = 100.0, seed: int = 1, sl_threshold: float = 20.0, strategy: str = "ringall",
             batches: int = 20) -> SimulationResult:
    """Run the simulation; see the module docstring."""
    check_parameters(agents, calls_per_hour, aht, patience, hours, sl_threshold)
    resolve(strategy)
    clock = ManualClock()
    # Offers are answered at once; a short ring timeout keeps cancelled timers from piling up.
    queue = QueueConfig(_QUEUE, strategy=strategy, timeout=1.0, retry=0.0, servicelevel=(sl_threshold or 1e-9,))
    staff = [AgentConfig(f"agent{i}", queues=(Membership(_QUEUE),)) for i in range(agents)]
    engine = AcdEngine(clock, [queue], staff, seed=seed)
    stats = StatsBook.for_engine(engine)
    engine.subscribe(stats.on_event)
    run = _Run(engine, clock, random.Random(seed), calls_per_hour / 3600.0, aht, patience,
               hours * 3600.0, batches, sl_threshold)
    engine.subscribe(run.on_event)
    engine.start()
    for agent in staff:
        engine.agent_login(agent.id)
    occupancy = [0.0]
    clock.call_at(hours * 3600.0, lambda: occupancy.__setitem__(0, _occupancy(stats, clock.now())))
    run.schedule_arrival()
    clock.run_until_idle()
    total = stats.total(_QUEUE)
    if patience is None:
        analytic: ErlangC | ErlangA = erlang_c_metrics(agents, calls_per_hour, aht, sl_threshold)
    else:
        analytic = erlang_a_metrics(agents, calls_per_hour, aht, patience, sl_threshold)
    threshold = queue.servicelevel[0]
    delayed = sum(b.delayed for b in run.batches)
    return SimulationResult(
        offered=total.offered, answered=total.answered, abandoned=total.abandoned,
        service_level=total.service_level(threshold) or 0.0, asa=total.asa or 0.0,
        abandon_rate=total.abandon_rate or 0.0, occupancy=occupancy[0],
        p_wait=delayed / total.offered if total.offered else 0.0, analytic=analytic, batches=run.batches)


def _occupancy(stats: StatsBook, now: float) -> float:
    busy = working = 0.0
    for times in stats.agents.values():
        busy += times.total("talking", now) + times.total("wrapup", now)
        working += sum(times.total(s, now) for s in ("available", "reserved", "ringing", "talking", "wrapup"))
    return busy / working if working else 0.0


class _Run:
    """The callers' side: arrivals, patience, answering offers and hanging up."""

    def __init__(self, engine: AcdEngine, clock: ManualClock, rng: random.Random, lam: float, aht: float,
                 patience: Optional[float], until: float, batches: int, threshold: float) -> None:
        self.engine, self.clock, self.rng = engine, clock, rng
        self.lam, self.aht, self.patience, self.until = lam, aht, patience, until
        self.batch_length = until / batches
        self.batches = [Batch() for _ in range(batches)]
        self.threshold = threshold
        self.count = 0
        self.patience_timers: dict[str, Any] = {}
        self.batch_of: dict[str, Batch] = {}
        self.talking: set[str] = set()

    def schedule_arrival(self) -> None:
        self.clock.call_later(self.rng.expovariate(self.lam), self.arrive)

    def arrive(self) -> None:
        if self.clock.now() >= self.until:
            return
        self.count += 1
        caller = f"c{self.count}"
        batch = self.batches[min(len(self.batches) - 1, int(self.clock.now() // self.batch_length))]
        batch.offered += 1
        self.batch_of[caller] = batch
        if self.patience is not None:
            self.patience_timers[caller] = self.clock.call_later(
                self.rng.expovariate(1.0 / self.patience), self.engine.hangup, caller)
        self.engine.join(_QUEUE, caller)
        self.schedule_arrival()

    def on_event(self, event: ev.AcdEvent) -> None:
        kind = type(event)
        if kind is ev.Offer:
            # ringall offers several agents; the first to see it answers.
            if event.caller in self.batch_of and event.caller not in self.talking:
                self.talking.add(event.caller)
                self.engine.answer(event.caller, event.agent)
        elif kind is ev.CallCompleted:
            self.talking.discard(event.caller)
        elif kind is ev.Connected:
            timer = self.patience_timers.pop(event.caller, None)
            if timer is not None:
                timer.cancel()
            batch = self.batch_of.pop(event.caller)
            batch.answered += 1
            batch.wait += event.holdtime
            batch.delayed += event.holdtime > 0
            batch.within += event.holdtime <= self.threshold
            self.clock.call_later(self.rng.expovariate(1.0 / self.aht), self.engine.hangup, event.caller)
        elif kind is ev.CallerLeft:
            self.patience_timers.pop(event.caller, None)
            batch = self.batch_of.pop(event.caller)
            batch.abandoned += 1
            batch.delayed += 1
