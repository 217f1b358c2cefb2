"""The real DAHDI backend: ioctls on ``/dev/dahdi`` and the text of ``/proc/dahdi``.

``open_url("dahdi:///dev/dahdi")`` gives a :class:`DahdiBackend`.  The ABI (ioctl numbers,
structures) is in :mod:`.abi`, the system calls go through :mod:`.device`, and one bound
channel descriptor is a :class:`~.chanfile.ChannelFile`.
"""
from __future__ import annotations

from drivers.dahdi.real.backend import DahdiBackend, open_url
from drivers.dahdi.real.control import ControlDevice

__all__ = ["DahdiBackend", "ControlDevice", "open_url"]
