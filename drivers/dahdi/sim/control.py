"""A client for a running simulator's control socket.

The near-end backend asks it for span status and hook operations; ``qbox sim``
uses it to inject faults, play an agent's phone and move a manual clock, from any
process.
"""
from __future__ import annotations

import errno
import threading
from pathlib import Path

from drivers.dahdi.interface import DahdiError, HookOp, SpanStatus
from drivers.dahdi.sim import wire
from drivers.dahdi.sim.wire import dahdi_error

__all__ = ["SimControl", "DEFAULT_DIRECTORY"]

DEFAULT_DIRECTORY = "/run/qbox/sim"


class SimControl:
    """One connection to the simulator serving ``directory``; DahdiError if none is running."""

    def __init__(self, directory: str | Path = DEFAULT_DIRECTORY, timeout: float = 5.0) -> None:
        self.directory = Path(directory)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sock = self._connect()
        self.info = self.request("hello")

    def _connect(self):
        try:
            return wire.connect(self.directory / wire.CONTROL, self.timeout)
        except DahdiError as exc:
            raise dahdi_error(exc.errno or errno.ENOENT,
                              f"no simulator is running in {self.directory} "
                              f"(start one with: qbox sim run --config FILE --dir {self.directory})") from None

    def request(self, op: str, **fields) -> dict:
        """Send one request and return its reply; DahdiError carries the simulator's refusal.

        A simulator that was stopped and started again is found again: a request that
        meets the old connection closed is sent once more on a new one."""
        with self._lock:
            try:
                return self._exchange(op, fields)
            except wire.SimulatorGone:
                self._sock.close()
                self._sock = self._connect()
                return self._exchange(op, fields)

    def _exchange(self, op: str, fields: dict) -> dict:
        try:
            wire.send_json(self._sock, {"op": op, **fields})
        except OSError as exc:
            raise wire.dahdi_error(exc.errno or errno.EPIPE, f"the simulator in {self.directory} has gone away",
                                   wire.SimulatorGone) from None
        return wire.raise_for_reply(wire.recv_json(self._sock))

    def spans(self, *, channels: bool = True) -> list[SpanStatus]:
        return [wire.status_from_wire(s) for s in self.request("spans", channels=channels)["spans"]]

    def span(self, number: int, *, channels: bool = True) -> SpanStatus:
        return wire.status_from_wire(self.request("span", span=number, channels=channels)["status"])

    def lines(self, span: int | None = None) -> list[dict]:
        """Both ends of each span's line: alarms, faults, counters (``FarEnd.line_report``)."""
        fields = {} if span is None else {"span": span}
        return self.request("line", **fields)["lines"]

    def fault(self, span: int, fault: str) -> dict:
        return self.request("fault", span=span, fault=fault)["line"]

    def advance(self, seconds: float) -> float:
        return self.request("advance", seconds=seconds)["now"]

    def phone(self, channo: int, action: str) -> str:
        """The agent's hand on an FXS phone: ``offhook``, ``onhook`` or ``flash``."""
        return self.request("phone", channo=channo, action=action)["state"]

    def ports(self) -> list[dict]:
        """Every FXS port's phone: hook and ring state, tone zone and cadence (``FarEnd.port_report``)."""
        return self.request("ports")["ports"]

    def hook(self, channo: int, op: HookOp) -> str:
        return self.request("hook", channo=channo, hook=int(op))["state"]

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> "SimControl":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
