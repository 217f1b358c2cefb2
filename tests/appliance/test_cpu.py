"""The service's CPU meter: parts measured inside another count once, as themselves."""
from __future__ import annotations

import pytest

from appliance import cpu
from appliance.cpu import CpuMeter


@pytest.fixture
def clock(monkeypatch):
    """A thread CPU clock that moves only when the work says so."""
    now = [0.0]
    monkeypatch.setattr(cpu.time, "thread_time", lambda: now[0])

    def spend(seconds: float) -> None:
        now[0] += seconds
    return spend


def test_a_part_inside_another_is_taken_out_of_it(clock):
    meter = CpuMeter()

    def timers() -> str:
        clock(2.0)
        meter.measure("housekeeping", clock, 5.0)     # a timer that is measured apart
        clock(1.0)
        meter.measure("housekeeping", clock, 3.0)
        return "done"

    assert meter.measure("timers", timers) == "done"
    assert meter.seconds == {"timers": 3.0, "housekeeping": 8.0}
    meter.measure("store", clock, 4.0)                # after it, nothing left over from the nesting
    assert meter.seconds["store"] == 4.0


def test_a_part_that_raises_is_still_counted_and_leaves_no_nesting(clock):
    meter = CpuMeter()

    def failing() -> None:
        clock(2.0)
        raise ValueError("bad frame")

    with pytest.raises(ValueError):
        meter.measure("signalling", failing)
    meter.measure("store", clock, 1.0)
    assert meter.seconds == {"signalling": 2.0, "store": 1.0}
