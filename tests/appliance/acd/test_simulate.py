"""The simulator (the real engine in simulated time) agrees with Erlang C and Erlang A."""
from __future__ import annotations

import pytest

from appliance.acd.simulate import simulate
from appliance.errors import BadInput

# Tolerance: 4 standard errors from 20 batch means, plus a little for the start-up transient.
Z = 4.0


def close(simulated, predicted, stderr, slack):
    return abs(simulated - predicted) <= Z * stderr + slack


@pytest.mark.slow
@pytest.mark.parametrize("agents, cph, aht, hours", [
    (1, 40, 60, 300),          # M/M/1, rho 0.67
    (4, 150, 72, 150),         # 3 erlangs
    (12, 540, 60, 50),         # 9 erlangs
])
def test_simulation_agrees_with_erlang_c(agents, cph, aht, hours):
    r = simulate(agents, cph, aht, hours=hours, seed=agents, sl_threshold=20)
    c = r.analytic
    assert r.abandoned == 0 and r.offered == r.answered > 0
    assert close(r.p_wait, c.p_wait, r.batch_error("p_wait"), 0.01), (r.p_wait, c.p_wait)
    assert close(r.service_level, c.service_level, r.batch_error("service_level"), 0.01)
    assert close(r.asa, c.asa, r.batch_error("asa"), 0.03 * c.asa + 0.5), (r.asa, c.asa)
    assert r.occupancy == pytest.approx(cph * aht / 3600 / agents, abs=0.03)
    assert set(r.as_json()) == {"offered", "answered", "abandoned", "service_level", "asa", "abandon_rate",
                                "occupancy", "erlang_c"}


@pytest.mark.slow
@pytest.mark.parametrize("agents, cph, aht, patience, hours", [
    (3, 150, 90, 60, 100),      # overloaded (3.75 erlangs on 3): abandonment keeps it stable
    (6, 200, 120, 180, 100),
])
def test_simulation_agrees_with_erlang_a(agents, cph, aht, patience, hours):
    r = simulate(agents, cph, aht, patience=patience, hours=hours, seed=7, sl_threshold=20)
    a = r.analytic
    assert close(r.abandon_rate, a.p_abandon, r.batch_error("abandon_rate"), 0.01), (r.abandon_rate, a.p_abandon)
    assert close(r.p_wait, a.p_wait, r.batch_error("p_wait"), 0.01), (r.p_wait, a.p_wait)
    assert close(r.service_level, a.service_level, r.batch_error("service_level"), 0.01)
    assert close(r.asa, a.asa, r.batch_error("asa"), 0.03 * a.asa + 0.5)
    assert r.occupancy == pytest.approx(a.occupancy, abs=0.03)
    assert set(r.as_json()["erlang_a"]) == {"p_abandon", "p_wait"}


def test_same_seed_same_run_and_strategy_does_not_change_mm_n():
    one = simulate(3, 100, 90, hours=5, seed=3)
    assert simulate(3, 100, 90, hours=5, seed=3).as_json() == one.as_json()
    # identical agents: which one rings changes nothing in M/M/n (the default is ringall)
    other = simulate(3, 100, 90, hours=5, seed=3, strategy="leastrecent")
    assert other.as_json() == one.as_json()


@pytest.mark.parametrize("kwargs, message", [
    (dict(agents=0, calls_per_hour=10, aht=60), "--agents must be at least 1"),
    (dict(agents=2, calls_per_hour=-1, aht=60), "--calls-per-hour must be a number > 0"),
    (dict(agents=2, calls_per_hour=10, aht=0), "--aht must be a number > 0"),
    (dict(agents=2, calls_per_hour=200, aht=60), "without --patience the queue grows without bound"),
    (dict(agents=2, calls_per_hour=10, aht=60, patience=0), "--patience must be a number > 0"),
    (dict(agents=2, calls_per_hour=10, aht=60, strategy="best"), "strategy 'best' does not exist"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(BadInput, match=message):
        simulate(**kwargs)
