"""An analogue phone on a simulated FXS port: rung by the near end, answered by the agent.

The near end drives the port the way DAHDI's ``DAHDI_HOOK`` ioctl does on an
FXO-signalled (``fxoks``/``fxols``) channel; the far end is the agent lifting and
replacing the handset.  Hook changes become the events DAHDI queues: RINGOFFHOOK
when the phone goes off hook (answering a ring or lifting to call), ONHOOK when it
is hung up, WINKFLASH for a hook flash.
"""
from __future__ import annotations

import errno
from collections.abc import Callable

from drivers.dahdi.interface import EventType, HookOp
from drivers.dahdi.sim.spec import PortSpec
from drivers.dahdi.sim.wire import dahdi_error

__all__ = ["FxsPort"]


class FxsPort:
    """Hook and ring state of one port; ``emit(event_type)`` reaches the near end."""

    def __init__(self, spec: PortSpec, emit: Callable[[EventType], None]) -> None:
        self.spec = spec
        self.emit = emit
        self.off_hook = False
        self.ringing = False
        self.disconnects = 0      # open-loop disconnects sent to the phone (kewlstart hang-up)

    @property
    def state(self) -> str:
        if self.ringing:
            return "ringing"
        return "off-hook" if self.off_hook else "on-hook"

    # -- the near end (DAHDI_HOOK) -------------------------------------------------

    def hook(self, op: HookOp) -> None:
        """Apply a DAHDI_HOOK operation; DahdiError(EBUSY/EINVAL) as the kernel refuses."""
        op = HookOp(op)
        if op in (HookOp.RING, HookOp.START):
            if self.off_hook or self.ringing:
                raise dahdi_error(errno.EBUSY, f"channel {self.spec.channo}: cannot ring, the phone is {self.state}")
            self.ringing = True
            self.emit(EventType.RINGERON)
        elif op in (HookOp.RINGOFF, HookOp.OFFHOOK):
            self._stop_ringing()
        elif op is HookOp.ONHOOK:
            self._stop_ringing()
            if self.off_hook and self.spec.signalling == "fxoks":
                self.disconnects += 1   # kewlstart drops battery to tell the phone the call is over
        else:
            raise dahdi_error(errno.EINVAL, f"channel {self.spec.channo}: {op.name} makes no sense on an FXS port")

    def _stop_ringing(self) -> None:
        if self.ringing:
            self.ringing = False
            self.emit(EventType.RINGEROFF)

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
