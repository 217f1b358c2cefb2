"""The rig against the real service: ``qbox run --lockstep`` in its own process.

About twenty seconds of simulated market-open traffic go through the whole call path
(ISDN set-up, IVR prompt and real DTMF, queue, agent ring and answer, bridge, clear,
CDR, agents' breaks over the control API); the rig's count and the service's must agree.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from appliance.cli.sim import simulated_spans
from appliance.config import load_config_text
from appliance.control import ControlClient
from drivers.clock import ManualClock
from drivers.dahdi.sim import FarEnd, LineTiming
from hil_tests.rigs import TrafficProfile, TrafficRig
from hil_tests.rigs.profile import Script
from hil_tests.simbench import terminate
from tests.hil_tests.rigs.conftest import SPANS

IVR = """\
agents:
  - {id: "8001", queues: [{queue: trading}]}
  - {id: "8002", queues: [{queue: trading}]}
  - {id: "8003", interface: span2/6003, queues: [{queue: trading}]}
recording: {queues: [trading], directory: ROOT/rec}
ivr:
  prompts_dir: ROOT/prompts
  nodes:
    main:
      kind: menu
      prompt: welcome
      timeout: 4
      options: {"1": {queue: trading}, "2": account}
    account:
      kind: collect
      prompt: welcome
      min_digits: 4
      max_digits: 12
      next: {queue: trading}
"""


@pytest.mark.slow
def test_market_open_traffic_through_the_real_service(simdir):
    root = simdir.parent
    text = (SPANS + IVR).replace('"sim:///unused"', f'"sim://{simdir}"').replace("ROOT", str(root))
    text = text.replace("  - {name: trading}", "  - {name: trading, strategy: rrmemory, timeout: 6, retry: 0, wrapuptime: 1}")
    (root / "box.yaml").write_text(text)
    config = load_config_text(text, "box.yaml")
    farend = FarEnd(simdir, simulated_spans(config), clock=ManualClock(), timing=LineTiming.scaled(settle=0)).start()
    socket, state = root / "control.sock", root / "state"
    log = open(root / "service.log", "w")
    service = subprocess.Popen([sys.executable, "-m", "appliance.cli", "run", "--config", str(root / "box.yaml"),
                                "--state-dir", str(state), "--socket", str(socket), "--lockstep",
                                "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT)
    profile = TrafficProfile(peak_per_minute=90, curve=((0, 0.5), (0.2, 1.0), (1, 1.0)), handling_mean=6,
                             patience_mean=15, no_answer_fraction=0.2, ring_delay=(0.5, 2.0), break_fraction=0.2,
                             break_mean=5, scripts=(Script(("1",), 0.6), Script(("2", "{account}#"), 0.4)), seed=3)
    rig = TrafficRig(farend, config, profile, lockstep=True, control_socket=socket)
    try:
        report = rig.run(20.0, drain=90.0, wait=30.0)
        rig.close()
        with ControlClient(socket) as client:
            # the last RELEASE COMPLETE may still be on its way when the rig is done
            deadline = time.monotonic() + 10
            while (counters := client.request("status")["counters"])["cdrs"] < report["offered"] \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            agents = {a["id"]: a["state"] for a in client.request("agents")}
    finally:
        terminate(service, 20)                          # before the far end goes away
        farend.stop()
        log.close()
    service_log = (root / "service.log").read_text()
    assert report["offered"] >= 15, service_log[-2000:]
    assert report["unfinished"] == 0 and report["blocked"] == 0
    for key in ("offered", "answered", "abandoned"):
        assert counters[key] == report[key], (key, counters, service_log[-2000:])
    assert counters["digits_detected"] == report["digits_pressed"]
    assert counters["cdrs"] == report["offered"] and counters["recordings"] == report["answered"] > 0
    assert report["abandoned"] > 0 and report["agent_no_answer"] > 0 and report["agent_breaks"] > 0
    assert report["counters"].get("agent.pause.ok") == report["agent_breaks"]
    assert "paused" not in agents.values()               # every break ended with the run
    db = sqlite3.connect(state / "qbox.db")
    db.row_factory = sqlite3.Row
    cdrs = {row["src"]: dict(row) for row in db.execute("SELECT * FROM cdr")}
    db.close()
    assert set(cdrs) == {c["number"] for c in report["calls"]}
    for call in report["calls"]:
        cdr = cdrs[call["number"]]
        assert cdr["digits"] == call["digits"] and cdr["dst"] == profile.called_number
        if call["outcome"] == "answered":
            assert (cdr["disposition"], cdr["agent"]) == ("ANSWERED", call["agent"])
        else:
            assert cdr["disposition"] == "ABANDONED" and call["cleared_by"] == "caller"
