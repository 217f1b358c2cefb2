"""The whole call path through `qbox run`: trunk SETUP, IVR, DTMF, queue, agent, bridge, CDR."""
from __future__ import annotations

import wave

from tests.appliance.service.conftest import voice_blocks


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
    with wave.open(cdr["recording"]) as wav:
        assert wav.getnchannels() == 2 and wav.getnframes() >= 8000
    events = [row[4] for row in box.queue_log()]
    assert events[-3:] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"] or \
        events[-4:-1] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
    status = box.request("status")
    assert status["counters"]["digits_detected"] == 1 and status["counters"]["cdrs"] == 1
