"""The traffic driver: callers arrive, agents answer, and the rig writes down what happened.

:class:`TrafficRig` puts caller bots on the trunks of an :class:`~.exchange.Exchange`
as the profile's Poisson arrivals say, and an agent bot behind the agent span for
each agent of the box configuration, found by the interface the service rings it on
(:func:`appliance.calls.agent_interface`: span and called number; a number the
configuration does not name gets a bot of its own, counted as ``unknown_agents``).  :meth:`TrafficRig.run` waits for the service to hold every
span, offers traffic for ``duration`` seconds of run time (or until ``max_calls``
calls), lets the calls in progress finish for up to ``drain`` seconds, hangs up the
rest, and returns the report (:func:`~.report.summarise`)::

    rig = TrafficRig(farend, config, TrafficProfile(speed=10), lockstep=True)
    report = rig.run(duration=60)
    print(report["offered"], report["answered"], report["digits_pressed"])
"""
from __future__ import annotations

import logging
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from appliance.calls import agent_interface
from appliance.config import BoxConfig
from appliance.isdn.call import Call
from appliance.isdn.callcontrol import CallStateError
from drivers.dahdi.sim import FarEnd
from hil_tests.rigs.agents import AgentBot, ControlWorker
from hil_tests.rigs.callers import CallerBot
from hil_tests.rigs.exchange import Exchange
from hil_tests.rigs.profile import ArrivalProcess, TrafficProfile
from hil_tests.rigs.report import CallRecord, summarise

__all__ = ["TrafficRig", "RigNotReady"]

log = logging.getLogger(__name__)

_UNALLOCATED = 1
_STALLS_TO_GIVE_UP = 3       # lock-step waits in a row with no answer: the service has hung
_LINGER = 1.0                # run time kept up after the last call, for the service's last frames


class RigNotReady(RuntimeError):
    """The service did not take up every span (data link and media) in time."""


