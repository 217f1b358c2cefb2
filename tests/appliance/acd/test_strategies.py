"""Each strategy's exact ring order (names and aliases from app_queue and mod_callcenter)."""
from __future__ import annotations

import math
import typing

import pytest

from appliance.acd import AgentConfig, AgentRecord, QueueConfig, STRATEGIES
from appliance.acd import events as ev
from appliance.acd.config import StrategyName
from appliance.acd.strategies import ALIASES, STRATEGY_NAMES, resolve
from appliance.errors import BadInput

from .conftest import agents_in


def test_every_name_and_alias_is_documented_and_accepted_by_config():
    assert set(typing.get_args(StrategyName)) == set(STRATEGY_NAMES)
    assert {"ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear", "wrandom"} <= set(STRATEGIES)
    assert {"longest-idle-agent", "round-robin", "top-down", "sequentially-by-agent-order",
            "agent-with-least-talk-time", "agent-with-fewest-calls", "ring-all"} <= set(ALIASES)
    for name in STRATEGY_NAMES:
        assert resolve(name).doc
    with pytest.raises(BadInput, match="strategy 'fastest' does not exist"):
        QueueConfig("q", strategy="fastest")


def _serve_one_by_one(engine, rec, clock, count, talk=1.0, gap=0.0):
    """Callers join one at a time; each is answered at once and talks ``talk`` seconds."""
    order = []
    for i in range(count):
        rec.clear()
        engine.join("q", f"c{i}")
        agent = rec.offers()[-1]
        order.append(agent)
        engine.answer(f"c{i}", agent)
        clock.advance(talk)
        engine.agent_hangup(agent)
        clock.advance(gap)
    return order


@pytest.mark.parametrize("name", ["linear", "top-down", "sequentially-by-agent-order"])
def test_linear_rings_one_at_a_time_from_the_top_for_every_caller(build, clock, name):
    engine, rec = build([QueueConfig("q", strategy=name, timeout=15, retry=5)], agents_in("q", "a", "b", "c"))
    engine.join("q", "c1")
    clock.advance(3 * 20 + 1)          # three ring-no-answers, each followed by the retry pause
    assert [(e.time, e.agent) for e in rec.of(ev.Offer)] == [(0, "a"), (20, "b"), (40, "c"), (60, "a")]
    assert [e.agent for e in rec.of(ev.RingNoAnswer)] == ["a", "b", "c"]
    engine.answer("c1", "a")
    engine.agent_hangup("a")
    rec.clear()
    engine.join("q", "c2")             # a new caller starts at the top again
    assert rec.offers() == ["a"]


def test_ring_progressively_adds_the_next_agent_while_earlier_ones_keep_ringing(build, clock):
    queue = QueueConfig("q", strategy="ring-progressively", timeout=25, ring_progressively_delay=10)
    engine, rec = build([queue], agents_in("q", "a", "b", "c"))
    engine.join("q", "c1")
    clock.advance(21)
    assert [(e.time, e.agent) for e in rec.of(ev.Offer)] == [(0, "a"), (10, "b"), (20, "c")]
    assert rec.of(ev.RingNoAnswer) == []            # a is still ringing at 20 s
    engine.answer("c1", "b")
    assert sorted((e.agent, e.reason) for e in rec.of(ev.RingCanceled)) == [
        ("a", "answered_elsewhere"), ("c", "answered_elsewhere")]


@pytest.mark.parametrize("name", ["ringall", "ring-all"])
def test_ringall_rings_every_free_agent_at_the_best_penalty(build, clock, name):
    engine, rec = build([QueueConfig("q", strategy=name)],
                        agents_in("q", "a", "b", "c", "d", penalties={"a": 1, "b": 0, "c": 0, "d": 0}))
    engine.agent_pause("d", "lunch")
    rec.clear()
    engine.join("q", "c1")
    assert rec.offers() == ["b", "c"]
    engine.answer("c1", "c")
    assert [(e.agent, e.reason) for e in rec.of(ev.RingCanceled)] == [("b", "answered_elsewhere")]
    assert engine.agent_status("b").state == "available"


def _rr_setup(build, name):
    # d comes first in configured order but joins the queue last (dynamic member).
    agents = [AgentConfig("d"), *agents_in("q", "a", "b", "c")]
    engine, rec = build([QueueConfig("q", strategy=name)], agents)
    engine.add_member("d", "q")
    return engine, rec


@pytest.mark.parametrize("name", ["rrmemory", "round-robin"])
def test_rrmemory_goes_round_in_order_of_addition(build, clock, name):
    engine, rec = _rr_setup(build, name)
    assert _serve_one_by_one(engine, rec, clock, 6) == ["a", "b", "c", "d", "a", "b"]


def test_rrordered_goes_round_in_configured_order(build, clock):
    engine, rec = _rr_setup(build, "rrordered")
    assert _serve_one_by_one(engine, rec, clock, 6) == ["d", "a", "b", "c", "d", "a"]


