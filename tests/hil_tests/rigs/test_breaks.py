"""Agents' breaks go through the service's control API (agent.pause / agent.unpause)."""
from __future__ import annotations

import asyncio
import threading

from appliance.control import ControlServer
from appliance.errors import BadInput
from appliance.events import EventBus
from drivers.clock import ManualClock
from hil_tests.rigs import ControlWorker, TrafficProfile, TrafficRig
from tests.hil_tests.rigs.conftest import box_config


class ControlStandIn:
    """The control socket of a service: records agent.pause / agent.unpause, refuses agent 8002."""

    def __init__(self, path) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.loop = asyncio.new_event_loop()
        handlers = {"agent.pause": lambda args: self._record("pause", args),
                    "agent.unpause": lambda args: self._record("unpause", args)}
        self.server = ControlServer(path, handlers, EventBus(ManualClock()))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        asyncio.run_coroutine_threadsafe(self.server.start(), self._started()).result(10)

    def _started(self):
        self.thread.start()
        return self.loop

    def _record(self, what: str, args: dict) -> dict:
        if args.get("agent") == "8002":
            raise BadInput("agent '8002' is logged out")
        self.requests.append((what, args))
        return {"id": args["agent"]}

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_agents_pause_with_a_reason_and_come_back(bench, simdir):
    control = ControlStandIn(simdir.parent / "control.sock")
    config = box_config(2)
    farend, service = bench(config)
    profile = TrafficProfile(peak_per_minute=30, curve=((0, 1.0), (1, 1.0)), handling_mean=5, patience_mean=1000,
                             break_fraction=1.0, break_mean=5.0)
    rig = TrafficRig(farend, config, profile, lockstep=True, control_socket=control.server.path, strict=True)
    try:
        report = rig.run(30.0, drain=60.0)
    finally:
        rig.close()                     # sends what is queued first
        control.close()
    pauses = [args for what, args in control.requests if what == "pause"]
    unpauses = [args for what, args in control.requests if what == "unpause"]
    assert pauses and all(p == {"agent": "8001", "reason": "break"} for p in pauses)
    assert len(unpauses) == len(pauses) and all(u == {"agent": "8001"} for u in unpauses)
    # a refused request is counted, never fatal
    counters = report["counters"]
    assert counters["agent.pause.ok"] == len(pauses) and counters["agent.pause.error"] > 0
    assert report["agent_breaks"] == report["agents"]["8001"]["breaks"] + report["agents"]["8002"]["breaks"]


def test_control_worker_counts_an_absent_service(simdir):
    worker = ControlWorker(simdir.parent / "nobody.sock", timeout=1.0)
    worker.submit("agent.pause", agent="8001", reason="break")
    worker.close()
    assert worker.counters == {"agent.pause.error": 1}
