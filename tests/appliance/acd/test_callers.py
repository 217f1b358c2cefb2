"""Callers: priority and position, cross-queue fairness, limits, escalation, announcements."""
from __future__ import annotations

import pytest

from appliance.acd import AgentConfig, Membership, PenaltyRule, QueueConfig
from appliance.acd import events as ev

from .conftest import agents_in


def test_priority_at_join_and_while_waiting_orders_the_queue(build, clock):
    engine, rec = build(["q"], agents_in("q", "a"), login=False)
    engine.join("q", "c1")
    engine.join("q", "c2")
    assert engine.join("q", "vip", priority=5).position == 1
    engine.join("q", "c3")
    assert engine.waiting("q") == ["vip", "c1", "c2", "c3"]
    assert engine.set_priority("c3", 2) == 2
    assert engine.waiting("q") == ["vip", "c3", "c1", "c2"]
    assert [e.position for e in rec.of(ev.CallerJoined)] == [1, 2, 1, 4]
    engine.agent_login("a")
    assert [e.caller for e in rec.of(ev.Offer)] == ["vip"]


def test_an_agent_in_several_queues_takes_the_longest_waiting_caller(build, clock):
    engine, rec = build(["q1", "q2", "q3"],
                        [AgentConfig("a", queues=(Membership("q1"), Membership("q2"), Membership("q3")))], login=False)
    engine.join("q2", "first")
    clock.advance(1)
    engine.join("q1", "second")
    clock.advance(1)
    engine.join("q3", "third")
    engine.agent_login("a")
    served = []
    for _ in range(3):
        caller = rec.of(ev.Offer)[-1].caller
        served.append(caller)
        engine.answer(caller, "a")
        engine.agent_hangup("a")
    assert served == ["first", "second", "third"]


def test_queue_weight_goes_before_wait(build, clock):
    engine, rec = build([QueueConfig("low"), QueueConfig("high", weight=10)],
                        [AgentConfig("a", queues=(Membership("low"), Membership("high")))], login=False)
    engine.join("low", "old")
    clock.advance(100)
    engine.join("high", "new")
    engine.agent_login("a")
    assert rec.of(ev.Offer)[0].caller == "new"


def test_callers_outside_the_agents_penalty_are_skipped_not_blocking(build, clock):
    engine, rec = build(["q"], agents_in("q", "a", penalties={"a": 3}), login=False)
    engine.join("q", "picky", max_penalty=1)
    engine.join("q", "easy")
    engine.agent_login("a")
    assert [e.caller for e in rec.of(ev.Offer)] == ["easy"]


def test_maxlen_refuses_with_full(build, clock):
    engine, rec = build([QueueConfig("q", maxlen=2)], [])
    assert engine.join("q", "c1").status == "joined"
    engine.join("q", "c2")
    assert engine.join("q", "c3") == ("full", 0)
    assert [(e.caller, e.reason) for e in rec.of(ev.JoinRefused)] == [("c3", "full")]
    assert engine.waiting("q") == ["c1", "c2"]


def test_max_wait_sends_the_caller_to_the_overflow(build, clock):
    engine, rec = build([QueueConfig("q", max_wait=60, overflow="ivr:voicemail")], [])
    engine.join("q", "c1")
    clock.advance(59.9)
    assert rec.of(ev.CallerLeft) == []
    clock.advance(0.1)
    (left,) = rec.of(ev.CallerLeft)
    assert (left.reason, left.destination, left.waited) == ("timeout", "ivr:voicemail", 60.0)
    assert engine.waiting("q") == []


