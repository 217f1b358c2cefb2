"""Erlang B/C/A in closed form against textbook values and an independent birth-death solution."""
from __future__ import annotations

import math

import pytest

from appliance.acd.erlang import erlang_a_metrics, erlang_b, erlang_c, erlang_c_metrics


def birth_death(n, calls_per_hour, aht, patience):
    """M/M/n+M by brute force: stationary distribution of the queue-length chain."""
    lam, mu = calls_per_hour / 3600, 1 / aht
    theta = 0.0 if patience is None else 1 / patience
    probs = [1.0]
    k = 1
    while True:
        death = min(k, n) * mu + max(k - n, 0) * theta
        probs.append(probs[-1] * lam / death)
        if k > n + 50 and probs[-1] < 1e-18 * sum(probs):
            break
        k += 1
    total = sum(probs)
    probs = [p / total for p in probs]
    p_wait = sum(probs[n:])
    queued = sum((k - n) * p for k, p in enumerate(probs) if k > n)
    p_abandon = theta * queued / lam
    return p_wait, p_abandon, queued / lam          # E[queue] / lam = E[W] (Little)


def test_textbook_values():
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(2, 2.0) == 1.0
    m = erlang_c_metrics(3, 120, 60, 20)          # 2 erlangs on 3 agents
    assert m.asa == pytest.approx((4 / 9) / (3 / 60 - 2 / 60))
    assert m.service_level == pytest.approx(1 - 4 / 9 * math.exp(-(1 / 60) * 20))
    assert m.occupancy == pytest.approx(2 / 3)


@pytest.mark.parametrize("n, cph, aht", [(1, 30, 60), (3, 120, 60), (10, 300, 100), (40, 1000, 130)])
def test_erlang_c_matches_the_birth_death_chain(n, cph, aht):
    p_wait, _, mean_wait = birth_death(n, cph, aht, None)
    m = erlang_c_metrics(n, cph, aht, 20)
    assert m.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert m.asa == pytest.approx(mean_wait, rel=1e-9)


@pytest.mark.parametrize("n, cph, aht, patience", [
    (1, 30, 60, 30), (3, 60, 150, 30), (4, 120, 120, 60), (8, 300, 90, 180), (10, 300, 100, 1000), (5, 400, 90, 45),
])
def test_erlang_a_matches_the_birth_death_chain(n, cph, aht, patience):
    p_wait, p_abandon, mean_wait = birth_death(n, cph, aht, patience)
    m = erlang_a_metrics(n, cph, aht, patience, 20)
    assert m.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert m.p_abandon == pytest.approx(p_abandon, rel=1e-9)
    # mean wait of all callers = P(Ab) / theta; of answered ones it is smaller
    assert m.asa * (1 - m.p_abandon) <= mean_wait + 1e-9
    assert 0 <= m.service_level <= 1


def test_erlang_a_tends_to_erlang_c_with_endless_patience():
    c = erlang_c_metrics(10, 300, 100, 20)
    a = erlang_a_metrics(10, 300, 100, 1e9, 20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
    assert a.asa == pytest.approx(c.asa, rel=1e-4)
    assert a.p_abandon < 1e-6
