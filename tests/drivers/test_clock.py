"""ManualClock: timers in time order, and cancelled timers let go of what they hold."""
from __future__ import annotations

import gc
import weakref

from drivers.clock import ManualClock


class Caller:
    """Something a timer's callback keeps alive."""

    def ring(self) -> None:
        raise AssertionError("a cancelled timer fired")


def test_timers_fire_in_time_order_ties_in_call_order_each_at_its_time():
    clock = ManualClock()
    fired = []
    clock.call_later(2.0, lambda: fired.append(("b", clock.now())))
    clock.call_later(1.0, lambda: fired.append(("a", clock.now())))
    clock.call_later(2.0, lambda: fired.append(("c", clock.now())))
    clock.call_later(1.5, lambda: clock.call_later(0.2, lambda: fired.append(("inner", clock.now()))))
    clock.advance(2.0)
    assert fired == [("a", 1.0), ("inner", 1.7), ("b", 2.0), ("c", 2.0)]
    assert clock.now() == 2.0 and clock.next_due() is None


def test_a_cancelled_timer_lets_go_of_its_callback_at_once():
    clock = ManualClock()
    caller = Caller()
    gone = weakref.ref(caller)
    clock.call_later(300.0, caller.ring).cancel()    # a queue timeout minutes away
    del caller
    gc.disable()                                       # freed by its last reference, not by the collector
    try:
        assert gone() is None
    finally:
        gc.enable()
    clock.advance(301.0)                               # and it does not fire


def test_cancelled_timers_are_dropped_once_they_fill_the_heap():
    clock = ManualClock()
    keep = clock.call_later(1000.0, lambda: None)
    for _ in range(5000):
        clock.call_later(300.0, lambda: None).cancel()
    assert len(clock._timers) <= 1024                  # not the 5001 it would hold
    fired = []
    clock.call_later(2.0, lambda: fired.append(clock.now()))
    clock.advance(1000.0)
    assert fired == [2.0] and not keep.cancelled and clock.next_due() is None
