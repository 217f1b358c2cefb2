"""``qbox demo``: the simulator as its own process, spans up, loss of signal, recovery."""
from __future__ import annotations

import json

FAST = ("--settle", "0.3", "--debounce", "0.1")


def test_demo_json_summary(run_qbox):
    status, out, err = run_qbox("demo", "--json", *FAST)
    assert status == 0, err
    summary = json.loads(out)
    assert summary["ok"] is True and summary["span"] == 1
    assert summary["config"].endswith("examples/branch.yaml") and summary["device"].startswith("sim:///")
    up, cut, repaired = summary["steps"]
    assert up == {"step": "spans up", "alarms": {"1": ["OK"], "2": ["OK"], "3": ["OK"], "4": ["OK"]}}
    assert cut == {"step": "loss of signal", "span": 1, "near": ["RED"], "far": ["YELLOW"]}
    assert repaired == {"step": "recovered", "span": 1, "recovering": ["RECOVERING"], "near": ["OK"], "far": ["OK"]}


def test_demo_text_shows_the_alarms_in_span_show(run_qbox):
    status, out, err = run_qbox("demo", "--span", "2", *FAST)
    assert status == 0, err
    assert "== 2. Loss of signal on span 2" in out
    assert "$ qbox sim fault 2 los --dir " in out
    shows = out.split("$ qbox span show 2 ")
    assert len(shows) == 5                              # up, cut, just repaired, recovered
    assert "  Alarms    RED\n" in shows[2]
    assert "  Alarms    OK\n" in shows[4]
    assert "2     RED       YELLOW   los" in out        # qbox sim status: both ends
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    assert "SIM/2/16  Hardware-assisted HDLC  idle" in out


def test_demo_rejects_a_span_the_configuration_lacks(run_qbox):
    status, _, err = run_qbox("demo", "--span", "9")
    assert status == 2 and "has no span 9" in err
