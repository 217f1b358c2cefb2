"""app_queue's raise_penalty (QUEUE_RAISE_PENALTY, ``penaltychange => time,max,min,raise``):
members whose penalty is below it count as having it, for the window and the ring order."""
from __future__ import annotations

from pathlib import Path

import pytest

from appliance.acd import PenaltyRule, QueueConfig
from appliance.acd import events as ev
from appliance.acd.escalation import admits
from appliance.config import ConfigError, load_config_text
from appliance.errors import BadInput
from cython_ext.acdcore import NO_LIMIT, STRATEGY_CODES, RoutingCore
from tests.appliance.acd.conftest import agents_in

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "branch.yaml"


def test_ringall_rings_the_raised_members_together_with_those_at_the_raise(build):
    queue = QueueConfig("q", strategy="ringall")
    engine, rec = build([queue], agents_in("q", "a1", "a2", "a3", penalties={"a1": 1, "a2": 2, "a3": 3}))
    engine.join("q", "plain")
    assert rec.offers() == ["a1"]                  # the best penalty alone
    engine.hangup("plain")
    rec.clear()
    engine.join("q", "raised", raise_penalty=2)
    assert rec.offers() == ["a1", "a2"]            # a1 counts as 2: a tie with a2; a3 stays behind
    assert engine.caller_status("raised").raise_penalty == 2


def test_a_raised_member_is_ordered_as_an_equal_by_the_strategy(build):
    # linear: a2 is listed first but has the worse penalty
    queue = QueueConfig("q", strategy="linear")
    engine, rec = build([queue], agents_in("q", "a2", "a1", penalties={"a1": 1, "a2": 2}))
    engine.join("q", "plain")
    assert rec.offers() == ["a1"]
    engine.hangup("plain")
    rec.clear()
    engine.join("q", "raised", raise_penalty=5)    # both count as 5: list order decides
    assert rec.offers() == ["a2"]


def test_the_rule_raises_members_into_the_window_after_its_time(build, clock):
    # queuerules.conf: penaltychange => 30,,,2 with a window starting at min 2
    rule = PenaltyRule(after=30, raise_penalty="2")
    queue = QueueConfig("q", min_penalty=2, penaltychange=(rule,))
    engine, rec = build([queue], agents_in("q", "low", penalties={"low": 1}))
    engine.join("q", "c1")
    clock.advance(29.9)
    assert rec.offers() == []                       # penalty 1 is below min 2
    clock.advance(0.1)
    assert rec.offers() == ["low"]                  # raised to 2: inside the window
    [change] = rec.of(ev.CallerPenaltyChanged)
    assert (change.min_penalty, change.max_penalty, change.raise_penalty) == (2, None, 2)


def test_a_raise_below_the_min_admits_nobody_new(build):
    engine, rec = build([QueueConfig("q", min_penalty=3)], agents_in("q", "low", "mid", penalties={"low": 1,
                                                                                                "mid": 3}))
    engine.agent_pause("mid", "x")
    engine.join("q", "c1", raise_penalty=2)         # 1 -> 2, still below 3
    assert rec.offers() == []


def test_a_raise_above_the_max_empties_the_window_and_leavewhenempty_exits(build, clock):
    rule = PenaltyRule(after=10, raise_penalty="+3")
    queue = QueueConfig("q", max_penalty=1, leavewhenempty="penalty", penaltychange=(rule,))
    engine, rec = build([queue], agents_in("q", "a0", "a1", penalties={"a0": 0, "a1": 1}))
    engine.agent_pause("a0", "x")
    engine.agent_pause("a1", "x")
    engine.join("q", "c1")
    clock.advance(10)                               # 0 and 1 now count as 3 > max 1
    [left] = rec.of(ev.CallerLeft)
    assert (left.caller, left.reason) == ("c1", "empty")


def test_a_freed_agent_takes_a_caller_it_is_raised_for(build):
    engine, rec = build([QueueConfig("q", min_penalty=2)], agents_in("q", "low", penalties={"low": 1}))
    engine.agent_pause("low", "x")
    engine.join("q", "not-raised")
    engine.join("q", "raised", raise_penalty=2)
    engine.agent_unpause("low")                     # the agent-freed path (the core's best caller)
    assert [(e.caller, e.agent) for e in rec.of(ev.Offer)] == [("raised", "low")]


def test_joinempty_penalty_counts_raised_members(build):
    queue = QueueConfig("q", min_penalty=2, joinempty="penalty")
    engine, rec = build([queue], agents_in("q", "low", penalties={"low": 1}))
    assert engine.join("q", "c1").status == "joinempty"
    assert engine.join("q", "c2", raise_penalty=2).status == "joined"


def test_the_queue_default_starts_every_caller_raised(build):
    engine, rec = build([QueueConfig("q", raise_penalty=1)], agents_in("q", "a0", "a1", penalties={"a1": 1}))
    engine.join("q", "c1")
    assert rec.offers() == ["a0", "a1"]


@pytest.mark.parametrize("start, text, expected", [
    (0, "", 0), (0, "4", 4), (2, "+3", 5), (2, "-5", 0), (7, "1", 1)])
def test_a_rule_moves_the_raise_like_app_queue(start, text, expected):
    rule = PenaltyRule(after=1, raise_penalty=text)
    assert rule.apply(0, NO_LIMIT, start, NO_LIMIT) == (0, NO_LIMIT, expected)


def test_the_raise_is_not_clamped_to_the_max_but_the_min_is():
    rule = PenaltyRule(after=1, max_penalty="2", min_penalty="4", raise_penalty="9")
    assert rule.apply(0, 3, 0, NO_LIMIT) == (2, 2, 9)


@pytest.mark.parametrize("penalty", range(8))
@pytest.mark.parametrize("low, high, lift", [(0, NO_LIMIT, 0), (2, 5, 0), (2, 5, 1), (2, 5, 2), (2, 5, 4),
                                             (2, 5, 5), (2, 5, 6), (0, 0, 3), (3, 3, 3)])
def test_the_routing_core_admits_exactly_the_raised_members(penalty, low, high, lift):
    core = RoutingCore(seed=1)
    q = core.add_queue(0, STRATEGY_CODES["ringall"], False)
    agent = core.add_agent()
    core.add_member(agent, q, penalty, 0)
    core.set_agent(agent, True, False)
    c = core.add_caller(q, 0, 1, low, high, lift)
    expected = admits(penalty, low, high, lift)
    assert (core.select_agents(c) == [agent]) == expected
    assert (core.best_caller(agent) == c) == expected


def test_bad_raise_values_name_the_field():
    with pytest.raises(BadInput, match="raise_penalty 'two' is not a number"):
        PenaltyRule(after=1, raise_penalty="two")
    with pytest.raises(BadInput, match="raise_penalty must not be negative"):
        QueueConfig("q", raise_penalty=-1)


def test_a_bad_rule_in_the_box_configuration_names_file_line_and_field():
    text = EXAMPLE.read_text().replace("    servicelevel: [20, 60]\n",
                                       "    servicelevel: [20, 60]\n"
                                       "    penaltychange: [{after: 30, raise_penalty: \"-x\"}]\n", 1)
    line = text.splitlines().index('    penaltychange: [{after: 30, raise_penalty: "-x"}]') + 1
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "box.yaml")
    [error] = info.value.lines()
    assert error.startswith(f"box.yaml:{line}:")
    assert "penaltychange" in error and "raise_penalty '-x' is not a number" in error
