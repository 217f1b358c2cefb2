"""``qbox sim ...`` against the simulator running as its own process, as an operator runs it.

The simulator runs with ``--manual-clock`` so line time moves only with ``qbox sim
advance``: an hour of bit errors takes a moment and every alarm appears exactly.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from drivers.dahdi import DahdiError, EventType, HookOp, open_backend
from drivers.dahdi.sim import FarEnd, SimControl, SpanSpec
from hil_tests.simbench import SimulatorFailed, SimulatorProcess

BRANCH = Path(__file__).resolve().parents[3] / "examples" / "branch.yaml"


def short_dir() -> str:
    return tempfile.mkdtemp(prefix="qsim")        # short: Unix socket paths max out at 108 bytes


@pytest.fixture
def sim_dir():
    directory = short_dir()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def simulator():
    """One simulator process for the module, spans up; each test leaves its span as it found it."""
    directory = short_dir()
    sim = SimulatorProcess(BRANCH, directory, manual_clock=True).start()
    sim.control.advance(5.0)
    yield sim
    sim.stop()
    shutil.rmtree(directory, ignore_errors=True)


def alarms(run_qbox, sim, span: int) -> list[str]:
    status, out, err = run_qbox("span", "show", str(span), "--device", sim.url, "--json")
    assert status == 0, err
    return json.loads(out)["alarms"]


def test_fault_and_clear_through_the_command_line(run_qbox, simulator):
    d = str(simulator.directory)
    assert alarms(run_qbox, simulator, 1) == ["OK"]
    status, out, _ = run_qbox("sim", "fault", "1", "los", "--dir", d)
    assert status == 0 and out.startswith("span 1: los injected")
    run_qbox("sim", "advance", "2.5", "--dir", d)
    assert alarms(run_qbox, simulator, 1) == ["RED"]
    assert alarms(run_qbox, simulator, 2) == ["OK"]
    status, out, _ = run_qbox("sim", "status", "--dir", d, "--json")
    line = json.loads(out)["lines"][0]
    assert (line["near"], line["far"], line["faults"]) == (["RED"], ["YELLOW"], ["los"])
    status, out, _ = run_qbox("sim", "status", "--dir", d)
    assert "1     E1    RED       YELLOW   los" in out and "clock: manual" in out

    status, out, _ = run_qbox("sim", "fault", "1", "clear", "--dir", d)
    assert "faults cleared; near end RECOVERING, far end YELLOW" in out
    run_qbox("sim", "advance", "5", "--dir", d)
    assert alarms(run_qbox, simulator, 1) == ["OK"]


def test_dchannel_faults_through_the_command_line(run_qbox, simulator):
    d = str(simulator.directory)
    status, out, _ = run_qbox("sim", "fault", "--help")
    assert status == 0 and "dchan:corrupt[:FRACTION]" in out and "BADFCS" in out
    status, out, _ = run_qbox("sim", "fault", "3", "dchan:corrupt:0.5", "--dir", d)
    assert status == 0 and out.startswith("span 3: dchan:corrupt:0.5 injected; near end OK, far end OK (D-channel")
    near = open_backend(simulator.url)
    dchan = near.open_dchannel(3)
    for _ in range(4):
        dchan.send(b"\x00\x01\x7f")                 # every other one fails its FCS at the far end
    for _ in range(500):                              # the simulator takes them in on its own thread
        if simulator.control.lines(3)[0]["bad_fcs"] == 2:
            break
        time.sleep(0.01)
    dchan.close()
    near.close()
    status, out, _ = run_qbox("sim", "status", "--dir", d, "--json")
    line = json.loads(out)["lines"][2]
    assert (line["near"], line["faults"], line["dchannel"], line["bad_fcs"]) == (["OK"], ["dchan:corrupt:0.5"], "corrupt", 2)
    status, out, _ = run_qbox("sim", "status", "--dir", d)
    assert "span 3 D-channel: corrupt; bad FCS 2, aborts 0, lost 0; BADFCS/ABORT to box 0/0" in out
    assert max(len(text) for text in out.splitlines()) <= 80
    assert run_qbox("sim", "fault", "3", "clear", "--dir", d)[0] == 0
    assert alarms(run_qbox, simulator, 3) == ["OK"]


def test_an_hour_of_line_time_in_another_process(run_qbox, simulator):
    d = str(simulator.directory)
    run_qbox("sim", "fault", "2", "ber:1e-6", "--dir", d)
    status, out, _ = run_qbox("sim", "advance", "3600", "--dir", d)
    assert status == 0 and out.startswith("line time is now")
    run_qbox("sim", "fault", "2", "clear", "--dir", d)
    status, out, _ = run_qbox("span", "show", "2", "--device", simulator.url, "--json")
    assert json.loads(out)["counters"] == {"bpv": 7372, "crc4": 7365, "fas": 100, "ebit": 7365, "slips": 0}


def test_agent_phone_from_the_command_line(run_qbox, simulator):
    status, out, _ = run_qbox("sim", "phone", "94", "offhook", "--dir", str(simulator.directory))
    assert (status, out.strip()) == (0, "channel 94: phone off-hook")
    status, out, _ = run_qbox("span", "show", "4", "--device", simulator.url, "--json")
    assert [c["state"] for c in json.loads(out)["channels"]] == ["off-hook", "idle", "idle", "idle"]
    assert run_qbox("sim", "phone", "94", "onhook", "--dir", str(simulator.directory))[0] == 0
    status, _, err = run_qbox("sim", "phone", "5", "offhook", "--dir", str(simulator.directory))
    assert status == 2 and "channel 5 is not an FXS port" in err


def test_a_ringing_phone_shows_in_status_with_its_zones_cadence(run_qbox, simulator):
    d = str(simulator.directory)
    near = open_backend(simulator.url)
    port = near.open_channel(96)
    port.hook(HookOp.RING)                            # as the box rings a supervisor
    status, out, _ = run_qbox("sim", "status", "--dir", d)
    assert "CHANNEL  GROUP        SIGNALLING  ZONE  CADENCE  PHONE" in out
    row = next(text for text in out.splitlines() if text.startswith("96 "))
    assert row.split() == ["96", "supervisors", "fxoks", "cn", "1-4", "ringing", "1", "yes"]
    run_qbox("sim", "advance", "1", "--dir", d)       # China: 1 s of ring, then 4 s of silence
    status, out, _ = run_qbox("sim", "status", "--dir", d, "--json")
    phone = json.loads(out)["ports"][2]
    assert (phone["channo"], phone["phone"], phone["cadence"], phone["bursts"]) == (96, "ring-pause", [1.0, 4.0], 1)
    status, out, _ = run_qbox("sim", "phone", "96", "offhook", "--dir", d)
    assert out.strip() == "channel 96: phone off-hook"
    while port.read() is not None:                    # a second of audio waits ahead of the events
        pass
    assert [e.type for e in port.events()] == [EventType.RINGEROFF, EventType.RINGOFFHOOK]
    port.hook(HookOp.ONHOOK)
    run_qbox("sim", "phone", "96", "onhook", "--dir", d)
    port.close()
    near.close()


@pytest.mark.parametrize("argv, message", [
    (("sim", "fault", "9", "los"), "span 9 does not exist"),
    (("sim", "fault", "1", "cut"), "unknown fault 'cut'"),
    (("sim", "fault", "1", "ber:2"), "bit error rate 2 is not in (0, 0.5]"),
    (("sim", "advance", "-1"), "cannot advance by -1.0 s"),
])
def test_bad_input_is_exit_2(run_qbox, simulator, argv, message):
    status, _, err = run_qbox(*argv, "--dir", str(simulator.directory))
    assert status == 2 and message in err and err.count("\n") == 1


def test_one_simulator_per_directory(run_qbox, simulator):
    status, _, err = run_qbox("sim", "run", "--config", str(BRANCH), "--dir", str(simulator.directory))
    assert status == 1 and "a simulator is already running in" in err


def test_comes_up_recovering_and_stops_cleanly_on_sigterm(run_qbox, sim_dir):
    sim = SimulatorProcess(BRANCH, sim_dir, manual_clock=True).start()
    status, out, _ = run_qbox("span", "list", "--device", sim.url, "--json")
    assert [(s["number"], s["type"], s["alarms"]) for s in json.loads(out)] == [
        (1, "E1", ["RECOVERING"]), (2, "E1", ["RECOVERING"]), (3, "E1", ["RECOVERING"]), (4, "analog", ["OK"])]
    assert sim.stop() == 0
    assert sorted(p.name for p in Path(sim_dir).iterdir()) == ["sim.log"]
    assert "stopped dir=" in (Path(sim_dir) / "sim.log").read_text()
    with pytest.raises(DahdiError):
        open_backend(sim.url)


def test_a_bad_configuration_does_not_start(run_qbox, tmp_path, sim_dir):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BRANCH.read_text().replace("type: e1", "type: e3", 1))
    status, _, err = run_qbox("sim", "run", "--config", str(bad), "--dir", sim_dir)
    assert status == 2 and "bad.yaml:" in err and "spans[0].type" in err
    with pytest.raises(SimulatorFailed, match="exited with status 2"):
        SimulatorProcess(bad, sim_dir).start()


def test_nothing_running(run_qbox, sim_dir):
    status, _, err = run_qbox("sim", "status", "--dir", sim_dir)
    assert status == 1 and f"no simulator is running in {sim_dir}" in err


def test_advance_needs_a_manual_clock(run_qbox, sim_dir):
    with FarEnd(sim_dir, [SpanSpec(1)]):            # real time
        status, _, err = run_qbox("sim", "advance", "1", "--dir", sim_dir)
        assert status == 2 and "runs in real time" in err
        with SimControl(sim_dir) as control:
            assert control.info["clock"] == "realtime"
