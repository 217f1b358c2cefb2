from drivers.clock import ManualClock


def test_timers_fire_in_time_order_with_ties_in_call_order():
    clock = ManualClock()
    fired = []
    clock.call_later(2.0, fired.append, "b")
    clock.call_later(1.0, fired.append, "a")
    clock.call_later(2.0, fired.append, "c")
    clock.advance(1.5)
    assert fired == ["a"]
    clock.advance(0.5)
    assert fired == ["a", "b", "c"]
    assert clock.now() == 2.0


def test_timers_scheduled_by_callbacks_fire_within_the_same_step_at_their_own_time():
    clock = ManualClock()
    seen = []

    def first():
        seen.append(("first", clock.now()))
        clock.call_later(0.25, lambda: seen.append(("second", clock.now())))

    clock.call_later(0.5, first)
    clock.advance(1.0)
    assert seen == [("first", 0.5), ("second", 0.75)]
    assert clock.now() == 1.0


def test_cancelled_timer_does_not_fire_and_wall_follows_now():
    clock = ManualClock(epoch=1000.0)
    fired = []
    handle = clock.call_later(1.0, fired.append, 1)
    handle.cancel()
    clock.advance(5)
    assert fired == []
    assert clock.next_due() is None
    assert clock.wall() == 1005.0
