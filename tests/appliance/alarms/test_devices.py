"""Hot-plug of the alarm devices and the DAHDI hardware, from a fake udev feed."""
from __future__ import annotations

from appliance.alarms import DeviceAlarms
from appliance.alarms.devices import DeviceSupervisor
from drivers.hotplug import DeviceEvent

CARD = DeviceEvent("add", "dahdi_devices", "/devices/pci0000:00/0000:00:1e.0/pci:0000:05:00.0", None)
TOWER = DeviceEvent("add", "hidraw", "/devices/usb1/1-1/1-1:1.0/0003:191A:8003.0001/hidraw/hidraw0",
                    "/dev/hidraw0", 0x191A, 0x8003)


class FakeOutput:
    def __init__(self):
        self.calls = []

    def attach(self):
        self.calls.append("attach")

    def detach(self, reason):
        self.calls.append(f"detach: {reason}")


def missing(manager):
    return sorted(a.object for a in manager.active() if a.cause == "replaceableUnitMissing")


def test_devices_missing_at_start_and_coming_and_going(manager, clock, config):
    output = FakeOutput()
    supervisor = DeviceSupervisor(DeviceAlarms(manager, config),
                                  {"tower": "hidraw://191a:8003", "dahdi": "dahdi:///dev/dahdi",
                                   "lan-tower": "tcp://10.0.0.5:10000"},
                                  {"tower": output})
    assert supervisor.subsystems == ["dahdi_devices", "hidraw"]   # the LAN tower is not udev's
    supervisor.start([CARD])
    clock.advance(1)
    assert missing(manager) == ["tower"]
    assert output.calls == ["detach: tower removed"]

    supervisor.handle([TOWER])
    clock.advance(1)
    assert missing(manager) == [] and output.calls[-1] == "attach"

    supervisor.handle([DeviceEvent("remove", "dahdi_devices", CARD.devpath, None)])
    clock.advance(1)
    (alarm,) = manager.active()
    assert (alarm.object, alarm.severity, alarm.event_type) == ("dahdi", "major", "equipmentAlarm")
    supervisor.handle([CARD])
    clock.advance(1)
    assert manager.active() == []
