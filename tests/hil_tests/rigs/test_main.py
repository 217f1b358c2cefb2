"""``python -m hil_tests.rigs``: the simulator and the rig as their own process."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from hil_tests.rigs.process import RigFailed, RigProcess
from tests.hil_tests.rigs.conftest import SPANS, box_config
from tests.hil_tests.rigs.standin import StandIn

AGENTS = 'agents:\n  - {id: "8001", queues: [{queue: trading}]}\n  - {id: "8002", queues: [{queue: trading}]}\n'


def rig_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hil_tests.rigs", *args]


def test_the_rig_process_serves_the_spans_and_writes_its_report(simdir):
    config_path = simdir.parent / "box.yaml"
    config_path.write_text(SPANS + AGENTS)
    pcap = simdir.parent / "pcap"
    rig = RigProcess(config_path, simdir, duration=30, lockstep=True, calls=4, seed=5,
                     extra=("--peak", "60", "--handling", "5", "--patience", "1000", "--script", "1",
                            "--pcap", str(pcap), "--log-level", "warning"))
    with rig, StandIn(simdir, box_config(2)) as service:
        assert rig.url == f"sim://{simdir}"
        report = rig.wait(60)
    assert rig.process.returncode == 0
    assert report["mode"] == "lockstep" and report["seed"] == 5
    assert report["offered"] == 4 == service.counters["offered"] and report["answered"] == 4
    assert report["digits_pressed"] == 4 == service.counters["digits_detected"]
    assert [c["script"] for c in report["calls"]] == [["1"]] * 4
    assert list(simdir.iterdir()) == []                 # the far end took its sockets away
    # the exchange's side of the trunk D-channel, as tshark dissects it: one SETUP per caller
    setups = subprocess.run(["tshark", "-r", str(pcap / "span1.pcap"), "-Y", "q931.message_type == 0x05",
                             "-T", "fields", "-e", "q931.calling_party_number.digits"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert setups == [c["number"] for c in report["calls"]]


def test_a_stopped_rig_hangs_up_and_still_reports(simdir):
    config_path = simdir.parent / "box.yaml"
    config_path.write_text(SPANS + AGENTS)
    rig = RigProcess(config_path, simdir, duration=600, extra=("--peak", "600", "--patience", "1000"))
    with rig, StandIn(simdir, box_config(0), agents=[]) as service:
        deadline = time.monotonic() + 30
        while service.counters["queued"] < 2:              # callers are waiting in the queue
            assert time.monotonic() < deadline, rig.log_tail()
            time.sleep(0.1)
        rig.stop()
        report = rig.wait()
    assert rig.process.returncode == 0 and report["mode"] == "realtime"
    assert report["offered"] == service.counters["offered"] >= 2
    # hung up by the rig: in the queue (abandoned) or before it (IVR hang-ups)
    assert report["abandoned"] >= 2 and report["abandoned"] + report["ivr_hangups"] == report["offered"]
    assert {c["cleared_by"] for c in report["calls"]} == {"end of run"} and report["unfinished"] == 0


def test_a_rig_that_cannot_start_says_why(simdir):
    config_path = simdir.parent / "box.yaml"
    config_path.write_text("node: {name: x}\n")
    with pytest.raises(RigFailed, match="exit status 2"):
        RigProcess(config_path, simdir, duration=1).start()


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
