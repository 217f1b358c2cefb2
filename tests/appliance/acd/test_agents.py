"""Agent lifecycle: states, wrap-up across queues, ring timeout, autopause, ringinuse, bad input."""
from __future__ import annotations

import pytest

from appliance.acd import AgentConfig, Membership, QueueConfig
from appliance.acd import events as ev
from appliance.errors import BadInput

from .conftest import agents_in


def states(rec, agent):
    return [e.state for e in rec.of(ev.AgentStateChanged) if e.agent == agent]


def test_lifecycle_walks_every_state(build, clock):
    engine, rec = build([QueueConfig("q", wrapuptime=10)], agents_in("q", "a"), login=False)
    assert engine.agent_status("a").state == "logged_out"
    engine.agent_login("a")
    engine.agent_pause("a", "lunch")
    assert engine.agent_status("a").state == "paused" and engine.agent_status("a").reason == "lunch"
    engine.agent_unpause("a")
    engine.join("q", "c1")
    engine.ringing("c1", "a")
    engine.answer("c1", "a")
    clock.advance(30)
    engine.agent_hangup("a")
    clock.advance(10)
    engine.agent_logout("a")
    assert states(rec, "a") == ["available", "paused", "available", "reserved", "ringing", "talking",
                                "wrapup", "available", "logged_out"]


def test_wrapup_is_per_agent_across_queues_and_never_ends_early(build, clock):
    queues = [QueueConfig("q1", wrapuptime=30), QueueConfig("q2", wrapuptime=0)]
    engine, rec = build(queues, [AgentConfig("a", queues=(Membership("q1"), Membership("q2")))])
    engine.join("q1", "c1")
    engine.answer("c1", "a")
    clock.advance(5)
    engine.hangup("c1")                        # wrap-up from 5 s to 35 s
    engine.join("q2", "c2")                    # another queue's caller waits meanwhile
    engine.agent_unpause("a")                  # no event may cut wrap-up short
    engine.agent_device("a", "not_inuse")
    clock.advance_to(34.999)
    assert engine.agent_status("a").state == "wrapup"
    assert rec.offers() == ["a"]               # only c1's offer so far
    clock.advance_to(35.0)
    assert [(e.time, e.caller) for e in rec.of(ev.Offer)][-1] == (35.0, "c2")


def test_agent_wrapuptime_overrides_the_queue(build, clock):
    engine, rec = build([QueueConfig("q", wrapuptime=30)], agents_in("q", "a", wrapuptime=3.0))
    engine.join("q", "c1")
    engine.answer("c1", "a")
    engine.agent_hangup("a")
    clock.advance(3)
    assert engine.agent_status("a").state == "available"


def test_ring_timeout_then_retry_then_next_agent(build, clock):
    engine, rec = build([QueueConfig("q", strategy="linear", timeout=10, retry=4)], agents_in("q", "a", "b"))
    engine.join("q", "c1")
    clock.advance(10)
    (rna,) = rec.of(ev.RingNoAnswer)
    assert (rna.agent, rna.ringtime, rna.reason) == ("a", 10.0, "timeout")
    assert engine.caller_status("c1").state == "retry"
    clock.advance(3.9)
    assert rec.offers() == ["a"]
    clock.advance(0.1)
    assert rec.offers() == ["a", "b"]


def test_a_free_agent_takes_another_caller_while_the_first_waits_out_retry(build, clock):
    engine, rec = build([QueueConfig("q", strategy="linear", timeout=10, retry=30)], agents_in("q", "a"))
    engine.join("q", "c1")
    engine.join("q", "c2")
    clock.advance(10)
    assert [(e.caller, e.agent) for e in rec.of(ev.Offer)] == [("c1", "a"), ("c2", "a")]


@pytest.mark.parametrize("mode, paused_queues", [("yes", {"q1"}), ("all", {"q1", "q2"})])
def test_autopause_after_n_no_answers(build, clock, mode, paused_queues):
    queues = [QueueConfig("q1", timeout=5, retry=1, autopause=mode, max_no_answer=2), QueueConfig("q2")]
    engine, rec = build(queues, [AgentConfig("a", queues=(Membership("q1"), Membership("q2")))])
    engine.join("q1", "c1")
    clock.advance(5)
    assert rec.of(ev.AgentPaused) == []        # one miss is not enough
    clock.advance(1 + 5)
    (paused,) = rec.of(ev.AgentPaused)
    assert paused.reason == "Auto-Pause" and set(paused.queues) == paused_queues
    status = engine.agent_status("a")
    assert {q for q, m in status.queues.items() if m["paused"]} == paused_queues
    assert status.state == ("paused" if mode == "all" else "available")


def test_answer_resets_the_no_answer_streak(build, clock):
    engine, rec = build([QueueConfig("q", timeout=5, retry=0, autopause="yes", max_no_answer=2)], agents_in("q", "a"))
    engine.join("q", "c1")
    clock.advance(5)                            # miss 1, rung again at once
    engine.answer("c1", "a")
    engine.agent_hangup("a")
    engine.join("q", "c2")
    clock.advance(5)                            # miss 1 again, not 2
    assert rec.of(ev.AgentPaused) == []


def test_decline_is_a_ring_no_answer_now(build, clock):
    engine, rec = build([QueueConfig("q", retry=0, strategy="linear")], agents_in("q", "a", "b"))
    engine.join("q", "c1")
    engine.decline("c1", "a")
    assert [(e.agent, e.reason, e.ringtime) for e in rec.of(ev.RingNoAnswer)] == [("a", "declined", 0.0)]
    assert rec.offers() == ["a", "b"]


