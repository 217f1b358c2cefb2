"""Debounce and flap suppression for one alarm condition, on the injected clock.

The same scheme as DAHDI's own span alarm timers (which is why span alarms need no
second one here, see ``config.py``): a condition must hold ``raise_s`` before the
alarm is raised and be gone ``clear_s`` before it clears; a condition that comes back
while the clear is pending just keeps the alarm up (and adds one to its count).

Flapping: every onset of the raw condition is remembered for ``flap_window_s``.  With
``flap_threshold`` onsets in the window the condition is *flapping*: the alarm is
raised at once (even if no single onset lasted ``raise_s``) with the onsets counted,
and it clears only after a whole quiet window.  A span that flaps 100 times therefore
makes one alarm whose count is 100, not 100 alarms.

States: idle -> raising -> active -> clearing -> idle (or back to active).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Literal

from drivers.clock import Clock, TimerHandle

__all__ = ["Debouncer", "State"]

State = Literal["idle", "raising", "active", "clearing"]


class Debouncer:
    """Turns raw ``set(present)`` reports into raise / reassert / clear callbacks.

    - ``on_raise(count, flapping)``: the alarm is due; ``count`` onsets led to it.
    - ``on_reassert(flapping)``: the condition returned while the clear was pending.
    - ``on_clear()``: the condition stayed away long enough.

    Callbacks run from ``set()`` itself when a delay is zero, else from clock timers.
    """

    def __init__(self, clock: Clock, raise_s: float, clear_s: float, *, flap_window_s: float,
                 flap_threshold: int, on_raise: Callable[[int, bool], None],
                 on_reassert: Callable[[bool], None], on_clear: Callable[[], None],
                 active: bool = False) -> None:
        self.clock = clock
        self.raise_s = raise_s
        self.clear_s = clear_s
        self.flap_window_s = flap_window_s
        self.flap_threshold = flap_threshold
        self._on_raise = on_raise
        self._on_reassert = on_reassert
        self._on_clear = on_clear
        self.state: State = "active" if active else "idle"
        self._timer: TimerHandle | None = None
        self._onsets: deque[float] = deque()
        self._pending_onsets = 0     # onsets since the condition was last quiet for a window

    @property
    def flapping(self) -> bool:
        self._forget_old_onsets()
        return len(self._onsets) >= self.flap_threshold

    def set(self, present: bool) -> None:
        """Report the raw condition; repeats of the same value are ignored."""
        if present:
            self._assert()
        else:
            self._deassert()

    def _assert(self) -> None:
        if self.state in ("raising", "active"):
            return
        self._forget_old_onsets()
        if not self._onsets:
            self._pending_onsets = 0
        self._onsets.append(self.clock.now())
        if self.state == "clearing":
            self._cancel()
            self.state = "active"
            self._on_reassert(self.flapping)
            return
        self._pending_onsets += 1
        if self.flapping or self.raise_s <= 0:
            self._raise()
        else:
            self.state = "raising"
            self._timer = self.clock.call_later(self.raise_s, self._raise)

    def _deassert(self) -> None:
        if self.state == "raising":
            self._cancel()
            self.state = "idle"
        elif self.state == "active":
            delay = self.flap_window_s if self.flapping else self.clear_s
            if delay <= 0:
                self._clear()
            else:
                self.state = "clearing"
                self._timer = self.clock.call_later(delay, self._clear)

    def _raise(self) -> None:
        self._timer = None
        self.state = "active"
        flapping = self.flapping
        # Short onsets that never lasted raise_s count only once they add up to flapping.
        count = max(1, self._pending_onsets) if flapping else 1
        self._pending_onsets = 0
        self._on_raise(count, flapping)

    def _clear(self) -> None:
        self._timer = None
        self.state = "idle"
        self._on_clear()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _forget_old_onsets(self) -> None:
        horizon = self.clock.now() - self.flap_window_s
        while self._onsets and self._onsets[0] <= horizon:
            self._onsets.popleft()

    def cancel(self) -> None:
        """Drop any pending timer (the manager is shutting down)."""
        self._cancel()
