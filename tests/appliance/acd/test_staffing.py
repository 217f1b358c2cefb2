"""Staffing: the least agents meeting a target; day profiles with clear errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.acd.erlang import erlang_a_metrics, erlang_c_metrics
from appliance.acd.staffing import load_day_profile, required_agents
from appliance.errors import BadInput

EXAMPLE = Path(__file__).parents[3] / "examples" / "day_profile.yaml"


@pytest.mark.parametrize("cph, aht, target, threshold", [(300, 180, 0.8, 20), (40, 240, 0.9, 30), (1000, 120, 0.8, 20)])
def test_least_agents_meeting_the_target_with_erlang_c(cph, aht, target, threshold):
    result = required_agents(cph, aht, target, threshold)
    assert result.service_level >= target
    assert erlang_c_metrics(result.agents - 1, cph, aht, threshold).service_level < target
    assert result.model == "erlang_c" and result.p_abandon is None


def test_textbook_staffing():
    # 300 calls/h, 180 s AHT (15 erlangs), 80/20: 19 agents, the classic answer
    result = required_agents(300, 180, 0.8, 20)
    assert result.agents == 19
    assert result.occupancy == pytest.approx(15 / 19)


def test_with_patience_uses_erlang_a():
    result = required_agents(300, 180, 0.8, 20, patience=90)
    assert result.model == "erlang_a" and result.p_abandon > 0
    assert result.service_level >= 0.8
    assert erlang_a_metrics(result.agents - 1, 300, 180, 90, 20).service_level < 0.8


def test_no_calls_no_agents():
    assert required_agents(0, 180, 0.8, 20).agents == 0


def test_day_profile_table(run_qbox):
    status, out, err = run_qbox("staffing", "--profile", str(EXAMPLE), "--json")
    assert status == 0, err
    table = json.loads(out)
    assert [row["start"] for row in table["intervals"]][:2] == ["08:00", "08:15"]
    for row in table["intervals"]:
        assert row["agents"] == required_agents(row["calls"] * 4, row["aht"], 0.8, 20).agents
    assert table["peak_agents"] == max(row["agents"] for row in table["intervals"])
    status, out, _ = run_qbox("staffing", "--profile", str(EXAMPLE))
    assert status == 0 and out.splitlines()[0].split()[:4] == ["start", "calls", "AHT", "s"]


@pytest.mark.parametrize("text, message", [
    ("intervals:\n  - {start: '08:00', calls: 10, aht: 180}\n  - {start: '08:15', calls: x, aht: 180}\n",
     r"p.yaml:3: intervals\[1\].calls \(line 3\): must be a number >= 0, not 'x'"),
    ("intervals:\n  - {start: '08:07', calls: 10, aht: 180}\n", r"p.yaml:2: intervals\[0\].start: '08:07' is not a quarter hour"),
    ("intervals:\n  - {start: '08:00', calls: 10}\n", r"p.yaml:2: intervals\[0\]: missing 'aht'"),
    ("intervals: []\n", "'intervals' must be a non-empty list"),
    ("intervalz: []\n", r"p.yaml:1: unknown field 'intervalz'"),
    ("intervals: [\n", "p.yaml:2: not valid YAML"),
])
def test_day_profile_errors_name_file_line_and_field(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(BadInput, match=message):
        load_day_profile(path)
