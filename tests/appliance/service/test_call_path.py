"""The whole call path through `qbox run`: trunk SETUP, IVR, DTMF, queue, agent, bridge, CDR."""
from __future__ import annotations

import signal
import time

import pytest

from appliance.audio import read_wav_frames
from appliance.cli.sim import simulated_spans
from appliance.config import load_config
from appliance.console.views import render_status
from appliance.errors import BadInput
from drivers.clock import ManualClock
from drivers.dahdi.sim import FarEnd
from tests.appliance.service.conftest import Exchange, voice_blocks


def test_caller_reaches_an_agent_talks_and_the_cdr_says_so(box_factory):
    box = box_factory()
    ex = box.exchange
    caller = ex.dial("13800000001")
    ex.run_until(lambda: "active" in caller.events)
    ex.run(0.5)                                   # the welcome prompt is playing
    ex.press("13800000001", "1")
    ex.run_until(lambda: "8001" in ex.agent_rings)
    agent = ex.agents["13800000001"]
    ex.run_until(lambda: "active" in agent.events)
    # speech both ways: the agent hears the caller's tone, the caller the agent's
    caller.sending.extend(voice_blocks(1.0, 700))
    agent.sending.extend(voice_blocks(1.0, 1100))
    ex.run(0.5)
    assert ex.channel_audio(2, agent.call) != bytes([0xD5]) * 160
    assert ex.channel_audio(1, caller.call) != bytes([0xD5]) * 160
    calls = box.request("calls")
    assert [(c["state"], c["queue"], c["agent"], c["digits"]) for c in calls] == [("talking", "sales", "8001", "1")]
    ex.run(1.0)
    ex.hang_up(agent)                              # the agent ends the call
    ex.run_until(lambda: "released" in caller.events)
    ex.run(0.2)
    [cdr] = box.cdrs()
    assert (cdr["disposition"], cdr["src"], cdr["dst"], cdr["queue"], cdr["agent"], cdr["digits"],
            cdr["hangup_by"], cdr["ivr_path"]) == ("ANSWERED", "13800000001", "95588", "sales", "8001", "1",
                                                   "agent", "main")
    assert cdr["talk"] >= 1.5 and cdr["wait"] >= 0
    channels, rate, samples = read_wav_frames(cdr["recording"])
    assert (channels, rate) == (2, 8000) and len(samples) >= 2 * 8000
    assert [(agent, event) for callid, agent, event in queue_events(box) if callid == cdr["uniqueid"]] == [
        ("NONE", "ENTERQUEUE"), ("8001", "CONNECT"), ("8001", "COMPLETEAGENT")]
    status = box.request("status")
    assert status["counters"]["digits_detected"] == 1 and status["counters"]["cdrs"] == 1
    ex.run(0.2)                                    # ten more 20 ms ticks
    assert box.request("status")["media"]["ticks"] >= status["media"]["ticks"] + 10


def test_a_recording_that_cannot_be_made_leaves_the_call_alone(box_factory):
    box = box_factory()
    (box.root / "rec").write_text("not a directory")     # no recording can be created there
    ex = box.exchange
    caller = dial_into_queue(ex, "13800000009")
    ex.run_until(lambda: "13800000009" in ex.agents and "active" in ex.agents["13800000009"].events)
    agent = ex.agents["13800000009"]
    caller.sending.extend(voice_blocks(0.5, 700))
    ex.run(0.5)
    assert ex.channel_audio(2, agent.call) != bytes([0xD5]) * 160    # bridged all the same
    ex.hang_up(agent)
    ex.run_until(lambda: "released" in caller.events)
    ex.run(0.2)
    [cdr] = box.cdrs()
    assert (cdr["disposition"], cdr["recording"]) == ("ANSWERED", None)    # no link to a missing file
    status = box.request("status")
    assert (status["media"]["recording_failures"], status["counters"]["recordings"]) == (1, 0)
    assert "          1 recordings stopped on a file error (see the log)" in render_status(status)
    assert status["store"] == {"failed_commits": 0, "queue_log_lost": 0, "queue_log_waiting": 0,
                               "cdrs_waiting": 0, "cdrs_dropped": 0}
    assert not any(line.startswith("Store") for line in render_status(status))
    status["store"]["failed_commits"] = 2                  # as a full disk would leave it
    assert "Store     2 commits and 0 queue_log lines lost (disk full?)" in render_status(status)
    status["store"]["cdrs_waiting"], status["store"]["queue_log_waiting"] = 3, 7
    held = "          3 CDRs and 7 queue_log lines held until the disk has room, 0 CDRs dropped"
    assert held in render_status(status)
    assert "recording stopped" in (box.root / "service.log").read_text()