@pytest.mark.parametrize("joinempty, setup, joins", [
    ("yes", "nobody", True),                 # no conditions: always join
    ("no", "nobody", False),                 # no members at all
    ("no", "paused", False),                 # penalty,paused,invalid
    ("no", "talking", True),                 # in use is fine for "no"
    ("paused,inuse", "talking", False),
    ("paused,inuse", "wrapup", True),
    ("wrapup", "wrapup", False),
    ("ringing", "ringing", False),
    ("strict", "unavailable", False),
    ("loose", "paused", True),
    ("penalty", "penalty", False),
    ("no", "penalty", False),
])
def test_joinempty_uses_app_queues_conditions(build, clock, joinempty, setup, joins):
    engine, rec = build([QueueConfig("q", joinempty=joinempty), QueueConfig("side", wrapuptime=100)],
                        [AgentConfig("a", queues=(Membership("q", 2), Membership("side")))],
                        login=setup != "nobody")
    if setup == "paused":
        engine.agent_pause("a", "break")
    elif setup in ("talking", "wrapup", "ringing"):
        engine.join("side", "s1")
        if setup != "ringing":
            engine.answer("s1", "a")
        if setup == "wrapup":
            engine.agent_hangup("a")
    elif setup == "unavailable":
        engine.agent_device("a", "unavailable")
    result = engine.join("q", "c1", max_penalty=1 if setup == "penalty" else None)
    assert (result.status == "joined") is joins
    if not joins:
        assert rec.of(ev.JoinRefused)[-1].reason == "joinempty"


def test_leavewhenempty_is_evaluated_when_members_change(build, clock):
    engine, rec = build([QueueConfig("q", leavewhenempty="yes")], agents_in("q", "a", "b"))
    engine.agent_pause("a", "break")
    engine.agent_pause("b", "break", queue="q")
    assert rec.of(ev.CallerLeft) == []           # nobody waits yet
    engine.agent_unpause("b")
    engine.join("q", "c1")                      # offered to b at once
    engine.answer("c1", "b")
    engine.join("q", "c2")
    engine.join("q", "c3")
    engine.agent_logout("b")                    # logout after the call; still counts (inuse not listed)
    assert rec.of(ev.CallerLeft) == []
    engine.hangup("c1")                         # b logs out: no member present any more
    assert sorted((e.caller, e.reason) for e in rec.of(ev.CallerLeft)) == [("c2", "empty"), ("c3", "empty")]


def test_exit_keys(build, clock):
    engine, rec = build([QueueConfig("q", exit_keys="0#")], [])
    engine.join("q", "c1")
    clock.advance(7)
    assert engine.key("c1", "5") is False
    assert engine.key("c1", "0") is True
    (left,) = rec.of(ev.CallerLeft)
    assert (left.reason, left.key, left.waited, left.position) == ("key", "0", 7.0, 1)


def test_abandon_and_resume_within_the_window(build, clock):
    queue = QueueConfig("q", abandoned_resume_allowed=True, discard_abandoned_after=60)
    engine, rec = build([queue], [])
    engine.join("q", "c1", callerid="555")
    clock.advance(10)
    engine.join("q", "c2", callerid="666")
    clock.advance(20)
    engine.hangup("c1")                         # waited 30 s at position 1
    clock.advance(30)
    engine.join("q", "c3", callerid="777")
    result = engine.join("q", "c1-again", callerid="555")
    assert result == ("resumed", 1)
    assert engine.waiting("q") == ["c1-again", "c2", "c3"]
    assert engine.caller_status("c1-again").waited == 60.0
    resumed = rec.of(ev.CallerJoined)[-1]
    assert resumed.resumed and resumed.abandoned_wait == 30.0


def test_resume_window_closes(build, clock):
    engine, rec = build([QueueConfig("q", abandoned_resume_allowed=True, discard_abandoned_after=60)], [])
    engine.join("q", "c1", callerid="555")
    engine.hangup("c1")
    clock.advance(61)
    assert engine.join("q", "c2", callerid="555").status == "joined"


def test_penaltychange_rules_widen_the_window_while_waiting(build, clock):
    rules = (PenaltyRule(after=30, max_penalty="+1"), PenaltyRule(after=60, max_penalty="5", min_penalty="1"))
    engine, rec = build([QueueConfig("q", penaltychange=rules, max_penalty=0)],
                        agents_in("q", "p1", "p3", penalties={"p1": 1, "p3": 3}))
    engine.join("q", "c1")
    clock.advance(29.9)
    assert rec.offers() == []
    clock.advance(0.1)
    assert rec.offers() == ["p1"]
    engine.decline("c1", "p1")
    engine.agent_pause("p1", "x")
    clock.advance_to(60)
    assert [(e.min_penalty, e.max_penalty) for e in rec.of(ev.CallerPenaltyChanged)] == [(0, 1), (1, 5)]
    assert rec.offers() == ["p1", "p3"]


