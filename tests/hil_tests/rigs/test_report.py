"""The rig's report: totals, waits, service level, per-call rows."""
from __future__ import annotations

import json

from hil_tests.rigs.report import AgentTally, CallRecord, summarise


def record(number: str, outcome: str, queued: float | None = None, answered: float | None = None,
           ended: float | None = None, digits: str = "") -> CallRecord:
    return CallRecord(number=number, script=("1",), offered_at=0.0, queued_at=queued, answered_at=answered,
                      ended_at=ended, outcome=outcome, digits=digits)


def test_totals_waits_and_service_level():
    calls = [
        record("1", "answered", queued=2.0, answered=7.0, ended=20.0, digits="1"),      # waited 5 s
        record("2", "answered", queued=2.0, answered=32.0, ended=40.0, digits="1"),     # waited 30 s
        record("3", "abandoned", queued=3.0, ended=9.5, digits="298765#"),
        record("4", "blocked", ended=0.0),
        record("5", "ivr_hangup", ended=1.0),
    ]
    tally = {"8001": AgentTally(rings=3, answered=2, no_answer=1, breaks=1)}
    report = summarise(calls, duration_s=60.0, agents=tally, counters={"blocks": 9}, mode="lockstep",
                       speed=2.0, seed=4)
    assert (report["offered"], report["answered"], report["abandoned"], report["blocked"],
            report["ivr_hangups"]) == (4, 2, 1, 1, 1)
    assert report["digits_pressed"] == 1 + 1 + 7
    assert report["asa_s"] == 17.5 and report["service_level"] == {"20": 0.5}
    assert report["agents"]["8001"] == {"rings": 3, "answered": 2, "no_answer": 1, "breaks": 1}
    rows = {row["number"]: row for row in report["calls"]}
    assert rows["3"]["wait_s"] == 6.5 and rows["3"]["talk_s"] is None and rows["1"]["talk_s"] == 13.0
    json.dumps(report)                                  # plain data, as the demo prints it


def test_an_empty_run_reports_zeros_not_errors():
    report = summarise([], duration_s=0.0, agents={}, counters={}, mode="realtime", speed=1.0, seed=1)
    assert report["offered"] == 0 and report["asa_s"] is None and report["service_level"] == {"20": None}
