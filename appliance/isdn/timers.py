"""Protocol timers on the injected clock (T200, T203, T303, T310, ...).

LAPD restarts T200/T203 on nearly every frame; cancelling and rescheduling a clock
timer each time would fill the clock's queue with dead entries.  A :class:`Timer`
keeps its deadline to itself and holds at most one clock timer: restarting it later
than the pending clock timer only moves the deadline, and the clock timer re-arms
itself for the new deadline when it fires.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.clock import Clock

__all__ = ["Timer"]


class Timer:
    """A restartable one-shot protocol timer.

    ``start()`` (re)starts it for ``duration`` seconds (or the given override),
    ``stop()`` stops it; when it expires, ``callback()`` runs once.  ``name`` is the
    protocol's name for it ("T200"), for logs.
    """

    __slots__ = ("clock", "duration", "callback", "name", "_deadline", "_handle", "_handle_when")

    def __init__(self, clock: Clock, duration: float, callback: Callable[[], Any], name: str = "") -> None:
        self.clock = clock
        self.duration = duration
        self.callback = callback
        self.name = name
        self._deadline: float | None = None
        self._handle = None
        self._handle_when = 0.0

    @property
    def running(self) -> bool:
        return self._deadline is not None

    def start(self, duration: float | None = None) -> None:
        deadline = self.clock.now() + (self.duration if duration is None else duration)
        self._deadline = deadline
        if self._handle is not None:
            if self._handle_when <= deadline:
                return  # the pending clock timer fires first and re-arms for the deadline
            self._handle.cancel()
        self._arm(deadline)

    def stop(self) -> None:
        self._deadline = None

    def cancel(self) -> None:
        """Stop and also drop the clock timer (when the owner goes away)."""
        self._deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, when: float) -> None:
        self._handle_when = when
        self._handle = self.clock.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return
        if self.clock.now() < deadline:
            self._arm(deadline)
            return
        self._deadline = None
        self.callback()
