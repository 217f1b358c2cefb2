"""CPU seconds of the service's thread by part (media tick, signalling, store, ...).

``qbox bench bhca`` prints them as its profile and ``status`` reports them.  Parts may
nest: in lock-step the once-a-second housekeeping runs as a clock timer inside the
tick's timers, and its time is its own, not the timers' as well.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

__all__ = ["CpuMeter"]


class CpuMeter:
    """``measure(kind, work, *args)`` runs ``work`` and adds its thread CPU time to
    ``seconds[kind]``, less what parts measured inside it took (each counts once)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._inner = 0.0          # CPU of the parts measured inside the running one

    def measure(self, kind: str, work: Callable[..., Any], *args: Any) -> Any:
        started = time.thread_time()
        outer_inner, self._inner = self._inner, 0.0
        try:
            return work(*args)
        finally:
            spent = time.thread_time() - started
            self.seconds[kind] += spent - self._inner
            self._inner = outer_inner + spent
