"""``qbox bench bhca``: the resized box is a valid configuration, and a short run's
figures are consistent (the figures themselves are the benchmark's, never asserted)."""
from __future__ import annotations

import json
import subprocess
import sys

import yaml

from appliance.benchmarks.bhca import AGENTS_PER_SPAN, DEFAULT_CONFIG, busy_hour, median_run
from appliance.config import load_config


def test_the_resized_box_is_a_valid_configuration_with_every_agent_span_staffed(tmp_path):
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    busy_hour(config, trunks=5, agent_spans=3)
    path = tmp_path / "box.yaml"
    path.write_text(yaml.safe_dump(config))
    box = load_config(path)               # raises on any error, cross-section ones included
    assert [s.number for s in box.trunk_spans] == [1, 2, 3, 4, 5]
    assert [s.number for s in box.agent_spans] == [6, 7, 8]
    assert len(box.agents) == 3 * AGENTS_PER_SPAN
    assert {a.interface.split("/")[0] for a in box.agents} == {"span6", "span7", "span8"}
    assert all(q.wrapuptime == 0 and q.maxlen == 0 for q in box.queues)
    assert [s.timing for s in box.spans] == [1, 2, 3, 4, 5, 0, 0, 0]
    assert list(box.recording.queues) == ["trading"]


def test_without_recording_no_queue_is_recorded(tmp_path):
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    busy_hour(config, recording=False)
    path = tmp_path / "box.yaml"
    path.write_text(yaml.safe_dump(config))
    assert list(load_config(path).recording.queues) == []


def test_the_branch_as_it_is_keeps_its_spans(tmp_path):
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    spans = [(s["number"], s.get("role", "trunk")) for s in config["spans"]]
    busy_hour(config)
    assert [(s["number"], s.get("role", "trunk")) for s in config["spans"]] == spans
    assert "fxs" in config


def test_a_short_run_completes_every_call_and_its_figures_add_up():
    out = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "bench", "bhca", "--calls", "40", "--trunks", "1",
         "--agent-spans", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["calls"] == result["offered"] > 0      # the rig waits for the bench's baseline
    assert result["digits_pressed"] == result["digits_detected"] == result["offered"]
    assert (result["trunks"], result["agent_spans"], result["recorded_queues"]) == (1, 1, ["trading"])
    expected = 3600 / (result["service_cpu_s"] / result["calls"]) * result["cores"]
    assert abs(result["bhca"] - expected) <= expected * 0.01        # the JSON's CPU is rounded
    shares = [kind["cpu_s"] for kind in result["profile"].values()]
    assert {"signalling", "media_tick", "store", "timers"} <= set(result["profile"])
    assert sum(shares) <= result["service_cpu_s"] * 1.01 + 0.01


def test_several_runs_report_the_median_one():
    runs = [{"cpu_s_per_call": cpu, "bhca": int(7200 / cpu)} for cpu in (0.0021, 0.0017, 0.0019, 0.0030)]
    result = median_run(runs)
    assert (result["cpu_s_per_call"], result["bhca"]) == (0.0019, int(7200 / 0.0019))
    assert result["runs"] == [0.0021, 0.0017, 0.0019, 0.0030]      # in the order they ran
    assert "runs" not in median_run(runs[:1]) and "runs" not in runs[0]


def test_runs_below_one_are_refused():
    out = subprocess.run([sys.executable, "-m", "appliance.cli", "bench", "bhca", "--runs", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.strip() == "qbox: --runs 0: give at least 1"
