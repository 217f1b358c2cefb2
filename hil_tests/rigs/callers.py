"""A caller bot: dials in on a trunk, listens, keys in its script, waits, talks or gives up.

The life of one call, all of it through the real signalling and media path::

    SETUP (calling number unique to this caller) -> CONNECT from the service
    for each step of the script: listen until the prompt ends, then key the digits
                                 in as DTMF audio on the B-channel
    wait in the queue with a patience drawn from an exponential distribution:
        an agent answers first -> talk (a quiet tone, so a recording has content)
                                  until the agent clears or, for some calls, the
                                  caller hangs up at the end of the handling time
        patience runs out      -> DISCONNECT (abandoned)

A digit counts as pressed once all of its audio, the gap after it included, has
been sent; a hang-up asked for while a digit is sounding waits for that digit to
finish, so the service hears every digit the bot counts, and only those.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable

from appliance.isdn.call import Call, CallEvent
from appliance.isdn.callcontrol import CallStateError
from drivers.clock import TimerHandle
from hil_tests.rigs.audio import DtmfStyle, PromptEar, dtmf_audio, tone_block
from hil_tests.rigs.exchange import Exchange, Line
from hil_tests.rigs.profile import TrafficProfile
from hil_tests.rigs.report import CallRecord

__all__ = ["CallerBot", "CALLER_TONE_HZ"]

log = logging.getLogger(__name__)

CALLER_TONE_HZ = 400.0       # what a talking caller sends (one tone: never mistaken for DTMF)


class CallerBot:
    """One caller.  ``on_end(bot)`` runs once the call is released; ``now()`` gives the
    times written into ``record`` (the run's clock)."""

    def __init__(self, exchange: Exchange, profile: TrafficProfile, record: CallRecord,
                 rng: random.Random, on_end: Callable[["CallerBot"], None],
                 now: Callable[[], float] | None = None, dtmf: DtmfStyle = DtmfStyle()) -> None:
        self.exchange = exchange
        self.now = now or exchange.now      # the clock the record's times are read from
        self.profile = profile
        self.record = record
        self.rng = rng
        self.on_end = on_end
        self.dtmf = dtmf
        self.state = "idle"          # dialing, ivr, queued, talking, clearing, done
        self.call: Call | None = None
        self.line: Line | None = None
        self._steps = list(record.script)
        self._ear: PromptEar | None = None
        self._timer: TimerHandle | None = None
        self._keys: list[tuple[str, bytes]] = []
        self._digit_sounding = False
        self._hangup_pending: str | None = None

    @property
    def number(self) -> str:
        return self.record.number

    # -- what the traffic driver does -----------------------------------------------------

    def dial(self, span: int) -> None:
        """SETUP on ``span``; CallStateError (from the stack) if it has no free B-channel."""
        self.call = self.exchange.place_call(span, self, self.profile.called_number, self.number)
        self.record.span, self.record.channel = span, self.call.channel
        self.state = "dialing"

    def answered_by(self, agent: str, handling: float, caller_clears: bool) -> None:
        """An agent picked the call up: stop waiting, talk, maybe hang up after ``handling`` s."""
        if self.state in ("clearing", "done"):
            return
        self._cancel_timer()
        self._steps.clear()
        self.state = "talking"
        self.record.answered_at = self.now()
        self.record.agent = agent
        if self.line is not None:
            self.line.hear = None
            self.line.background = tone_block(CALLER_TONE_HZ, self.profile.talk_level_dbm0, self.line.law)
        if caller_clears:
            self._timer = self.exchange.clock.call_later(handling, self.hang_up, "caller")

    def hang_up(self, reason: str = "caller") -> None:
        """DISCONNECT toward the service (once any digit sounding has finished)."""
        if self.state in ("clearing", "done", "idle") or self.call is None:
            return
        if self._digit_sounding:
            self._hangup_pending = reason
            return
        self._cancel_timer()
        if self.record.cleared_by is None:
            self.record.cleared_by = reason
        self.state = "clearing"
        self._silence()
        try:
            self.exchange.stack(self.record.span).disconnect(self.call)
        except CallStateError:
            pass                         # the service is clearing it already

    # -- the stack's events -------------------------------------------------------------------

    def on_call_event(self, event: CallEvent) -> None:
        kind = event.kind
        if kind == "active":
            self._connected()
        elif kind == "disconnect":
            if self.record.cleared_by is None:
                self.record.cleared_by = "agent" if self.state == "talking" else "service"
            self.record.cause = event.cause
            self._cancel_timer()
            self._silence()
            self.state = "clearing"
        elif kind == "released":
            self._released(event)

    def _connected(self) -> None:
        self.record.connected_at = self.now()
        self.record.channel = self.call.channel
        self.line = self.exchange.line(self.record.span, self.call.channel)
        self.state = "ivr"
        self._next_step()

    def _released(self, event: CallEvent) -> None:
        self._cancel_timer()
        if self.record.cause is None:
            self.record.cause = event.cause
        record = self.record
        record.ended_at = self.now()
        if record.outcome == "unfinished":
            if record.answered_at is not None:
                record.outcome = "answered"
            elif record.cleared_by in ("caller", "end of run"):
                record.outcome = "abandoned" if record.queued_at is not None else "ivr_hangup"
            elif record.connected_at is None:
                record.outcome = "rejected"
            else:
                record.outcome = "cleared"
        self._silence()
        if self.line is not None:
            self.exchange.drop_line(self.line)
            self.line = None
        self.state = "done"
        self.on_end(self)

    # -- the IVR dialogue ------------------------------------------------------------------

    def _next_step(self) -> None:
        if not self._steps:
            self._queued()
            return
        self._ear = PromptEar(self.line.law, self.profile.prompt_gap, self.profile.prompt_patience,
                              barge_in=self.profile.barge_in)
        self.line.hear = self._hear

    def _hear(self, block: bytes) -> None:
        if self._ear is not None and self._ear.feed(block):
            self._ear = None
            self.line.hear = None
            self._press(self._steps.pop(0))

    def _press(self, digits: str) -> None:
        self._keys = list(dtmf_audio(digits, self.line.law, self.dtmf))
        self._press_next()

    def _press_next(self) -> None:
        """Key in the next digit of the step; one at a time, so a hang-up cuts between digits."""
        digit, audio = self._keys.pop(0)
        self._digit_sounding = True
        self.line.play(audio, lambda: self._pressed(digit))

    def _pressed(self, digit: str) -> None:
        self.record.digits += digit
        self._digit_sounding = False
        if self._hangup_pending is not None:
            reason, self._hangup_pending = self._hangup_pending, None
            self.hang_up(reason)
        elif self.state != "ivr":
            self._keys.clear()           # an agent answered meanwhile: the rest is not keyed
        elif self._keys:
            self._press_next()
        else:
            self._next_step()

    def _queued(self) -> None:
        self.state = "queued"
        self.record.queued_at = self.now()
        patience = self.profile.scaled(self.rng.expovariate(1.0 / self.profile.patience_mean))
        self._timer = self.exchange.clock.call_later(patience, self._give_up)

    def _give_up(self) -> None:
        self._timer = None
        if self.state == "queued":
            log.debug("event=abandon caller=%s", self.number)
            self.hang_up("caller")

    def _silence(self) -> None:
        """Stop sending and listening (a digit cut short is not counted: it never finished)."""
        self._keys.clear()
        self._digit_sounding = False
        self._hangup_pending = None
        self._ear = None
        if self.line is not None:
            self.line.stop()
            self.line.hear = None

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
