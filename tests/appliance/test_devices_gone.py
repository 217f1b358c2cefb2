"""A running service (real time) whose simulated spans go away with the rig that served them."""
from __future__ import annotations

import time

from hil_tests.branch import SimulatedBranch


def test_a_service_whose_span_devices_vanish_says_so_and_its_stacks_send_nothing(tmp_path):
    with SimulatedBranch("examples/branch.yaml", tmp_path, duration=2, speed=10) as branch:
        branch.start()
        branch.wait()                             # the rig's run is over; its simulator goes with it
        deadline = time.monotonic() + 15
        while "span device lost" not in branch.service_log.read_text():
            assert time.monotonic() < deadline, branch.log_tail()
            time.sleep(0.1)
        time.sleep(3.0)                           # past T200 (1 s): the stacks ask for their links again
        log = branch.service_log.read_text()
        assert branch.service.poll() is None
        assert "Traceback" not in log, log
        spans = [span["number"] for span in branch.request("status")["spans"]]
        # no span status will come to raise them: the loss itself does (past the 1 s device debounce)
        assert {(a["object"], a["cause"]) for a in branch.request("alarms")["alarms"]} >= {
            (f"span{n}", "replaceableUnitMissing") for n in spans} | {
            (f"dchan{n}", "communicationsSubsystemFailure") for n in spans}
