"""`qbox simulate` and `qbox staffing` on the command line: exact JSON keys, exit codes."""
from __future__ import annotations

import json

import pytest


def test_simulate_json_keys_without_patience(run_qbox):
    status, out, err = run_qbox("simulate", "--agents", "3", "--calls-per-hour", "60", "--aht", "120",
                                "--hours", "2", "--seed", "5", "--sl-threshold", "30", "--strategy", "rrmemory",
                                "--json")
    assert status == 0, err
    figures = json.loads(out)
    assert list(figures) == ["offered", "answered", "abandoned", "service_level", "asa", "abandon_rate",
                             "occupancy", "erlang_c"]
    assert list(figures["erlang_c"]) == ["p_wait", "service_level", "asa"]
    assert figures["offered"] == figures["answered"] + figures["abandoned"]


def test_simulate_json_keys_with_patience_and_text_view(run_qbox):
    status, out, _ = run_qbox("simulate", "--agents", "2", "--calls-per-hour", "90", "--aht", "100",
                              "--patience", "40", "--hours", "2", "--json")
    figures = json.loads(out)
    assert status == 0 and list(figures["erlang_a"]) == ["p_abandon", "p_wait"] and "erlang_c" not in figures
    status, out, _ = run_qbox("simulate", "--agents", "3", "--calls-per-hour", "90", "--aht", "100", "--hours", "1")
    assert status == 0 and "Erlang C" in out.splitlines()[0]


def test_staffing_json(run_qbox):
    status, out, _ = run_qbox("staffing", "--calls-per-hour", "300", "--aht", "180", "--target-sl", "0.8",
                              "--threshold", "20", "--json")
    assert status == 0
    assert json.loads(out) == {"agents": 19, "service_level": pytest.approx(0.843, abs=1e-3),
                               "asa": pytest.approx(11.0, abs=0.1), "occupancy": pytest.approx(15 / 19),
                               "model": "erlang_c"}


@pytest.mark.parametrize("argv, message", [
    (["simulate", "--agents", "2", "--calls-per-hour", "500", "--aht", "60"], "grows without bound"),
    (["simulate", "--agents", "2", "--calls-per-hour", "50", "--aht", "60", "--strategy", "nope"], "does not exist"),
    (["staffing", "--calls-per-hour", "300", "--aht", "180", "--target-sl", "80", "--threshold", "20"],
     "--target-sl must be a fraction"),
    (["staffing", "--calls-per-hour", "300", "--aht", "180"], "give --target-sl and --threshold"),
    (["staffing", "--profile", "/nonexistent/day.yaml", "--target-sl", "0.8", "--threshold", "20"], "cannot read"),
])
def test_bad_input_exits_2_with_one_line(run_qbox, argv, message):
    status, out, err = run_qbox(*argv)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""


def test_bench_acd_reports_its_figures(run_qbox):
    status, out, err = run_qbox("bench", "acd", "--samples", "200", "--seconds", "0.02", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert (result["agents"], result["waiting_callers"], result["queues"], result["skills"]) == (2000, 10000, 50, 20)
    assert result["decisions_per_s"] > 0 and result["handout_latency_us"]["samples"] > 0
    assert set(result["handout_latency_us"]) == {"p50", "p99", "max", "samples"}