class TrafficRig:
    """Caller and agent bots on the exchange, driven by a traffic profile."""

    def __init__(self, farend: FarEnd, config: BoxConfig, profile: TrafficProfile = TrafficProfile(), *,
                 lockstep: bool = False, control_socket: str | Path | None = None,
                 max_calls: int | None = None, strict: bool = False, capture_dir: str | Path | None = None) -> None:
        self.profile = profile
        self.config = config
        self.max_calls = max_calls
        self.exchange = Exchange(farend, config, on_setup=self._agent_setup, lockstep=lockstep, strict=strict,
                                 capture_dir=capture_dir)
        self.clock = self.exchange.clock
        self.mode = "lockstep" if lockstep else "realtime"
        self._arrival_rng = random.Random(f"{profile.seed}:arrivals")
        self._caller_rng = random.Random(f"{profile.seed}:callers")
        self._call_rng = random.Random(f"{profile.seed}:calls")
        self.arrivals = ArrivalProcess(profile, self._arrival_rng)
        self.control = ControlWorker(control_socket) if control_socket else None
        self.agents: dict[str, AgentBot] = {a.id: self._agent(a.id) for a in config.agents}
        self._reached: dict[tuple[int, str], AgentBot] = {}
        for agent in config.agents:
            where = agent_interface(agent, config, agent.interface)
            self._reached[(where.span, where.number)] = self.agents[agent.id]
        self.records: list[CallRecord] = []
        self.active: dict[str, CallerBot] = {}
        self.counters: Counter[str] = Counter()
        self._start = 0.0
        self._stopping = False
        self._lost = False
        self._next_span = 0

    # -- running ------------------------------------------------------------------------------

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Step until the service holds every span; RigNotReady after ``timeout`` real seconds."""
        self.exchange.start()
        self._step_until(lambda: self.exchange.ready, timeout, lambda: (
            f"the service did not take up every span within {timeout:g} s ("
            + ", ".join(f"span {n}: link {'up' if self.exchange.stack(n).link_up else 'down'}"
                        for n in self.exchange.trunk_spans + self.exchange.agent_spans) + ")"))
        log.info("event=rig_ready mode=%s spans=%d", self.mode, len(self.config.spans))

    def run(self, duration: float, *, drain: float = 120.0, wait: float = 60.0, settle: float = 10.0,
            start_when: Callable[[], bool] | None = None) -> dict:
        """Offer traffic for ``duration`` s, drain, clear what is left; return the report.

        ``drain``: run time the calls in progress get to finish; ``settle``: run time
        the service gets to clear what the rig hung up; ``wait``: real seconds for the
        service to take up the spans, and then for ``start_when`` (if given) to hold
        before the first call (a bench reads its baseline first).
        """
        if duration < 0 or drain < 0:
            raise ValueError("duration and drain must not be negative")
        self.wait_ready(wait)
        if start_when is not None:
            self._step_until(start_when, wait,
                             lambda: f"told to wait for a start signal that did not come within {wait:g} s")
        self._start = self.clock.now()
        arrive_at = self.arrivals.next_after(0.0, duration)
        while not self._stopping:
            now = self._elapsed()
            while arrive_at is not None and arrive_at <= now and not self._enough_calls():
                self._arrive(arrive_at)
                arrive_at = self.arrivals.next_after(arrive_at, duration)
            if arrive_at is None or self._enough_calls() or now >= duration or self._lost:
                break
            self._step()
        self._drain(drain)
        self._clear_all(settle)
        self._linger(_LINGER)
        return self.report()

    def _step_until(self, done: Callable[[], bool], timeout: float, failure: Callable[[], str]) -> None:
        """Step the exchange until ``done()``; RigNotReady (saying ``failure()``) after
        ``timeout`` real seconds or when stopped."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline or self._stopping:
                raise RigNotReady(failure())
            self.exchange.step()

    def _step(self) -> None:
        self.exchange.step()
        if not self._lost and (not self.exchange.media_open or self.exchange.stalls >= _STALLS_TO_GIVE_UP):
            self._lost = True                # the service closed its spans (stopped or died) or hangs
            self.counters["service_lost"] += 1
            log.error("event=service_lost active_calls=%d", len(self.active))

    def stop(self) -> None:
        """End the run early (from a signal handler): no more arrivals, then drain and clear."""
        self._stopping = True

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())

    def report(self) -> dict:
        counters = Counter(self.counters)
        counters.update(self.exchange.counters)
        if self.control is not None:
            counters.update(self.control.counters)
        return summarise(self.records, duration_s=self._elapsed(), agents={n: a.tally for n, a in self.agents.items()},
                         counters=counters, mode=self.mode, speed=self.profile.speed, seed=self.profile.seed)

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
        self.exchange.close()

    # -- callers ----------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return self.clock.now() - self._start

    def _enough_calls(self) -> bool:
        return self.max_calls is not None and len(self.records) >= self.max_calls

    def _arrive(self, at: float) -> None:
        index = len(self.records) + 1
        number = f"{self.profile.calling_prefix}{index:08d}"
        script = self.profile.pick_script(self._caller_rng).render(self._caller_rng, self.profile.account_digits)
        record = CallRecord(number=number, script=script, offered_at=at)
        self.records.append(record)
        bot = CallerBot(self.exchange, self.profile, record, random.Random(f"{self.profile.seed}:{number}"),
                        self._caller_done, now=self._elapsed)
        spans = self.exchange.trunk_spans
        for attempt in range(len(spans)):
            span = spans[(self._next_span + attempt) % len(spans)]
            if not self.exchange.stack(span).link_up:
                continue
            try:
                bot.dial(span)
            except CallStateError:
                continue
            self._next_span = (self._next_span + attempt + 1) % len(spans)
            self.active[number] = bot
            return
        record.outcome = "blocked"           # every trunk busy (or down): the exchange gives busy
        record.ended_at = record.offered_at

    def _caller_done(self, bot: CallerBot) -> None:
        self.active.pop(bot.number, None)
        log.debug("event=call_done caller=%s outcome=%s", bot.number, bot.record.outcome)

    def _drain(self, limit: float) -> None:
        deadline = self._elapsed() + limit
        while self.active and self._elapsed() < deadline and not (self._stopping or self._lost):
            self._step()

    def _linger(self, seconds: float) -> None:
        """Keep the line up a little: the service's last RELEASE COMPLETE may trail our last call."""
        until = self._elapsed() + seconds
        while self._elapsed() < until and not self._lost:
            self._step()

    def _clear_all(self, limit: float) -> None:
        """Hang up every call still up (callers first; the service clears the agents), then wait."""
        for bot in list(self.active.values()):
            bot.hang_up("end of run")
        for agent in self.agents.values():
            agent.end_shift()
        deadline = self._elapsed() + limit
        while self.active and self._elapsed() < deadline and not self._lost:
            self._step()
        self.counters["unfinished_at_end"] = len(self.active)

    # -- agents -----------------------------------------------------------------------------------

    def _agent(self, name: str) -> AgentBot:
        return AgentBot(name, self.exchange, self.profile, random.Random(f"{self.profile.seed}:agent:{name}"),
                        self._agent_answered, self.control)

    def _agent_setup(self, span: int, call: Call) -> None:
        if self.exchange.config.span(span).role != "agent":
            self.counters["unexpected_setups"] += 1     # the service dialled out on a trunk
            self.exchange.stack(span).release(call, _UNALLOCATED)
            return
        bot = self._reached.get((span, call.called))
        if bot is None:
            self.counters["unknown_agents"] += 1
            name = f"span{span}/{call.called or '?'}"
            bot = self._reached[(span, call.called)] = self.agents[name] = self._agent(name)
        bot.offer(span, call)

    def _agent_answered(self, agent: AgentBot, call: Call) -> tuple[float, bool]:
        """An agent answered: tell the caller; pick the handling time and who clears."""
        handling = self.profile.scaled(self._call_rng.expovariate(1.0 / self.profile.handling_mean))
        caller_clears = self._call_rng.random() < self.profile.caller_hangup_fraction
        caller = self.active.get(call.calling)
        if caller is None:
            self.counters["unmatched_agent_calls"] += 1
            return handling, True
        caller.answered_by(agent.name, handling, caller_clears)
        return handling, not caller_clears
