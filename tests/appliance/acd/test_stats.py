"""Service levels per 15-minute interval and in total; agent occupancy."""
from __future__ import annotations

import pytest

from appliance.acd import QueueConfig
from appliance.acd.stats import StatsBook

from .conftest import agents_in

EPOCH = 1_767_225_600.0        # ManualClock's default wall clock at t=0 (an interval start)


@pytest.fixture
def setup(build, clock):
    engine, rec = build([QueueConfig("q", servicelevel=(20, 60), wrapuptime=0)], agents_in("q", "a", "b"),
                        login=False)
    stats = StatsBook.for_engine(engine)
    engine.subscribe(stats.on_event)
    return engine, stats


def at(clock, t, fn, *args):
    clock.advance_to(t)
    fn(*args)


def test_sl_sl2_asa_aht_abandon_rate_per_interval_and_total(setup, clock):
    engine, stats = setup
    e = engine
    at(clock, 0, e.join, "q", "c1")
    at(clock, 5, e.join, "q", "c2")
    at(clock, 10, e.join, "q", "c3")
    at(clock, 10, e.agent_login, "a")          # offered c1 (waited 10)
    e.answer("c1", "a")
    at(clock, 25, e.hangup, "c3")              # abandoned after 15 s
    at(clock, 40, e.agent_login, "b")          # c2 waited 35
    e.answer("c2", "b")
    at(clock, 70, e.agent_hangup, "a")
    at(clock, 100, e.hangup, "c2")
    at(clock, 890, e.join, "q", "c4")          # joins in interval 0 ...
    at(clock, 891, e.agent_pause, "a", "x")
    at(clock, 891, e.agent_pause, "b", "x")
    at(clock, 960, e.agent_unpause, "a")       # ... answered in interval 1 after 70 s
    e.answer("c4", "a")
    at(clock, 1000, e.join, "q", "c5")
    at(clock, 1100, e.hangup, "c5")            # abandoned after 100 s
    first, second = (stats.intervals["q"][EPOCH], stats.intervals["q"][EPOCH + 900])
    assert (first.offered, first.answered, first.abandoned) == (4, 3, 1)
    assert first.service_level(20) == pytest.approx(1 / 3)
    assert first.service_level(60) == pytest.approx(2 / 3)
    assert first.service_level2(20) == pytest.approx(2 / 4)
    assert first.asa == pytest.approx((10 + 35 + 70) / 3)
    assert first.aht == pytest.approx((60 + 60) / 2)
    assert first.abandon_rate == pytest.approx(1 / 4)
    assert first.longest_wait == 70
    assert (second.offered, second.abandoned, second.answered, second.longest_wait) == (1, 1, 0, 100)
    assert second.service_level(20) is None and second.service_level2(60) == 0
    total = stats.total("q")
    assert (total.offered, total.answered, total.abandoned) == (5, 3, 2)
    assert total.service_level2(60) == pytest.approx((2 + 1) / 5)


def test_wrapup_counts_in_aht_and_resumed_abandons_are_not_lost_calls(build, clock):
    engine, rec = build([QueueConfig("q", wrapuptime=10, abandoned_resume_allowed=True)], agents_in("q", "a"),
                        login=False)
    stats = StatsBook.for_engine(engine)
    engine.subscribe(stats.on_event)
    engine.join("q", "c1", callerid="555")
    clock.advance(5)
    engine.hangup("c1")
    assert stats.total("q").abandoned == 1
    engine.join("q", "c1b", callerid="555")
    engine.agent_login("a")
    engine.answer("c1b", "a")
    clock.advance(50)
    engine.agent_hangup("a")
    clock.advance(10)
    total = stats.total("q")
    assert (total.offered, total.abandoned, total.answered) == (1, 0, 1)
    assert total.aht == 60 and total.asa == 5


def test_agent_occupancy_excludes_paused_time(setup, clock):
    engine, stats = setup
    engine.agent_login("a")
    at(clock, 10, engine.join, "q", "c1")
    engine.answer("c1", "a")
    at(clock, 40, engine.agent_hangup, "a")
    at(clock, 50, engine.agent_pause, "a", "lunch")
    at(clock, 150, engine.agent_unpause, "a")
    clock.advance_to(200)
    times = stats.agents["a"]
    assert times.total("paused", clock.now()) == 100
    assert times.occupancy(clock.now()) == pytest.approx(30 / 100)
