"""Simulated DAHDI spans: a near-end backend and the far end that another process holds.

``open_url("sim:///run/qbox/sim")`` (what :func:`drivers.dahdi.open_backend` calls)
connects to the :class:`FarEnd` serving that directory.  The far end is the line
and the exchange (or agent PBX) behind it: it takes injected faults, keeps alarms
and counters the way a DAHDI card reports them, and carries D-channel frames,
20 ms media blocks and FXS phone hook state.  ``qbox sim run`` starts one.
"""
from __future__ import annotations

from drivers.dahdi.sim.control import DEFAULT_DIRECTORY, SimControl
from drivers.dahdi.sim.farend import FarEnd, FarPort, FarSpan
from drivers.dahdi.sim.line import Fault, FaultKind, SpanLine, parse_fault
from drivers.dahdi.sim.nearend import SimBackend, directory_of
from drivers.dahdi.sim.spec import LineTiming, PortSpec, SpanSpec

__all__ = [
    "open_url", "DEFAULT_DIRECTORY", "FarEnd", "FarPort", "FarSpan", "Fault", "FaultKind",
    "LineTiming", "PortSpec", "SimBackend", "SimControl", "SpanLine", "SpanSpec",
    "directory_of", "parse_fault",
]


def open_url(url: str, **options) -> SimBackend:
    """The near end of the simulator at ``sim:///DIRECTORY``; DahdiError if none is running."""
    return SimBackend(url, **options)