def queue_events(box) -> list[tuple[str, str, str]]:
    """(callid, agent, EVENT) of the queue_log's call lines."""
    return [(row[1], row[3], row[4]) for row in box.queue_log() if row[1] not in ("NONE", "MANAGER")]


def dial_into_queue(ex, number: str) -> object:
    caller = ex.dial(number)
    ex.run_until(lambda: "active" in caller.events)
    ex.press(number, "1")
    return caller


def test_digits_keyed_during_the_talk_reach_the_agent_but_not_the_cdr(box_factory):
    box = box_factory(agent_answer_after={"8001": 0.2, "8002": 0.2})
    ex = box.exchange
    caller = dial_into_queue(ex, "13800000003")
    ex.run_until(lambda: "13800000003" in ex.agents and "active" in ex.agents["13800000003"].events)
    ex.run(0.2)
    ex.press("13800000003", "5")        # a bridged caller's keys are speech to the box
    ex.run(0.5)
    assert box.request("status")["counters"]["digits_detected"] == 1
    ex.hang_up(caller)
    ex.run_until(lambda: "released" in caller.events)
    [cdr] = box.cdrs()
    assert cdr["digits"] == "1"


def test_caller_abandons_while_queued(box_factory):
    box = box_factory(agent_answer_after={})          # the agents' phones never answer
    ex = box.exchange
    for agent in ("8001", "8002"):
        box.request("agent.pause", agent=agent, reason="lunch")
    caller = dial_into_queue(ex, "13800000002")
    ex.run_until(lambda: box.request("queues", name="sales")[0]["waiting"] == 1, seconds=5)
    ex.run(2.0)
    ex.hang_up(caller)
    ex.run_until(lambda: "released" in caller.events)
    ex.run(0.2)
    [cdr] = box.cdrs()
    assert (cdr["disposition"], cdr["hangup_by"], cdr["agent"]) == ("ABANDONED", "caller", None)
    assert cdr["wait"] >= 2.0
    assert [e for _, _, e in queue_events(box)] == ["ENTERQUEUE", "ABANDON"]
    assert box.request("status")["counters"]["abandoned"] == 1


def test_an_agent_who_does_not_answer_is_skipped_for_the_next(box_factory):
    box = box_factory(agent_answer_after={"8002": 0.5})   # 8001 (first in linear order) never answers
    ex = box.exchange
    caller = dial_into_queue(ex, "13800000003")
    ex.run_until(lambda: "8002" in ex.agent_rings, seconds=15)
    assert ex.agent_rings[0] == "8001"
    agent = ex.agents["13800000003"]
    ex.run_until(lambda: "active" in agent.events)
    ex.hang_up(caller)
    ex.run_until(lambda: "released" in agent.events)
    ex.run(0.2)
    events = queue_events(box)
    assert ("8001", "RINGNOANSWER") in [(a, e) for _, a, e in events]
    assert [e for _, a, e in events if e in ("CONNECT", "COMPLETECALLER")] == ["CONNECT", "COMPLETECALLER"]
    [cdr] = box.cdrs()
    assert (cdr["disposition"], cdr["agent"], cdr["hangup_by"]) == ("ANSWERED", "8002", "caller")


def test_callers_waiting_hear_their_position(box_factory):
    box = box_factory(queue_extra="announce_frequency: 2, min_announce_frequency: 1, announce_position: 'yes'",
                      agent_answer_after={})
    ex = box.exchange
    box.request("agent.pause", agent="8001", reason="meeting")
    box.request("agent.pause", agent="8002", reason="meeting")
    callers = [dial_into_queue(ex, f"1390000000{n}") for n in range(3)]
    announced = []
    with box.control() as client:
        stream = client.subscribe(["queue.announcement"], timeout=10)
        ex.run(6.0)
        while len(announced) < 3:
            announced.append(next(stream)["data"])
    assert {a["position"] for a in announced} >= {1, 2}
    assert all(a["what"] == "position" for a in announced)
    for caller in callers:
        ex.hang_up(caller)
    ex.run(0.5)


