"""The rig against the real ISDN stack and simulated far end, with a stand-in for the service.

Every run is in lock-step unless it says otherwise: simulated time, as fast as the
stand-in answers, the same seed giving the same calls.
"""
from __future__ import annotations

import statistics

import pytest

from hil_tests.rigs import TrafficProfile, TrafficRig
from hil_tests.rigs.profile import Script
from tests.hil_tests.rigs.conftest import box_config

FLAT = ((0.0, 1.0), (60.0, 1.0))


def run_rig(bench, *, agents=3, standin=None, lockstep=True, duration=60.0, max_calls=None, drain=120.0,
            **profile):
    config = box_config(agents)
    farend, service = bench(config, lockstep=lockstep, **(standin or {}))
    rig = TrafficRig(farend, config, TrafficProfile(**profile), lockstep=lockstep, max_calls=max_calls, strict=True)
    try:
        report = rig.run(duration, drain=drain)
    finally:
        rig.close()
    return report, service, rig


def test_callers_key_their_scripts_and_the_service_hears_every_digit(bench):
    report, service, _ = run_rig(bench, agents=6, peak_per_minute=30, curve=FLAT, handling_mean=10,
                                 patience_mean=100_000)
    calls = report["calls"]
    assert report["offered"] == service.counters["offered"] == len(calls) >= 15
    assert report["digits_pressed"] == service.counters["digits_detected"] > 2 * len(calls)
    for call in calls:
        heard = service.callers[call["number"]]
        assert call["digits"] == "".join(call["script"]) == heard.digits
        assert heard.account == (call["script"][1][:-1] if call["script"][0] == "2" else "")
    # both scripts were used, every caller got an agent: the one the service rang
    assert {c["script"][0] for c in calls} == {"1", "2"}
    assert report["answered"] == service.counters["answered"] == len(calls)
    assert all(c["agent"] == service.callers[c["number"]].agent and c["outcome"] == "answered" for c in calls)
    assert len({c["number"] for c in calls}) == len(calls)            # one calling number per caller


def test_callers_abandon_when_their_patience_runs_out(bench):
    report, service, _ = run_rig(bench, standin={"agents": []}, peak_per_minute=20, curve=FLAT,
                                 patience_mean=8.0)
    calls = report["calls"]
    seen = (report["counters"], service.counters, [(c["outcome"], c["cleared_by"]) for c in calls])
    assert len(calls) >= 10, seen
    assert report["abandoned"] == service.counters["abandoned"] == len(calls) and report["answered"] == 0, seen
    assert all(c["outcome"] == "abandoned" and c["cleared_by"] == "caller" for c in calls), seen
    waits = [c["wait_s"] for c in calls]
    assert all(w > 0 for w in waits)
    assert 2.0 < statistics.mean(waits) < 25.0                    # exponential with a mean of 8 s


def test_unanswered_rings_move_on_and_every_ring_is_accounted_for(bench):
    report, service, _ = run_rig(bench, agents=4, standin={"ring_timeout": 3.0}, peak_per_minute=30, curve=FLAT,
                                 no_answer_fraction=0.4, ring_delay=(0.5, 2.0), patience_mean=1000, handling_mean=5)
    agents = report["agents"]
    assert report["agent_no_answer"] == service.counters["ring_timeouts"] > 0
    assert report["agent_rings"] == service.counters["rings"]
    assert all(a["rings"] == a["answered"] + a["no_answer"] for a in agents.values())
    assert report["answered"] == report["offered"] == service.counters["answered"]


def test_who_clears_an_answered_call_is_drawn_per_call(bench):
    report, service, _ = run_rig(bench, peak_per_minute=30, curve=FLAT, patience_mean=1000, handling_mean=5,
                                 caller_hangup_fraction=0.5, ring_delay=(0.5, 1.0))
    answered = [c for c in report["calls"] if c["outcome"] == "answered"]
    assert {c["cleared_by"] for c in answered} == {"caller", "agent"}
    assert all(c["talk_s"] > 0 and c["answered_at"] >= c["queued_at"] >= c["connected_at"] for c in answered)