def test_ringinuse_and_busy_elsewhere(build, clock):
    queues = [QueueConfig("plain"), QueueConfig("inuse_ok", ringinuse=True)]
    engine, rec = build(queues, [AgentConfig("a", queues=(Membership("plain"), Membership("inuse_ok")))])
    engine.agent_device("a", "inuse")          # on a call outside the ACD
    engine.join("plain", "c1")
    assert rec.offers() == []
    engine.join("inuse_ok", "c2")
    assert rec.offers() == ["a"]
    engine.answer("c2", "a")
    engine.agent_device("a", "not_inuse")
    assert rec.offers() == ["a"]               # busy with an ACD call: skipped everywhere
    engine.agent_hangup("a")
    assert [(e.caller, e.agent) for e in rec.of(ev.Offer)][-1] == ("c1", "a")


def test_unreachable_device_is_skipped(build, clock):
    engine, rec = build([QueueConfig("q")], agents_in("q", "a"))
    engine.agent_device("a", "unavailable")
    engine.join("q", "c1")
    assert rec.offers() == []
    engine.agent_device("a", "not_inuse")
    assert rec.offers() == ["a"]


def test_logout_during_a_call_waits_for_its_end(build, clock):
    engine, rec = build([QueueConfig("q", wrapuptime=20)], agents_in("q", "a"))
    engine.join("q", "c1")
    engine.answer("c1", "a")
    assert engine.agent_logout("a") is False
    engine.join("q", "c2")
    engine.hangup("c1")
    assert engine.agent_status("a").state == "logged_out"
    assert rec.offers() == ["a"]


def test_logout_while_ringing_hands_the_caller_on(build, clock):
    engine, rec = build([QueueConfig("q", strategy="linear")], agents_in("q", "a", "b"))
    engine.join("q", "c1")
    engine.agent_logout("a")
    assert [(e.agent, e.reason) for e in rec.of(ev.RingCanceled)] == [("a", "agent_left")]
    assert rec.offers() == ["a", "b"]


def test_pause_in_one_queue_only(build, clock):
    queues = [QueueConfig("q1"), QueueConfig("q2")]
    engine, rec = build(queues, [AgentConfig("a", queues=(Membership("q1"), Membership("q2")))])
    engine.agent_pause("a", "training", queue="q1")
    engine.join("q1", "c1")
    assert rec.offers() == []
    engine.join("q2", "c2")
    assert rec.offers() == ["a"]
    assert engine.agent_status("a").queues["q1"]["reason"] == "training"


def snapshot(engine):
    return ({a: engine.agent_status(a) for a in engine.agents},
            {q: engine.queue_status(q) for q in engine.queues})


@pytest.mark.parametrize("action, message", [
    (lambda e: e.agent_login("a"), "agent 'a' is already logged in"),
    (lambda e: e.agent_login("zz"), "unknown agent 'zz'"),
    (lambda e: e.join("nope", "c9"), "unknown queue 'nope'"),
    (lambda e: e.join("q", "c1"), "caller 'c1' is already queued"),
    (lambda e: e.join("q", "c9", max_penalty=-1), "max_penalty must be a whole number >= 0"),
    (lambda e: e.join("q", "c9", min_penalty=3, max_penalty=1), "min_penalty 3 is above max_penalty 1"),
    (lambda e: e.set_penalty("a", "q", -2), "penalty must be a whole number >= 0"),
    (lambda e: e.add_member("a", "q"), "already a member"),
    (lambda e: e.agent_pause("b", "x"), "agent 'b' is not logged in"),
    (lambda e: e.agent_pause("a", "x", queue="other"), "not a member of queue 'other'"),
    (lambda e: e.agent_pause("a", "x", queue="zz"), "unknown queue 'zz'"),
    (lambda e: e.answer("c1", "b"), "not being offered to agent 'b'"),
    (lambda e: e.agent_hangup("a"), "not on a queue call"),
    (lambda e: e.key("c1", "x"), "not a DTMF digit"),
    (lambda e: e.agent_device("a", "melting"), "device state 'melting'"),
])
def test_bad_input_is_refused_and_changes_nothing(build, clock, action, message):
    engine, rec = build([QueueConfig("q"), QueueConfig("other")],
                        [*agents_in("q", "a"), AgentConfig("b", queues=(Membership("q"),))], login=False)
    engine.agent_login("a")
    engine.join("q", "c1")
    rec.clear()
    before = snapshot(engine)
    with pytest.raises(BadInput, match=message):
        action(engine)
    assert snapshot(engine) == before
    assert rec.events == []


def test_bad_configuration_is_refused():
    from appliance.acd import AcdEngine
    from drivers.clock import ManualClock
    with pytest.raises(BadInput, match="unknown queue 'x'"):
        AcdEngine(ManualClock(), [QueueConfig("q")], [AgentConfig("a", queues=(Membership("x"),))])
    with pytest.raises(BadInput, match="penalty -1 must not be negative"):
        Membership("q", -1)
    with pytest.raises(BadInput, match="joinempty: unknown condition 'sometimes'"):
        QueueConfig("q", joinempty="paused,sometimes")
    with pytest.raises(BadInput, match="'defined twice'|is defined twice"):
        AcdEngine(ManualClock(), [QueueConfig("q"), QueueConfig("q")], [])
