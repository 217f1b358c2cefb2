"""``qbox demo``: the line check (spans up, loss of signal, recovery), then market-open traffic."""
from __future__ import annotations

import io
import json

import pytest

from appliance.cli.demo import DEFAULT_CONFIG, Demo, _Quiet
from appliance.config import load_config

FAST = ("--settle", "0.3", "--debounce", "0.1")


def line_check(span: int, out) -> dict:
    return Demo(load_config(DEFAULT_CONFIG), span=span, settle=0.3, debounce=0.1, out=out).run()


def test_line_check_summary():
    summary = line_check(1, _Quiet())
    assert summary["ok"] is True and summary["span"] == 1
    assert summary["config"].endswith("examples/branch.yaml") and summary["device"].startswith("sim:///")
    up, cut, repaired = summary["steps"]
    assert up == {"step": "spans up", "alarms": {"1": ["OK"], "2": ["OK"], "3": ["OK"], "4": ["OK"]}}
    assert cut == {"step": "loss of signal", "span": 1, "near": ["RED"], "far": ["YELLOW"]}
    assert repaired == {"step": "recovered", "span": 1, "recovering": ["RECOVERING"], "near": ["OK"], "far": ["OK"]}


def test_line_check_text_shows_the_alarms_in_span_show():
    buffer = io.StringIO()
    assert line_check(2, buffer)["ok"]
    out = buffer.getvalue()
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


@pytest.mark.parametrize("args, message", [
    (("--span", "9"), "has no span 9"),
    (("--fault", "span7:los@1"), "--fault span7:los@1: "),
    (("--fault", "span1:dchan@1"), "the demo injects los, lof, ais, rai, ber; a D-channel outage"),
    (("--fault", "span1:yellow@1"), "unknown span fault 'yellow'"),
    (("--fault", "span1:los@x"), "span1:los@x"),
])
def test_bad_demo_options_are_refused_before_anything_starts(run_qbox, args, message):
    status, out, err = run_qbox("demo", *args)
    assert status == 2 and message in err and out == ""


@pytest.mark.slow
def test_the_whole_demo_reports_matching_counts_alarms_and_the_tower(run_qbox):
    status, out, err = run_qbox("demo", "--json", "--duration", "8", "--speed", "20", "--fault", "tower:unplug@2-6",
                                *FAST)
    report = json.loads(out)
    assert status == 0, (err, report)
    assert report["line_check"]["ok"] is True
    assert report["offered"] > 0 and report["cdrs"] == report["offered"]
    assert report["digits_pressed"] == report["digits_detected"] > 0
    assert report["consistent"] is True and report["recordings"] >= 1
    assert 0 <= report["service_level"] <= 1 and report["asa"] >= 0
    missing = [a for a in report["alarms"] if a["object"] == "tower"]
    assert missing and missing[0]["cause"] == "replaceableUnitMissing" and missing[0]["raised_s"] >= 2
    assert report["tower_log"][0]["green"] == "on"