def test_an_agent_the_configuration_does_not_name_gets_a_bot(bench):
    report, service, _ = run_rig(bench, agents=1, standin={"agents": ["7777"]}, max_calls=3, peak_per_minute=60,
                                 curve=FLAT, patience_mean=1000, handling_mean=3)
    assert report["counters"]["unknown_agents"] == 1
    assert report["agents"]["span2/7777"]["answered"] == report["answered"] == 3
    assert report["agents"]["8001"]["rings"] == 0


def test_calls_beyond_the_trunk_are_blocked_not_offered(bench):
    report, service, rig = run_rig(bench, standin={"agents": []}, max_calls=34, drain=2.0, peak_per_minute=6000,
                                   curve=FLAT, patience_mean=1000, scripts=(Script(("1",)),))
    assert report["blocked"] == 4 and report["offered"] == 30 == service.counters["offered"]
    # the rig hung up the 30 waiting callers at the end of the run
    assert report["abandoned"] == 30 and report["unfinished"] == 0
    assert {c["cleared_by"] for c in report["calls"] if c["outcome"] == "abandoned"} == {"end of run"}


def test_lockstep_waits_for_a_slow_service_and_misses_no_block(bench):
    report, service, rig = run_rig(bench, standin={"slow": 0.002}, duration=12.0, drain=10.0,
                                   peak_per_minute=30, curve=FLAT, handling_mean=3, patience_mean=1000)
    service.stop()          # its last tick's clock step follows the blocks the rig already has
    ticks = service.counters["ticks"]
    assert rig.exchange.counters["blocks"] == 2 * ticks            # one answer per span per tick, none missed
    assert "lockstep_stalls" not in report["counters"]
    assert rig.clock.now() == pytest.approx(service.clock.now()) == pytest.approx(ticks * 0.02)
    assert report["digits_pressed"] == service.counters["digits_detected"] > 0
    assert all(rig.exchange.farend.span(n).media.dropped == 0 for n in (1, 2))


def test_a_service_that_goes_away_ends_the_run_with_what_was_seen(bench):
    config = box_config(2)
    farend, service = bench(config)
    rig = TrafficRig(farend, config, TrafficProfile(peak_per_minute=60, curve=FLAT, patience_mean=1000), lockstep=True)
    rig.clock.call_later(20.0, service.stop)          # 20 s into the run (the rig's clock)
    try:
        report = rig.run(600.0, drain=600.0)
    finally:
        rig.close()
    assert report["counters"]["service_lost"] == 1 and 15.0 < report["duration_s"] < 25.0
    assert report["offered"] == service.counters["offered"] > 5
    assert report["unfinished"] > 0 and report["counters"]["unfinished_at_end"] == report["unfinished"]


@pytest.mark.slow
def test_real_time_run_with_a_compressed_profile(bench):
    report, service, rig = run_rig(bench, lockstep=False, duration=4.0, max_calls=3, drain=20.0,
                                   standin={"prompt_s": 0.4}, peak_per_minute=60, curve=FLAT, speed=4,
                                   patience_mean=1000, handling_mean=4, ring_delay=(0.4, 1.0), prompt_gap=0.3)
    seen = (report["counters"], service.counters, [(c["outcome"], c["offered_at"]) for c in report["calls"]])
    assert report["mode"] == "realtime" and report["offered"] == 3 == service.counters["offered"], seen
    assert report["answered"] == 3 and report["digits_pressed"] == service.counters["digits_detected"]
    # the far end kept time on its own: the service answered about 50 blocks a second
    assert rig.exchange.counters["blocks"] > 2 * 50 * 3


def test_no_call_is_offered_before_the_start_signal(bench):
    config = box_config(2)
    farend, service = bench(config)
    rig = TrafficRig(farend, config, TrafficProfile(peak_per_minute=600, curve=FLAT, patience_mean=1000),
                     lockstep=True, max_calls=3)
    asked = []

    def go() -> bool:               # asked once per line step while the rig waits
        asked.append(service.counters["offered"])
        return len(asked) > 50
    try:
        report = rig.run(60.0, drain=60.0, start_when=go)
    finally:
        rig.close()
    assert len(asked) == 51 and set(asked) == {0}          # a second of line time, no call meanwhile
    assert report["offered"] == 3 == service.counters["offered"]
