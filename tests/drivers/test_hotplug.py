"""Hot-plug: device specs from URLs, presence tracking, and real kernel uevents from /sys."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from drivers.hotplug import (
    DeviceEvent, DeviceSpec, DeviceWatch, FakeEventFeed, UdevMonitor, find_devnodes, scan, spec_for_url,
)

TOWER = DeviceEvent("add", "hidraw", "/devices/usb1/1-1/1-1:1.0/hidraw/hidraw3", "/dev/hidraw3", 0x191A, 0x8003)
MOUSE = DeviceEvent("add", "hidraw", "/devices/usb1/1-2/1-2:1.0/hidraw/hidraw4", "/dev/hidraw4", 0x046D, 0xC077)


def test_specs_from_device_urls(tmp_path):
    link = tmp_path / "by-id-tower"
    link.symlink_to("/dev/ttyS0")
    spec = spec_for_url(f"serial://{link}?baud=9600")
    assert spec == DeviceSpec("tty", devnode=str(link))
    # A by-id link matches the node it points to now, and udev's DEVLINKS naming it.
    assert spec.matches(DeviceEvent("add", "tty", "/devices/x/ttyS0", "/dev/ttyS0"))
    assert spec.matches(DeviceEvent("add", "tty", "/devices/y/ttyUSB3", "/dev/ttyUSB3",
                                    properties={"DEVLINKS": f"/dev/serial/by-path/p {link}"}))
    assert not spec.matches(DeviceEvent("add", "tty", "/devices/y/ttyUSB3", "/dev/ttyUSB3"))
    assert spec_for_url("hidraw://191a:8003") == DeviceSpec("hidraw", vid=0x191A, pid=0x8003)
    assert spec_for_url("hidraw:///dev/hidraw1?model=ne") == DeviceSpec("hidraw", devnode="/dev/hidraw1")
    assert spec_for_url("dahdi:///dev/dahdi") == DeviceSpec("dahdi_devices")
    assert spec_for_url("tcp://10.0.0.5:10000") is None


def test_watch_follows_add_and_remove_by_usb_id():
    seen = []
    watch = DeviceWatch({"tower": spec_for_url("hidraw://191a:8003")}, lambda *a: seen.append(a))
    feed = FakeEventFeed()
    watch.start([MOUSE])                         # start-up: no tower plugged in
    assert seen == [("tower", False, None)]
    feed.inject(MOUSE)
    feed.inject(TOWER)
    for event in feed.read_events():
        watch.handle(event)
    assert seen[-1] == ("tower", True, "/dev/hidraw3") and watch.devnode("tower") == "/dev/hidraw3"
    # On remove sysfs is gone, so the event carries no USB id: the path identifies it.
    feed.inject(DeviceEvent("remove", "hidraw", TOWER.devpath, "/dev/hidraw3"))
    feed.inject(DeviceEvent("remove", "hidraw", MOUSE.devpath, "/dev/hidraw4"))
    for event in feed.read_events():
        watch.handle(event)
    assert seen == [("tower", False, None), ("tower", True, "/dev/hidraw3"), ("tower", False, "/dev/hidraw3")]
    assert not watch.present("tower")
    feed.close()


def test_watch_reports_once_per_appearance_with_two_matching_devices():
    seen = []
    watch = DeviceWatch({"dahdi": DeviceSpec("dahdi_devices")}, lambda *a: seen.append(a[:2]))
    cards = [DeviceEvent("add", "dahdi_devices", f"/devices/pci0000:00/dahdi_devices/pci:0000:0{i}", None)
             for i in (1, 2)]
    watch.start(cards)
    assert seen == [("dahdi", True)]
    watch.handle(DeviceEvent("change", "dahdi_devices", cards[0].devpath))
    watch.handle(DeviceEvent("remove", "dahdi_devices", cards[0].devpath))
    assert seen == [("dahdi", True)]             # the other card is still there
    watch.handle(DeviceEvent("remove", "dahdi_devices", cards[1].devpath))
    assert seen == [("dahdi", True), ("dahdi", False)]


def test_scan_and_find_on_this_machine():
    assert any(e.devnode == "/dev/ttyS0" and e.action == "add" for e in scan(["tty"]))
    assert find_devnodes("hidraw", vid=0x191A, pid=0x8003) == []   # no Patlite plugged in here


def _synth(action: str, tag: str) -> None:
    # A synthetic uevent: the kernel emits it, nothing is added or removed (no udevd here
    # acts on it; where udevd runs, "add" restores anything a "remove" made it drop).
    Path("/sys/class/tty/ttyS0/uevent").write_text(f"{action} {tag}")


def _events_tagged(monitor, tag, count, timeout=5.0):
    got = []
    for _ in range(50):
        got += [e for e in monitor.read_events(timeout=timeout / 10) if e.properties.get("SYNTH_UUID") == tag]
        if len(got) >= count:
            break
    return got


@pytest.mark.xdist_group("kernel-uevents")
def test_real_kernel_change_uevent_reaches_the_monitor():
    monitor = UdevMonitor(["tty"], source="kernel")
    tag = str(uuid.uuid4())
    _synth("change", tag)
    events = _events_tagged(monitor, tag, 1)
    monitor.close()
    assert [(e.action, e.subsystem, e.devnode) for e in events] == [("change", "tty", "/dev/ttyS0")]


@pytest.mark.xdist_group("kernel-uevents")
def test_real_kernel_remove_and_add_drive_a_device_watch():
    seen = []
    watch = DeviceWatch({"console-tower": spec_for_url("serial:///dev/ttyS0?baud=9600")},
                        lambda name, present, node: seen.append((name, present, node)))
    monitor = UdevMonitor(["tty"], source="kernel")
    watch.start(scan(["tty"]))
    assert seen == [("console-tower", True, "/dev/ttyS0")]
    tag = str(uuid.uuid4())
    _synth("remove", tag)
    _synth("add", tag)
    for event in _events_tagged(monitor, tag, 2):
        watch.handle(event)
    monitor.close()
    assert seen[1:] == [("console-tower", False, "/dev/ttyS0"), ("console-tower", True, "/dev/ttyS0")]
