"""An analogue phone on a simulated FXS port: rung by the near end, answered by the agent.

The near end drives the port the way DAHDI's ``DAHDI_HOOK`` ioctl does on an
FXO-signalled (``fxoks``/``fxols``) channel; the far end is the agent lifting and
replacing the handset.  Hook changes become the events DAHDI queues: RINGOFFHOOK
when the phone goes off hook (answering a ring or lifting to call), ONHOOK when it
is hung up, WINKFLASH for a hook flash.

Ringing follows the tone zone's cadence as dahdi-base.c's ring state machine does:
``RING`` starts the first burst at once (no event), each burst's end queues
RINGEROFF and each new burst RINGERON, round and round.  Lifting the handset trips
the ring (the card stops it) and queues RINGOFFHOOK; ``OFFHOOK``, ``ONHOOK`` and
``RINGOFF`` stop it with no event.
"""
from __future__ import annotations

import errno
from collections.abc import Callable

from drivers.clock import Clock, TimerHandle
from drivers.dahdi.interface import EventType, HookOp
from drivers.dahdi.sim.spec import PortSpec
from drivers.dahdi.sim.wire import dahdi_error

__all__ = ["FxsPort"]


class FxsPort:
    """Hook and ring state of one port; ``emit(event_type)`` reaches the near end."""

    def __init__(self, spec: PortSpec, emit: Callable[[EventType], None], clock: Clock) -> None:
        self.spec = spec
        self.emit = emit
        self.clock = clock
        self.off_hook = False
        self.bursts = 0           # bursts of the current (or last) ring cycle, the first included
        self.disconnects = 0      # open-loop disconnects sent to the phone (kewlstart hang-up)
        self._position = 0        # index into the cadence: even a burst, odd the silence after it
        self._timer: TimerHandle | None = None   # the cadence's next step, while a ring cycle runs

    @property
    def alerting(self) -> bool:
        """A ring cycle runs (DAHDI's RINGON/RINGOFF transmit states): bursts and silences."""
        return self._timer is not None

    @property
    def ringing(self) -> bool:
        """Whether the bell sounds at this moment (False between bursts)."""
        return self.alerting and self._position % 2 == 0

    @property
    def state(self) -> str:
        """``ringing`` (a burst), ``ring-pause`` (silence between bursts), ``off-hook`` or ``on-hook``."""
        if self.alerting:
            return "ringing" if self.ringing else "ring-pause"
        return "off-hook" if self.off_hook else "on-hook"

    # -- the near end (DAHDI_HOOK) -------------------------------------------------

    def hook(self, op: HookOp) -> None:
        """Apply a DAHDI_HOOK operation; DahdiError(EBUSY/ENODATA/EINVAL) as the kernel refuses."""
        op = HookOp(op)
        if op in (HookOp.RING, HookOp.START):
            if self.off_hook or self.alerting:
                raise dahdi_error(errno.EBUSY, f"channel {self.spec.channo}: cannot ring, the phone is {self.state}")
            if self.spec.ring_cadence is None:
                raise dahdi_error(errno.ENODATA, f"channel {self.spec.channo}: cannot ring until a tone zone is "
                                                 f"loaded (DAHDI has no zone {self.spec.zone!r})")
            self._start_ringing()
        elif op in (HookOp.RINGOFF, HookOp.OFFHOOK):
            self._stop_ringing()
        elif op is HookOp.ONHOOK:
            self._stop_ringing()
            if self.off_hook and self.spec.signalling == "fxoks":
                self.disconnects += 1   # kewlstart drops battery to tell the phone the call is over
        else:
            raise dahdi_error(errno.EINVAL, f"channel {self.spec.channo}: {op.name} makes no sense on an FXS port")

    def _start_ringing(self) -> None:
        self.bursts, self._position = 1, 0
        self._timer = self.clock.call_later(self.spec.ring_cadence[0], self._next_phase)

    def _next_phase(self) -> None:
        """One step of the cadence: a burst ends (RINGEROFF) or a new one starts (RINGERON)."""
        cadence = self.spec.ring_cadence
        self._position = (self._position + 1) % len(cadence)
        burst = self._position % 2 == 0
        self.bursts += burst
        self._timer = self.clock.call_later(cadence[self._position], self._next_phase)
        self.emit(EventType.RINGERON if burst else EventType.RINGEROFF)

    def _stop_ringing(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- the far end (the agent's hand) ------------------------------------------------

    def lift(self) -> None:
        if self.off_hook:
            return
        self.off_hook = True
        self._stop_ringing()   # ring trip
        self.emit(EventType.RINGOFFHOOK)

    def hang_up(self) -> None:
        if not self.off_hook:
            return
        self.off_hook = False
        self.emit(EventType.ONHOOK)

    def flash(self) -> None:
        if not self.off_hook:
            raise dahdi_error(errno.EINVAL, f"channel {self.spec.channo}: cannot flash, the phone is on hook")
        self.emit(EventType.WINKFLASH)

    def report(self) -> dict:
        """The phone as ``qbox sim status`` shows it."""
        return {"channo": self.spec.channo, "group": self.spec.group, "signalling": self.spec.signalling,
                "zone": self.spec.zone, "cadence": list(self.spec.ring_cadence or ()),
                "phone": self.state, "bursts": self.bursts if self.alerting else 0}
