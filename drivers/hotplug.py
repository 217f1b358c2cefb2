"""Hot-plug: which configured devices are present, from udev (pyudev) or a fake feed.

A configured device is a :class:`DeviceSpec` (a subsystem plus a device node or a USB
VID:PID), made from its device URL by :func:`spec_for_url`.  A :class:`DeviceWatch`
follows add/remove events from any event source and calls back when a named device
appears or disappears; the alarm manager turns that into "device missing" alarms and
the tower output re-opens its tower.

Event sources share one shape (``fileno()`` for ``loop.add_reader``, ``read_events()``
to drain):

- :class:`UdevMonitor`: the kernel's netlink uevents through pyudev.  With
  ``source="kernel"`` it works without udevd; USB ids are then read from sysfs (the
  parent ``usb_device``'s ``idVendor``/``idProduct``), which is there on add and
  change but gone on remove, so the watch remembers which device path matched.
- :class:`FakeEventFeed`: events a test injects, through the same interface.
"""
from __future__ import annotations

import os
import select
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = [
    "DeviceEvent", "DeviceSpec", "spec_for_url", "find_devnodes", "scan",
    "UdevMonitor", "FakeEventFeed", "DeviceWatch",
]


@dataclass(frozen=True)
class DeviceEvent:
    action: str                  # "add", "remove", "change", "bind", "unbind", "move"
    subsystem: str               # "tty", "hidraw", "dahdi_devices", ...
    devpath: str                 # sysfs path below /sys: the identity across add/remove
    devnode: str | None = None   # "/dev/ttyUSB0"
    vid: int | None = None       # USB vendor id of the parent USB device, if any
    pid: int | None = None
    properties: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class DeviceSpec:
    """How a configured device shows up in udev: a subsystem and, optionally, a node or USB id."""

    subsystem: str
    devnode: str | None = None
    vid: int | None = None
    pid: int | None = None

    def matches(self, event: DeviceEvent) -> bool:
        if event.subsystem != self.subsystem:
            return False
        if self.devnode is not None and not self._same_node(event):
            return False
        if self.vid is not None and (event.vid, event.pid) != (self.vid, self.pid):
            return False
        return True

    def _same_node(self, event: DeviceEvent) -> bool:
        """The configured path is the event's node, one of udev's links to it (DEVLINKS,
        e.g. /dev/serial/by-id/...), or a symlink that resolves to it now."""
        if event.devnode == self.devnode:
            return True
        if self.devnode in event.properties.get("DEVLINKS", "").split():
            return True
        return event.devnode is not None and os.path.realpath(self.devnode) == event.devnode


def spec_for_url(url: str) -> DeviceSpec | None:
    """The udev identity of a device URL; None for devices that are not hot-plugged (tcp)."""
    parts = urlsplit(url)
    if parts.scheme == "serial" and parts.path:
        return DeviceSpec("tty", devnode=parts.path)
    if parts.scheme == "hidraw":
        if parts.netloc:
            vid, _, pid = parts.netloc.partition(":")
            return DeviceSpec("hidraw", vid=int(vid, 16), pid=int(pid, 16))
        return DeviceSpec("hidraw", devnode=parts.path)
    if parts.scheme == "dahdi":
        return DeviceSpec("dahdi_devices")
    return None


def _usb_ids(device) -> tuple[int | None, int | None]:
    """VID:PID of the USB device above a pyudev device, read from sysfs."""
    try:
        usb = device.find_parent("usb", "usb_device")
    except Exception:  # sysfs vanished under us (remove) or the tree is odd
        return None, None
    if usb is None:
        return None, None
    try:
        return int(usb.attributes.asstring("idVendor"), 16), int(usb.attributes.asstring("idProduct"), 16)
    except (KeyError, ValueError, OSError):
        return None, None


def _event_from_device(device, action: str | None = None) -> DeviceEvent:
    properties = dict(device.properties)
    vid, pid = _usb_ids(device) if (action or device.action) != "remove" else (None, None)
    return DeviceEvent(
        action=action or device.action or "add",
        subsystem=device.subsystem or "",
        devpath=device.device_path,
        devnode=device.device_node,
        vid=vid,
        pid=pid,
        properties=properties,
    )


