"""DAHDI spans and channels behind one interface, with a real and a simulated backend.

``open_backend("dahdi:///dev/dahdi")`` gives the kernel driver (ioctls on
``/dev/dahdi/*``); ``open_backend("sim:///run/qbox/sim")`` gives simulated spans whose
far end another process holds.  The scheme picks the backend, as pyserial's
``serial_for_url`` does; callers never branch on which one they got.
"""
from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from drivers.dahdi.interface import (
    Alarm, Backend, ChannelEvent, ChannelStatus, DahdiError, EventType, HookOp,
    SpanCounters, SpanStatus,
)

__all__ = [
    "open_backend", "Alarm", "Backend", "ChannelEvent", "ChannelStatus", "DahdiError",
    "EventType", "HookOp", "SpanCounters", "SpanStatus",
]

# scheme -> "module:callable" taking the URL; imported only when used.
_BACKENDS = {
    "dahdi": "drivers.dahdi.real:open_url",
    "sim": "drivers.dahdi.sim:open_url",
}


def open_backend(url: str, **options) -> Backend:
    """Open the DAHDI backend a device URL names; DahdiError for an unknown scheme."""
    scheme = urlsplit(url).scheme
    target = _BACKENDS.get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" for s in sorted(_BACKENDS))
        raise DahdiError(f"{url}: unknown DAHDI device scheme {scheme!r} (known: {known})")
    module_name, _, func_name = target.partition(":")
    opener = getattr(importlib.import_module(module_name), func_name)
    return opener(url, **options)
