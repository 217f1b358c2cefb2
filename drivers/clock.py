"""Injected time: the one clock every timer in qbox reads.

On a real box the DAHDI card paces the 20 ms media blocks, so time is a driver
concern; it lives here so that drivers and the appliance share one clock.  Code takes a
``Clock`` and never calls ``time.monotonic`` or ``loop.call_later`` itself, so a test or
a simulation can run an hour of line time in a second with ``ManualClock``.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Clock", "TimerHandle", "ManualClock", "LoopClock"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic seconds plus one-shot timers."""

    def now(self) -> float:
        """Monotonic time in seconds (only differences mean anything)."""

    def wall(self) -> float:
        """Seconds since the epoch, for records (CDRs, queue_log, alarms)."""

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` once ``now()`` reaches ``when``."""

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``callback(*args)`` after ``delay`` seconds."""


class _ManualTimer:
    __slots__ = ("when", "callback", "args", "cancelled")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        # What it would have called goes now, not when its time comes round in the
        # heap (as asyncio's TimerHandle.cancel does): a caller's queue timeout may be
        # minutes away, and must not keep the caller's objects alive till then.
        self.cancelled = True
        self.callback = self.args = None


_MIN_HEAP = 512       # timers a ManualClock holds before it looks for cancelled ones to drop


class ManualClock:
    """A clock that moves only when told to; timers fire in time order, ties in call order.

    ``advance(dt)`` fires every timer due within the step, including timers that the
    callbacks themselves schedule inside the step, each seeing ``now()`` equal to its
    own due time.  That makes simulated runs exact and repeatable.
    """

    def __init__(self, start: float = 0.0, epoch: float = 1_767_225_600.0) -> None:
        # epoch default: 2026-01-01T00:00:00Z, so records made in tests are stable.
        self._now = start
        self._epoch = epoch - start
        # (when, sequence, timer): tuples compare in C, and the sequence keeps ties in call order
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()
        self._compact_at = _MIN_HEAP

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._epoch + self._now

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> _ManualTimer:
        timer = _ManualTimer(max(when, self._now), callback, args)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        if len(self._timers) > self._compact_at:
            self._drop_cancelled()
        return timer

    def _drop_cancelled(self) -> None:
        """A cancelled timer waits in the heap until its time comes round, and a caller's
        queue timeout may be minutes away: once the heap has doubled since it was last
        cleared, drop them (asyncio's loop does the same with its cancelled handles)."""
        self._timers = [entry for entry in self._timers if not entry[2].cancelled]
        heapq.heapify(self._timers)
        self._compact_at = max(2 * len(self._timers), _MIN_HEAP)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> _ManualTimer:
        return self.call_at(self._now + delay, callback, *args)

    def next_due(self) -> float | None:
        """When the earliest pending timer fires, or None if there is none."""
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing due timers on the way."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.advance_to(self._now + seconds)

    def advance_to(self, when: float) -> None:
        while True:
            due = self.next_due()
            if due is None or due > when:
                break
            timer = heapq.heappop(self._timers)[2]
            self._now = timer.when
            timer.callback(*timer.args)
        self._now = max(self._now, when)

    def run_until_idle(self, limit: float = float("inf")) -> None:
        """Fire timers until none is left (or ``limit`` seconds of clock time are reached)."""
        while (due := self.next_due()) is not None and due <= limit:
            self.advance_to(due)


class LoopClock:
    """The real clock: an asyncio loop's monotonic time and its timers."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def now(self) -> float:
        return self.loop.time()

    def wall(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        return self.loop.call_at(when, callback, *args)

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        return self.loop.call_later(delay, callback, *args)
