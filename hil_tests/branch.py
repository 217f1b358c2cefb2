"""A simulated branch: the rig process (exchange, callers, agents) and ``qbox run``, side by side.

``qbox demo`` and ``qbox bench bhca`` both run one.  The box configuration is a copy of
the given one with its devices pointed into a work directory: ``dahdi.device`` at the
rig's simulator, prompts, recordings and the ISV hook at what the branch provides, and
(optionally) the alarm tower at an emulator.  Opening hours are dropped: a demo run at
night must still take calls.

    with SimulatedBranch("examples/branch.yaml", workdir, duration=60, speed=10) as branch:
        branch.start()
        report = branch.wait()          # the rig's report; branch.status() is the service's
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from appliance.control import ControlClient
from hil_tests.rigs.process import RigProcess
from hil_tests.simbench import terminate

__all__ = ["SimulatedBranch", "ServiceFailed", "BalanceService"]


class ServiceFailed(RuntimeError):
    """``qbox run`` did not come up or died; the message ends with its log."""


class BalanceService:
    """The ISV's account-balance service the IVR's hook asks (local HTTP/JSON, port 0)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                account = str(body.get("account", ""))
                balance = f"{sum(int(d) for d in account if d.isdigit()) * 1234 % 100000}.{len(account):02d}"
                reply = json.dumps({"balance": balance}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/balance"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "BalanceService":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SimulatedBranch:
    def __init__(self, config: str | Path, workdir: str | Path, *, duration: float, speed: float = 1.0,
                 lockstep: bool = False, calls: int | None = None, seed: int = 1, tower: str = "",
                 prompts: str | Path | None = None, rig_options: tuple[str, ...] = (),
                 service_options: tuple[str, ...] = (), adjust: Callable[[dict], None] | None = None) -> None:
        self.source = Path(config)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.socket = self.workdir / "control.sock"
        self.state = self.workdir / "state"
        self.recordings = self.workdir / "recordings"
        self.prompts = Path(prompts) if prompts else self.workdir / "prompts"
        self.config_path = self.workdir / "box.yaml"
        self.service_log = self.workdir / "service.log"
        self.tower = tower
        self.lockstep = lockstep
        self.adjust = adjust          # edits the configuration (as a dict) before it is written
        self.balance = BalanceService()
        self.rig = RigProcess(self.config_path, self.workdir / "sim", duration=duration, speed=speed,
                              lockstep=lockstep, calls=calls, control=self.socket, seed=seed,
                              extra=rig_options)
        self.service_options = service_options
        self.service: subprocess.Popen | None = None

    # -- life cycle --------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "SimulatedBranch":
        self.balance.start()
        self._write_config()
        self.rig.start()
        with open(self.service_log, "w") as log:         # the child keeps its own copy
            self.service = subprocess.Popen(
                [sys.executable, "-m", "appliance.cli", "run", "--config", str(self.config_path),
                 "--state-dir", str(self.state), "--socket", str(self.socket), "--log-level", "warning",
                 *(["--lockstep"] if self.lockstep else []), *self.service_options],
                stdout=log, stderr=subprocess.STDOUT, cwd=os.getcwd())
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.service.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServiceFailed(f"qbox run did not start: {self.log_tail()}")
            time.sleep(0.05)
        return self

    def wait(self, timeout: float | None = None) -> dict:
        """The rig's report once its run is over (the service keeps running)."""
        return self.rig.wait(timeout)

    def stop(self) -> None:
        if self.service is not None:
            terminate(self.service, 20)                 # before its far end goes away
        self.rig.stop()
        self.balance.stop()

    def __enter__(self) -> "SimulatedBranch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the service ----------------------------------------------------------------------
    def request(self, cmd: str, **args: Any) -> Any:
        with ControlClient(self.socket, timeout=30) as client:
            return client.request(cmd, **args)

    def wait_for_cdrs(self, count: int, timeout: float = 20.0) -> int:
        """Wait until the service has written ``count`` CDRs (the last RELEASE COMPLETE may trail)."""
        deadline = time.monotonic() + timeout
        while (written := self.request("status")["counters"]["cdrs"]) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return written

    def service_cpu_seconds(self) -> float:
        """User + system CPU of the service process so far (from /proc)."""
        fields = Path(f"/proc/{self.service.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.service_log.read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _answers(self) -> bool:
        try:
            self.request("status")
            return True
        except Exception:
            return False

    def _write_config(self) -> None:
        config = yaml.safe_load(self.source.read_text())
        config.setdefault("dahdi", {})["device"] = f"sim://{self.rig.directory}"
        ivr = config.get("ivr")
        if ivr:
            ivr.pop("hours", None)
            ivr["prompts_dir"] = str(self.prompts)
            for hook in ivr.get("hooks", {}).values():
                if "http" in hook:
                    hook["http"] = self.balance.url
        if config.get("recording"):
            config["recording"]["directory"] = str(self.recordings)
        config.setdefault("alarms", {})["tower"] = self.tower
        if self.adjust is not None:
            self.adjust(config)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
