"""Hot-plug for the alarm devices: udev add/remove -> "device missing" alarms and re-attach.

The service gives it the device URLs (tower, DAHDI) and the outputs that hold them,
feeds it the start-up :func:`drivers.hotplug.scan` and then every event of a
:class:`drivers.hotplug.UdevMonitor`::

    supervisor = DeviceSupervisor(DeviceAlarms(manager, config),
                                  {"tower": config.tower, "dahdi": box.dahdi.device},
                                  {"tower": tower_output})
    supervisor.start(scan(supervisor.subsystems))
    loop.add_reader(monitor.fileno(), lambda: supervisor.handle(monitor.read_events()))

A device that leaves raises its alarm and its output lets go of it; when it comes
back the output re-opens it and shows the current alarms, without a restart.  Devices
udev cannot see (a tower on the LAN) are covered by their output's failed writes.
"""
from __future__ import annotations

from collections.abc import Iterable

from appliance.alarms.outputs import DeviceOutput
from appliance.alarms.sources import DeviceAlarms
from drivers.hotplug import DeviceEvent, DeviceWatch, spec_for_url

__all__ = ["DeviceSupervisor"]


class DeviceSupervisor:
    def __init__(self, alarms: DeviceAlarms, urls: dict[str, str], outputs: dict[str, DeviceOutput] | None = None) -> None:
        self.alarms = alarms
        self.outputs = dict(outputs or {})
        specs = {name: spec for name, url in urls.items() if url and (spec := spec_for_url(url)) is not None}
        self.watch = DeviceWatch(specs, self._changed)

    @property
    def subsystems(self) -> list[str]:
        return sorted({spec.subsystem for spec in self.watch.specs.values()})

    def start(self, present: Iterable[DeviceEvent]) -> None:
        """The start-up picture: raises an alarm for every configured device not there."""
        self.watch.start(present)

    def handle(self, events: Iterable[DeviceEvent]) -> None:
        for event in events:
            self.watch.handle(event)

    def _changed(self, name: str, present: bool, devnode: str | None) -> None:
        self.alarms.changed(name, present, devnode)
        output = self.outputs.get(name)
        if output is None:
            return
        if present:
            output.attach()
        else:
            output.detach(f"{devnode or name} removed")
