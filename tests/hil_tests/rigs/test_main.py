"""``python -m hil_tests.rigs``: the simulator and the rig as their own process."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.hil_tests.rigs.conftest import SPANS, box_config
from tests.hil_tests.rigs.standin import StandIn

AGENTS = 'agents:\n  - {id: "8001", queues: [{queue: trading}]}\n  - {id: "8002", queues: [{queue: trading}]}\n'


def rig_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hil_tests.rigs", *args]


def test_the_rig_process_serves_the_spans_and_writes_its_report(simdir):
    config_path = simdir.parent / "box.yaml"
    config_path.write_text(SPANS + AGENTS)
    report_path = simdir.parent / "report.json"
    process = subprocess.Popen(
        rig_command("--config", str(config_path), "--dir", str(simdir), "--lockstep", "--duration", "30",
                    "--calls", "4", "--peak", "60", "--handling", "5", "--patience", "1000", "--seed", "5",
                    "--script", "1", "--report", str(report_path), "--pcap", str(simdir.parent / "pcap"),
                    "--log-level", "warning"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (simdir / "span2.media").exists():      # the far end's last socket
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
            time.sleep(0.05)
        with StandIn(simdir, box_config(2)) as service:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    report = json.loads(report_path.read_text())
    assert report["mode"] == "lockstep" and report["seed"] == 5
    assert report["offered"] == 4 == service.counters["offered"] and report["answered"] == 4
    assert report["digits_pressed"] == 4 == service.counters["digits_detected"]
    assert [c["script"] for c in report["calls"]] == [["1"]] * 4
    assert list(simdir.iterdir()) == []                 # the far end took its sockets away
    # the exchange's side of the trunk D-channel, as tshark dissects it: one SETUP per caller
    setups = subprocess.run(["tshark", "-r", str(simdir.parent / "pcap" / "span1.pcap"), "-Y", "q931.message_type == 0x05",
                             "-T", "fields", "-e", "q931.calling_party_number.digits"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert setups == [c["number"] for c in report["calls"]]


@pytest.mark.parametrize("args, message", [
    (["--speed", "0"], "speed 0: must be positive"),
    (["--script", "0.5:1x"], "DTMF keys"),
    (["--calls", "0"], "--calls 0"),
])
def test_bad_options_are_refused_in_one_line(simdir, args, message):
    config_path = simdir.parent / "box.yaml"
    config_path.write_text(SPANS)
    result = subprocess.run(rig_command("--config", str(config_path), "--dir", str(simdir), *args),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_bad_configuration_names_file_and_line(simdir):
    config_path = simdir.parent / "box.yaml"
    config_path.write_text(SPANS.replace("type: e1, framing: ccs, coding: hdb3, crc4: true, timing: 1",
                                         "type: e9, framing: ccs, coding: hdb3, crc4: true, timing: 1"))
    result = subprocess.run(rig_command("--config", str(config_path), "--dir", str(simdir)),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "box.yaml:4" in result.stderr and "type" in result.stderr