def test_tier_rules_open_levels_over_time(build, clock):
    queue = QueueConfig("q", tier_rules_apply=True, tier_rule_wait_second=10, tier_rule_wait_multiply_level=True)
    engine, rec = build([queue], agents_in("q", "l1", "l3", penalties={"l1": 1, "l3": 3}))
    engine.agent_pause("l1", "x")
    engine.join("q", "c1")
    clock.advance(29.9)
    assert rec.offers() == []
    clock.advance(0.1)                          # level 3 after 3 x 10 s
    assert rec.offers() == ["l3"]


def test_tier_rule_no_agent_no_wait_skips_empty_levels(build, clock):
    queue = QueueConfig("q", tier_rules_apply=True, tier_rule_wait_second=10, tier_rule_no_agent_no_wait=True)
    engine, rec = build([queue], agents_in("q", "l1", "l3", penalties={"l1": 1, "l3": 3}))
    engine.agent_pause("l1", "x")
    engine.join("q", "c1")
    assert rec.offers() == ["l3"]


def test_position_and_holdtime_announcements(build, clock):
    queue = QueueConfig("q", announce_frequency=60, min_announce_frequency=15, announce_position="yes",
                        announce_holdtime="yes")
    engine, rec = build([queue], agents_in("q", "a"))
    engine.join("q", "c0")
    engine.answer("c0", "a")                    # a busy; hold-time average starts at 0
    engine.queues["q"].holdtime = 300.0         # as if recent callers waited 5 minutes
    engine.join("q", "c1")
    engine.join("q", "c2")
    clock.advance(15)
    engine.hangup("c1")                         # c2 moves up to position 1
    clock.advance(15)
    said = [(e.time, e.caller, e.position, e.holdtime_minutes) for e in rec.of(ev.Announcement)]
    assert said == [(0, "c1", 1, 5), (0, "c2", 2, 5), (30, "c2", 1, 5)]
    clock.advance(60)                           # nothing changed: the next at 90 s
    assert [(e.time, e.caller) for e in rec.of(ev.Announcement)][-1] == (90, "c2")


def test_position_limit_and_more(build, clock):
    queue = QueueConfig("q", announce_frequency=60, announce_position="more", announce_position_limit=2)
    engine, rec = build([queue], [])
    for i in range(3):
        engine.join("q", f"c{i}")
    assert [(e.position, e.more_than) for e in rec.of(ev.Announcement)] == [(1, None), (2, None), (None, 2)]


def test_periodic_announcements_cycle(build, clock):
    queue = QueueConfig("q", periodic_announce=("thanks", "website"), periodic_announce_frequency=30)
    engine, rec = build([queue], [])
    engine.join("q", "c1")
    clock.advance(95)
    assert [(e.time, e.prompt) for e in rec.of(ev.Announcement)] == [(30, "thanks"), (60, "website"), (90, "thanks")]


def test_leavewhenempty_checks_a_caller_joining_an_empty_queue(build, clock):
    engine, rec = build([QueueConfig("q", joinempty="yes", leavewhenempty="strict")], agents_in("q", "a"), login=False)
    assert engine.join("q", "c1") == ("leaveempty", 1)
    assert [(e.caller, e.reason) for e in rec.of(ev.CallerLeft)] == [("c1", "empty")]
    assert engine.waiting("q") == []


@pytest.mark.parametrize("holdtime, waited, rounding, expected", [
    (300, 0, 0, (5, 0)),          # nearest minute
    (300, 50, 0, (4, 0)),         # 250 s -> 4 min (4:10 rounds down)
    (300, 20, 0, (5, 0)),         # 280 s -> 5 min (4:40 rounds up)
    (300, 50, 15, (4, 0)),        # 4:10 -> 4 min 0 s in 15 s steps
    (300, 20, 15, (4, 30)),       # 4:40 -> 4 min 30 s
    (300, 400, 10, (0, 0)),       # waited past the estimate: never negative
])
def test_estimated_hold_time_rounding(holdtime, waited, rounding, expected):
    from appliance.acd.announcements import estimated_hold
    assert estimated_hold(holdtime, waited, rounding) == expected
