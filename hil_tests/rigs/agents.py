"""Agent bots behind the agent PBX: they ring, answer, talk, hang up and take breaks.

The service reaches an agent by placing a call on the agent span; the called number
names the agent and the calling number is the caller's, so the bot can tell the rig
which caller it got.  A bot alerts at once and answers after a ring delay, except
for a fraction of rings it lets go (the service's ring timeout then moves on to the
next agent).  Once answered the rig decides the handling time and who clears.

Breaks go through the service's control API (``agent.pause`` with a reason, then
``agent.unpause``), on a thread of their own so a slow answer never holds up the
20 ms media; without a control socket there are no breaks.
"""
from __future__ import annotations

import logging
import queue
import random
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from appliance.control import ControlClient
from appliance.errors import QboxError
from appliance.isdn.call import Call, CallEvent
from appliance.isdn.callcontrol import CallStateError
from drivers.clock import TimerHandle
from hil_tests.rigs.audio import tone_block
from hil_tests.rigs.exchange import Exchange, Line
from hil_tests.rigs.profile import TrafficProfile
from hil_tests.rigs.report import AgentTally

__all__ = ["AgentBot", "ControlWorker", "AGENT_TONE_HZ", "BREAK_REASON"]

log = logging.getLogger(__name__)

AGENT_TONE_HZ = 600.0
BREAK_REASON = "break"
USER_BUSY = 17


class ControlWorker:
    """Sends control-API requests from a thread of its own; counts what came back."""

    def __init__(self, socket_path: str | Path, timeout: float = 5.0) -> None:
        self.path = str(socket_path)
        self.timeout = timeout
        self.counters: Counter[str] = Counter()
        self._requests: queue.Queue[tuple[str, dict] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="rig-control", daemon=True)
        self._thread.start()

    def submit(self, cmd: str, **args) -> None:
        self._requests.put((cmd, args))

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued, then stop."""
        self._requests.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        client = ControlClient(self.path, timeout=self.timeout)
        try:
            while (request := self._requests.get()) is not None:
                cmd, args = request
                try:
                    client.request(cmd, **args)
                    self.counters[f"{cmd}.ok"] += 1
                except (QboxError, OSError, ValueError) as exc:
                    self.counters[f"{cmd}.error"] += 1
                    log.warning("event=control_error cmd=%s error=%r", cmd, str(exc))
                    client.close()             # reconnect on the next request
        finally:
            client.close()


class AgentBot:
    """One agent reached on the agent span by called number ``name``.

    ``on_answer(bot, call)`` is the rig's: it returns ``(handling_s, agent_clears)``.
    """

    def __init__(self, name: str, exchange: Exchange, profile: TrafficProfile, rng: random.Random,
                 on_answer: Callable[["AgentBot", Call], tuple[float, bool]],
                 control: ControlWorker | None = None) -> None:
        self.name = name
        self.exchange = exchange
        self.profile = profile
        self.rng = rng
        self.on_answer = on_answer
        self.control = control
        self.tally = AgentTally()
        self.state = "idle"          # ringing, talking, break
        self.call: Call | None = None
        self.span: int | None = None
        self.line: Line | None = None
        self._timer: TimerHandle | None = None
        self._break_timer: TimerHandle | None = None
        self._since = 0.0                # when the call it holds was offered
        self._off_duty = False

    @property
    def busy(self) -> bool:
        return self.call is not None

    def offer(self, span: int, call: Call) -> None:
        """The service rings this agent (a SETUP on the agent span)."""
        stack = self.exchange.stack(span)
        if self.busy:
            self.tally.extra["busy_rejects"] += 1
            log.warning("event=agent_busy agent=%s state=%s held_call=%s held_since=%.2f caller=%s",
                        self.name, self.state, self.call.state_name, self._since, call.calling)
            stack.release(call, USER_BUSY)   # a second call to a busy phone
            return
        if self.state == "break":
            self.tally.extra["rung_on_break"] += 1
        self.exchange.attach(call, self)
        self.call, self.span = call, span
        self._since = self.exchange.now()
        self.state = "ringing"
        self.tally.rings += 1
        stack.alert(call)
        if self.rng.random() < self.profile.no_answer_fraction:
            self.tally.no_answer += 1          # let it ring until the service gives up
            return
        low, high = self.profile.ring_delay
        self._timer = self.exchange.clock.call_later(self.profile.scaled(self.rng.uniform(low, high)), self._answer)

    def hang_up(self) -> None:
        """Put the handset down: DISCONNECT, and the phone is free for the next call at once."""
        call, span = self.call, self.span
        if call is None:
            return
        self._done_with_call()
        try:
            self.exchange.stack(span).disconnect(call)
        except CallStateError:
            self.tally.extra["hangup_refused"] += 1

    def on_call_event(self, event: CallEvent) -> None:
        # Only the call in hand matters: one the agent has put down is clearing on its
        # own, and the service may ring the phone again before it has (as a PBX would).
        if event.call is self.call and event.kind in ("disconnect", "released"):
            self._done_with_call()

    def _done_with_call(self) -> None:
        self._cancel()
        if self.line is not None:
            self.line.stop()
            self.exchange.drop_line(self.line)
            self.line = None
        self.call = self.span = None
        self.state = "idle"
        self._maybe_break()

    def _answer(self) -> None:
        self._timer = None
        if self.call is None or self.state != "ringing":
            return
        self.exchange.stack(self.span).answer(self.call)
        self.state = "talking"
        self.tally.answered += 1
        self.line = self.exchange.line(self.span, self.call.channel)
        self.line.background = tone_block(AGENT_TONE_HZ, self.profile.talk_level_dbm0, self.line.law)
        handling, agent_clears = self.on_answer(self, self.call)
        if agent_clears:
            self._timer = self.exchange.clock.call_later(handling, self.hang_up)

    def _maybe_break(self) -> None:
        if self.control is None or self._off_duty or self._break_timer is not None \
                or self.rng.random() >= self.profile.break_fraction:
            return
        self.state = "break"
        self.tally.breaks += 1
        self.control.submit("agent.pause", agent=self.name, reason=BREAK_REASON)
        length = self.profile.scaled(self.rng.expovariate(1.0 / self.profile.break_mean))
        self._break_timer = self.exchange.clock.call_later(length, self._back_from_break)

    def _back_from_break(self) -> None:
        self._break_timer = None
        self.control.submit("agent.unpause", agent=self.name)
        if self.state == "break":
            self.state = "idle"

    def end_shift(self) -> None:
        """The run is over: no more breaks, and one under way ends (the service is left as found)."""
        self._off_duty = True
        if self._break_timer is not None:
            self._break_timer.cancel()
            self._back_from_break()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