def test_a_caller_who_waits_too_long_overflows_to_the_next_queue(box_factory):
    box = box_factory(queue_extra="max_wait: 3, overflow: overflow", agent_answer_after={"8001": 0.5})
    ex = box.exchange
    box.request("agent.pause", agent="8001", reason="busy", queue="sales")
    box.request("agent.pause", agent="8002", reason="busy")
    caller = dial_into_queue(ex, "13800000004")
    ex.run_until(lambda: "8001" in ex.agent_rings, seconds=10)   # 8001 serves the overflow queue
    agent = ex.agents["13800000004"]
    ex.run_until(lambda: "active" in agent.events)
    ex.hang_up(agent)
    ex.run_until(lambda: "released" in caller.events)
    ex.run(0.2)
    events = [(q, e) for q, e in ((row[2], row[4]) for row in box.queue_log()) if e != "ADDMEMBER"]
    assert ("sales", "EXITWITHTIMEOUT") in events and ("overflow", "CONNECT") in events
    [cdr] = box.cdrs()
    assert (cdr["disposition"], cdr["queue"], cdr["agent"]) == ("ANSWERED", "overflow", "8001")


HOURS = """\
hours:
  timezone: UTC
  open: ["mon-mon 00:00-00:01"]
  closed: closed
"""


def test_out_of_hours_callers_hear_the_closed_message_and_are_cleared(box_factory):
    box = box_factory(ivr_hours=HOURS, ivr_extra="closed: {kind: hangup, prompt: closed-message}\n")
    ex = box.exchange
    caller = ex.dial("13800000005")
    ex.run_until(lambda: "released" in caller.events, seconds=10)
    ex.run(0.2)
    [cdr] = box.cdrs()
    assert (cdr["ivr_path"], cdr["queue"], cdr["hangup_by"], cdr["cause"]) == ("closed", None, "system", 16)
    assert box.queue_log()[-1][4] != "ENTERQUEUE"


def test_reload_applies_a_good_file_and_refuses_a_bad_one_without_dropping_calls(box_factory):
    box = box_factory()
    ex = box.exchange
    caller = dial_into_queue(ex, "13800000006")
    agent_seen = lambda: "13800000006" in ex.agents and "active" in ex.agents["13800000006"].events
    ex.run_until(agent_seen)
    good = box.config_path.read_text().replace("{queue: sales, penalty: 1}", "{queue: sales, penalty: 3}")
    good = good.replace("{name: sales, strategy: linear, timeout: 3, retry: 0, wrapuptime: 2",
                        "{name: sales, strategy: rrmemory, timeout: 3, retry: 0, wrapuptime: 7")
    box.config_path.write_text(good.replace("      timeout: 3\n", "      timeout: 4\n"))
    assert box.request("reload")["changes"] == ["queue sales strategy, wrapuptime", "agent 8002 penalty 3 in sales",
                                                "ivr"]
    [sales] = [q for q in box.request("queues") if q["name"] == "sales"]
    assert sales["strategy"] == "rrmemory"
    box.config_path.write_text(good.replace("strategy: rrmemory", "strategy: linar", 1))
    with pytest.raises(BadInput) as info:
        box.request("reload")
    assert "configuration refused, the old one keeps running" in str(info.value)
    assert "queues[0].strategy: 'linar' is not one of" in str(info.value)
    ex.run(1.0)
    assert [c["state"] for c in box.request("calls")] == ["talking"]      # the call never noticed
    ex.hang_up(caller)
    ex.run_until(lambda: "released" in ex.agents["13800000006"].events)


def test_kill_9_in_the_middle_of_traffic_loses_no_cdr_of_a_completed_call(box_factory):
    box = box_factory(agent_answer_after={"8001": 0.2, "8002": 0.2})
    ex = box.exchange
    completed = []
    for n in range(6):
        number = f"1370000000{n}"
        caller = dial_into_queue(ex, number)
        ex.run_until(lambda n=number: n in ex.agents and "active" in ex.agents[n].events)
        ex.hang_up(caller)
        ex.run_until(lambda c=caller: "released" in c.events)
        completed.append(number)
    for n in range(2):                      # still up when the service is killed: no CDR yet
        dial_into_queue(ex, f"1360000000{n}")
    ex.run(0.5)
    box.kill()
    rows = box.cdrs()
    assert sorted(r["src"] for r in rows) == sorted(completed)
    assert all(r["disposition"] == "ANSWERED" for r in rows)


