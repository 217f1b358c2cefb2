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
from pathlib import Path

from hil_tests.simbench import SimulatorFailed, SimulatorProcess

__all__ = ["RigProcess", "RigFailed"]


class RigFailed(SimulatorFailed):
    """The rig process did not come up, or ended without a report; the message holds its log's end."""


class RigProcess(SimulatorProcess):
    """``python -m hil_tests.rigs`` with the given options; ``extra`` is appended to its arguments.

    It is a simulator process (it serves the spans at :attr:`url`, :attr:`control`
    reaches its far end) that also runs the traffic and writes a report.
    """

    def __init__(self, config: str | Path, directory: str | Path, *, duration: float, speed: float = 1.0,
                 lockstep: bool = False, calls: int | None = None, control: str | Path | None = None,
                 seed: int = 1, extra: tuple[str, ...] = ()) -> None:
        super().__init__(config, directory)
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

    def start(self, timeout: float = 20.0) -> "RigProcess":
        """Start the process; return once its far end answers on the control socket."""
        self.report_path.unlink(missing_ok=True)
        try:
            super().start(timeout)
        except SimulatorFailed:
            status = self.process.returncode if self.process is not None else None
            raise RigFailed(f"the rig did not come up (exit status {status}): {self.log_tail()}") from None
        return self

    def wait(self, timeout: float | None = None) -> dict:
        """Wait for the run to end; its report.  RigFailed if it ended without one."""
        if self.process is None:
            raise RigFailed("the rig was never started")
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            status = self.stop()
        try:
            return json.loads(self.report_path.read_text())
        except (OSError, ValueError):
            raise RigFailed(f"the rig ended with exit status {status} and no report: {self.log_tail()}") from None

    def stop(self, timeout: float = 30.0) -> int | None:
        """End the run early (SIGTERM: the rig hangs up its calls and writes its report)."""
        return super().stop(timeout)
