"""`qbox bench alarms` runs the real path and reports figures (never asserts on time)."""
from __future__ import annotations

import json


def test_bench_alarms_reports_latency_per_family(run_qbox):
    status, out, _ = run_qbox("bench", "alarms", "--runs", "3", "--family", "pns", "--json")
    assert status == 0
    report = json.loads(out)
    assert report["goal_ms"] == 100.0
    figures = report["families"]["pns"]
    assert figures["runs"] == 3
    assert 0 <= figures["min_ms"] <= figures["median_ms"] <= figures["p95_ms"] <= figures["max_ms"]
