"""The rig as a child process, for ``qbox demo`` and ``qbox bench bhca``.

Start the simulated world first, then the service on its sockets, then wait for the
report::

    with RigProcess("examples/branch.yaml", workdir / "sim", duration=60, speed=10,
                    control=workdir / "control.sock") as rig:
        service = start_qbox_run(dahdi_device=rig.url, ...)    # sim:///.../sim
        report = rig.wait()                                    # the rig's JSON report

The process is ``python -m hil_tests.rigs``; its log goes to ``rig.log`` beside the
report (``rig-report.json``), both in the parent of the socket directory.
:meth:`RigProcess.stop` ends it early; it still writes its report.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from drivers.dahdi import DahdiError
from drivers.dahdi.sim import SimControl

__all__ = ["RigProcess", "RigFailed"]


class RigFailed(RuntimeError):
    """The rig process did not come up, or ended without a report; the message holds its log's end."""


class RigProcess:
    """``python -m hil_tests.rigs`` with the given options; ``extra`` is appended to its arguments."""

    def __init__(self, config: str | Path, directory: str | Path, *, duration: float, speed: float = 1.0,
                 lockstep: bool = False, calls: int | None = None, control: str | Path | None = None,
                 seed: int = 1, extra: tuple[str, ...] = ()) -> None:
        self.directory = Path(directory).resolve()
        self.report_path = self.directory.parent / "rig-report.json"
        self.log_path = self.directory.parent / "rig.log"
        self.argv = [sys.executable, "-m", "hil_tests.rigs", "--config", str(config), "--dir", str(self.directory),
                     "--duration", str(duration), "--speed", str(speed), "--seed", str(seed),
                     "--report", str(self.report_path)]
        if lockstep:
            self.argv.append("--lockstep")
        if calls is not None:
            self.argv += ["--calls", str(calls)]
        if control is not None:
            self.argv += ["--control", str(control)]
        self.argv += list(extra)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The ``dahdi.device`` that reaches this rig's spans."""
        return f"sim://{self.directory}"

    def start(self, timeout: float = 20.0) -> "RigProcess":
        """Start the process; return once its far end answers on the control socket."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self.report_path.unlink(missing_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RigFailed(f"the rig exited with status {self.process.returncode}: {self.log_tail()}")
            try:
                SimControl(self.directory).close()
                return self
            except DahdiError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RigFailed(f"the rig did not come up in {timeout:g} s: {self.log_tail()}") from None
                time.sleep(0.05)

    def wait(self, timeout: float | None = None) -> dict:
        """Wait for the run to end; its report.  RigFailed if it ended without one."""
        if self.process is None:
            raise RigFailed("the rig was never started")
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            status = self.process.returncode
        try:
            return json.loads(self.report_path.read_text())
        except (OSError, ValueError):
            raise RigFailed(f"the rig ended with status {status} and no report: {self.log_tail()}") from None

    def stop(self, timeout: float = 30.0) -> int | None:
        """End the run early (SIGTERM: the rig hangs up its calls and writes its report)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def __enter__(self) -> "RigProcess":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