def scan(subsystems: Iterable[str], context=None) -> list[DeviceEvent]:
    """Every present device of ``subsystems`` as an "add" event (the start-up picture)."""
    import pyudev

    context = context or pyudev.Context()
    events = []
    for subsystem in subsystems:
        for device in context.list_devices(subsystem=subsystem):
            events.append(_event_from_device(device, "add"))
    return events


def find_devnodes(subsystem: str, *, vid: int | None = None, pid: int | None = None) -> list[str]:
    """Device nodes of ``subsystem`` present now whose USB parent has ``vid``:``pid``."""
    spec = DeviceSpec(subsystem, vid=vid, pid=pid)
    return sorted(e.devnode for e in scan([subsystem]) if e.devnode and spec.matches(e))


class UdevMonitor:
    """Kernel uevents for ``subsystems`` through pyudev's netlink monitor.

    ``source="kernel"`` needs no udevd (raw kernel events, no ``ID_*`` properties);
    ``source="udev"`` gets udevd's processed events where udevd runs.
    """

    def __init__(self, subsystems: Iterable[str] = ("tty", "hidraw", "dahdi_devices"), *,
                 source: str = "kernel") -> None:
        import pyudev

        self.subsystems = tuple(subsystems)
        self._monitor = pyudev.Monitor.from_netlink(pyudev.Context(), source=source)
        for subsystem in self.subsystems:
            self._monitor.filter_by(subsystem)
        self._monitor.start()

    def fileno(self) -> int:
        return self._monitor.fileno()

    def read_events(self, timeout: float = 0.0) -> list[DeviceEvent]:
        """Events waiting now (or arriving within ``timeout`` seconds for the first one)."""
        events = []
        wait = timeout
        while True:
            ready, _, _ = select.select([self._monitor], [], [], wait)
            if not ready:
                return events
            device = self._monitor.poll(timeout=0)
            if device is not None:
                events.append(_event_from_device(device))
            wait = 0.0

    def close(self) -> None:
        # pyudev has no close(); dropping the monitor closes its netlink socket.
        self._monitor = None


class FakeEventFeed:
    """A stand-in for :class:`UdevMonitor`: events come from :meth:`inject`."""

    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self._events: list[DeviceEvent] = []

    def inject(self, event: DeviceEvent) -> None:
        self._events.append(event)
        os.write(self._w, b"!")

    def fileno(self) -> int:
        return self._r

    def read_events(self, timeout: float = 0.0) -> list[DeviceEvent]:
        if not self._events and timeout:
            select.select([self._r], [], [], timeout)
        try:
            os.read(self._r, 4096)
        except BlockingIOError:
            pass
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        os.close(self._r)
        os.close(self._w)


class DeviceWatch:
    """Presence of named devices, kept from add/remove events.

    ``on_change(name, present, devnode)`` is called when a name's first matching device
    appears or its last one goes.  Feed it :func:`scan` results at start-up (through
    :meth:`handle`), then every event from the monitor.
    """

    def __init__(self, specs: dict[str, DeviceSpec],
                 on_change: Callable[[str, bool, str | None], None]) -> None:
        self.specs = dict(specs)
        self.on_change = on_change
        self._present: dict[str, dict[str, str | None]] = {name: {} for name in self.specs}

    def present(self, name: str) -> bool:
        return bool(self._present[name])

    def devnode(self, name: str) -> str | None:
        nodes = sorted(n for n in self._present[name].values() if n)
        return nodes[0] if nodes else None

    def handle(self, event: DeviceEvent) -> None:
        for name, spec in self.specs.items():
            held = self._present[name]
            if event.action == "remove":
                # sysfs is gone: recognise the device by the path it was added under.
                if event.devpath in held:
                    del held[event.devpath]
                    if not held:
                        self.on_change(name, False, event.devnode)
            elif event.action in ("add", "change", "bind") and spec.matches(event):
                if event.devpath not in held:
                    held[event.devpath] = event.devnode
                    if len(held) == 1:
                        self.on_change(name, True, event.devnode)

    def start(self, events: Iterable[DeviceEvent]) -> None:
        """Take the start-up picture, then report every name still missing."""
        for event in events:
            self.handle(event)
        for name in self.specs:
            if not self._present[name]:
                self.on_change(name, False, None)