@pytest.mark.parametrize("name", ["leastrecent", "longest-idle-agent"])
def test_leastrecent_takes_the_agent_idle_longest(build, clock, name):
    engine, rec = build([QueueConfig("q", strategy=name)], agents_in("q", "a", "b", "c"))
    # a talks 10 s from t=0, b 2 s from t=1, c 3 s from t=2: idle since 10, 3, 5.
    for caller, talk in (("c1", 10), ("c2", 2), ("c3", 3)):
        engine.join("q", caller)
        engine.answer(caller, rec.offers()[-1])
        clock.call_later(talk, engine.hangup, caller)
        clock.advance(1)
    clock.advance(10)
    assert rec.offers() == ["a", "b", "c"]
    assert _serve_one_by_one(engine, rec, clock, 3) == ["b", "c", "a"]


def _restored(build, name, records):
    engine, rec = build([QueueConfig("q", strategy=name)], agents_in("q", "a", "b", "c"), login=False)
    engine.restore(records)
    return engine, rec


@pytest.mark.parametrize("name", ["fewestcalls", "agent-with-fewest-calls"])
def test_fewestcalls_takes_the_agent_with_fewest_calls_in_the_queue(build, clock, name):
    calls = {"a": 5, "b": 1, "c": 3}
    engine, rec = _restored(build, name, [
        AgentRecord(i, logged_in=True, calls=n, members={"q": (0, False, "", n)}) for i, n in calls.items()])
    assert _serve_one_by_one(engine, rec, clock, 7) == ["b", "b", "b", "c", "b", "c", "a"]


@pytest.mark.parametrize("name", ["least-talk-time", "agent-with-least-talk-time"])
def test_least_talk_time_takes_the_agent_with_least_talk(build, clock, name):
    talk = {"a": 100.0, "b": 10.0, "c": 50.0}
    engine, rec = _restored(build, name, [
        AgentRecord(i, logged_in=True, talk_time=t, members={"q": (0, False, "", 0)}) for i, t in talk.items()])
    assert _serve_one_by_one(engine, rec, clock, 7, talk=30) == ["b", "b", "c", "b", "c", "a", "b"]


def test_random_picks_evenly_among_the_best_penalty_only(build, clock):
    engine, rec = build([QueueConfig("q", strategy="random")],
                        agents_in("q", "a", "b", "c", penalties={"a": 0, "b": 0, "c": 1}), seed=7)
    order = _serve_one_by_one(engine, rec, clock, 400, talk=0)
    assert "c" not in order
    # binomial(400, 1/2): 4 sigma = 40
    assert abs(order.count("a") - 200) < 40


def _wrandom_probabilities(penalties):
    """P(agent i has the lowest draw), draws uniform on [0, (1 + p) * 1000)."""
    widths = [(1 + p) * 1000 for p in penalties]
    probs = []
    for i, w in enumerate(widths):
        # integrate over x in [0, w): density 1/w times P(all others > x)
        steps = 20000
        total = 0.0
        for k in range(steps):
            x = (k + 0.5) * w / steps
            others = math.prod(max(0.0, 1 - x / v) for j, v in enumerate(widths) if j != i)
            total += others / steps
        probs.append(total)
    return probs


def test_wrandom_weights_the_draw_by_penalty(build, clock):
    penalties = {"a": 0, "b": 1, "c": 3}
    engine, rec = build([QueueConfig("q", strategy="wrandom")], agents_in("q", "a", "b", "c", penalties=penalties),
                        seed=11)
    n = 1500
    order = _serve_one_by_one(engine, rec, clock, n, talk=0)
    for agent, p in zip("abc", _wrandom_probabilities(list(penalties.values()))):
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(order.count(agent) - n * p) < 4 * sigma + 1, (agent, order.count(agent), n * p)
    assert order.count("c") > 0        # unlike random, a worse penalty still gets calls


def test_a_reloaded_queue_routes_by_its_new_strategy_and_rings_with_its_new_timeout(build, clock):
    engine, rec = build([QueueConfig("q", strategy="linear", timeout=15, retry=5)], agents_in("q", "a", "b", "c"))
    engine.join("q", "c1")                       # ringing a under the old settings
    engine.reconfigure_queue(QueueConfig("q", strategy="ringall", timeout=4, retry=1))
    assert engine.queue_status("q").strategy == "ringall"
    clock.advance(15)                            # the offer already ringing keeps its 15 s
    assert [(e.time, e.agent) for e in rec.of(ev.RingNoAnswer)] == [(15, "a")]
    clock.advance(1)                             # the new retry pause; then every untried agent at once
    assert [(e.time, e.agent) for e in rec.of(ev.Offer)] == [(0, "a"), (16, "b"), (16, "c")]
    rec.clear()
    clock.advance(4)                             # with the new timeout
    assert sorted((e.agent, e.ringtime) for e in rec.of(ev.RingNoAnswer)) == [("b", 4), ("c", 4)]