def test_the_far_end_hears_a_call_end_only_once_its_cdr_is_committed(box_factory):
    box = box_factory(agent_answer_after={"8001": 0.2, "8002": 0.2})
    ex = box.exchange
    for number, clears in (("13700000011", "caller"), ("13700000012", "agent")):
        caller = dial_into_queue(ex, number)
        ex.run_until(lambda n=number: n in ex.agents and "active" in ex.agents[n].events)
        ex.hang_up(caller if clears == "caller" else ex.agents[number])
        send = ex.trunk._send_frame
        if clears == "caller":
            # the exchange falls silent after its DISCONNECT: the box never hears our
            # RELEASE answered, so only a CDR written before it was sent can be there
            ex.trunk._send_frame = lambda frame: None
        # our last frame of the call has come: RELEASE when the caller cleared, DISCONNECT
        # (answered with RELEASE) when the agent did
        ex.run_until(lambda c=caller: "released" in c.events)
        assert number in [row["src"] for row in box.cdrs()], f"{clears} cleared: no CDR on disk yet ({caller.events})"
        ex.trunk._send_frame = send


def test_the_service_outlives_its_spans_device_and_says_so_once(box_factory):
    box = box_factory()
    box.farend.stop()                                 # the simulator (the "card") goes away
    time.sleep(1.0)
    status = box.request("status")                    # the NOC can still ask
    assert all(span["dchannel"] == "down" for span in status["spans"])
    log = (box.root / "service.log").read_text()
    assert 2 <= log.count("span device lost") <= 4    # media and D-channel of each span, once
    assert len(log.splitlines()) < 200                # no flood


def test_a_span_device_that_comes_back_is_opened_again_and_calls_flow(box_factory):
    box = box_factory()
    box.farend.stop()                                 # the simulator (the "card") goes away...
    log = box.root / "service.log"
    _wait_for(lambda: log.read_text().count("span device lost") >= 2, "the service to notice")
    config = load_config(box.config_path)
    clock = ManualClock()
    box.farend = FarEnd(box.root / "sim", simulated_spans(config), clock=clock).start()    # ...and is back
    _wait_for(lambda: log.read_text().count("span device re-opened") == 2, "the service to open both spans again")
    box.exchange = ex = Exchange(box.farend, clock, {"8001": 0.2, "8002": 0.2})
    ex.start()
    ex.run_until(lambda: ex.trunk.link_up and ex.pbx.link_up, seconds=10)
    caller = dial_into_queue(ex, "13800000077")
    ex.run_until(lambda: "13800000077" in ex.agents and "active" in ex.agents["13800000077"].events)
    ex.hang_up(caller)
    ex.run_until(lambda: "released" in caller.events)
    ex.run(0.2)
    assert [(c["src"], c["disposition"]) for c in box.cdrs()] == [("13800000077", "ANSWERED")]
    assert all(span["dchannel"] == "up" for span in box.request("status")["spans"])


def _wait_for(predicate, what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def test_a_stopping_service_writes_the_cdrs_of_calls_still_up(box_factory):
    box = box_factory()
    ex = box.exchange
    dial_into_queue(ex, "13800000009")
    ex.run_until(lambda: "13800000009" in ex.agents and "active" in ex.agents["13800000009"].events)
    box.process.send_signal(signal.SIGTERM)
    box.process.wait(20)
    [cdr] = box.cdrs()
    assert (cdr["src"], cdr["disposition"], cdr["hangup_by"], cdr["cause"]) == ("13800000009", "ANSWERED", "system", 41)


def test_transfer_to_an_outside_number_bridges_the_caller_to_it(box_factory):
    box = box_factory()
    ex = box.exchange
    caller = ex.dial("13800000010")
    ex.run_until(lambda: "active" in caller.events)
    ex.press("13800000010", "0")
    ex.run_until(lambda: "95555" in ex.outside and "active" in ex.outside["95555"].events, seconds=10)
    outside = ex.outside["95555"]
    assert outside.call.calling == "13800000010"        # the caller's number is passed on
    caller.sending.extend(voice_blocks(1.0, 700))
    ex.run(0.5)
    assert ex.channel_audio(1, outside.call) != bytes([0xD5]) * 160
    ex.hang_up(outside)
    ex.run_until(lambda: "released" in caller.events)
    ex.run(0.2)
    [cdr] = box.cdrs()
    assert (cdr["disposition"], cdr["digits"], cdr["queue"]) == ("TRANSFERRED", "0", None)
