"""The simulated bench's far end as a separate process: ``qbox sim run`` under control.

The demo and tests start the span simulator the way an operator would, as its own
process, and reach it only through its sockets (``sim:///DIR`` for the DAHDI
backend, :class:`~drivers.dahdi.sim.SimControl` for faults)::

    with SimulatorProcess("examples/branch.yaml", tmp_path / "sim", settle=0.5) as sim:
        backend = open_backend(sim.url)
        sim.control.fault(1, "los")
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from drivers.dahdi import DahdiError
from drivers.dahdi.sim import SimControl

__all__ = ["SimulatorProcess", "SimulatorFailed", "terminate"]


def terminate(process: subprocess.Popen, timeout: float) -> int:
    """End a child process: SIGTERM (its orderly shutdown), SIGKILL if it has not exited after
    ``timeout`` seconds; returns its exit status.  Nothing is sent to a process already gone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class SimulatorFailed(RuntimeError):
    """``qbox sim run`` exited or did not come up; the message holds the end of its log."""


class SimulatorProcess:
    """``qbox sim run --config CONFIG --dir DIRECTORY`` as a child process.

    Its output goes to ``DIRECTORY/sim.log``.  :meth:`start` returns once the
    control socket answers; :meth:`stop` ends the process (SIGTERM, then SIGKILL).
    """

    def __init__(self, config: str | Path, directory: str | Path, *, settle: float | None = None,
                 debounce: float | None = None, manual_clock: bool = False) -> None:
        self.config = Path(config)
        self.directory = Path(directory).resolve()
        self.log_path = self.directory / "sim.log"
        self.argv = [sys.executable, "-m", "appliance.cli", "sim", "run",
                     "--config", str(self.config), "--dir", str(self.directory)]
        if settle is not None:
            self.argv += ["--settle", str(settle)]
        if debounce is not None:
            self.argv += ["--debounce", str(debounce)]
        if manual_clock:
            self.argv.append("--manual-clock")
        self.process: subprocess.Popen | None = None
        self._control: SimControl | None = None

    @property
    def url(self) -> str:
        """The ``dahdi.device`` URL that reaches this simulator."""
        return f"sim://{self.directory}"

    @property
    def control(self) -> SimControl:
        if self._control is None:
            self._control = SimControl(self.directory)
        return self._control

    def start(self, timeout: float = 20.0) -> "SimulatorProcess":
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise SimulatorFailed(f"qbox sim run exited with status {self.process.returncode}: {self.log_tail()}")
            try:
                self.control
                return self
            except DahdiError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SimulatorFailed(f"qbox sim run did not come up in {timeout:g} s: {self.log_tail()}") from None
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        """End the simulator; returns its exit status (None if it was never started)."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self.process is None:
            return None
        return terminate(self.process, timeout)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def __enter__(self) -> "SimulatorProcess":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
