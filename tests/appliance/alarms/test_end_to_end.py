"""A span fails, the tower lights, syslog hears, the NOC acknowledges; the tower is pulled and
plugged back in without a restart.  Real store, emulated tower, UDP syslog, fake udev feed."""
from __future__ import annotations

import os
import socket

from appliance.alarms import (
    AlarmManager, AlarmsConfig, CallbackOutput, DeviceAlarms, SpanAlarms, SyslogOutput, TowerOutput,
)
from appliance.alarms.devices import DeviceSupervisor
from drivers.dahdi.interface import Alarm as SpanAlarm
from drivers.dahdi.interface import SpanStatus
from drivers.hotplug import DeviceEvent, FakeEventFeed
from drivers.tower import TowerState, open_tower
from drivers.tower.emulators import AdafruitEmulator


def span1(alarms=SpanAlarm.NONE):
    return SpanStatus(1, "SIM/1", "sim", "E1", "CCS", "HDB3", True, alarms)


def tty_event(action, emulator):
    node = os.path.realpath(emulator.link) if action == "add" else None
    return DeviceEvent(action, "tty", "/devices/virtual/tty/tower", node)


def test_span_failure_to_tower_syslog_and_back(clock, alarm_store):
    with AdafruitEmulator() as emulator, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as collector:
        collector.bind(("127.0.0.1", 0))
        collector.settimeout(2)
        config = AlarmsConfig(tower=emulator.url, syslog=f"udp://127.0.0.1:{collector.getsockname()[1]}")
        api_events = []
        manager = AlarmManager(config, clock, alarm_store, [
            SyslogOutput(config.syslog, clock, facility=config.syslog_facility),
            CallbackOutput(api_events.append),
        ])
        devices = DeviceAlarms(manager, config)
        tower = TowerOutput(config, clock, lambda: open_tower(config.tower),
                            on_presence=devices.presence_callback("tower"))
        manager.add_output(tower)
        feed = FakeEventFeed()
        supervisor = DeviceSupervisor(devices, {"tower": config.tower}, {"tower": tower})
        supervisor.start([tty_event("add", emulator)])
        manager.restore()
        spans = SpanAlarms(manager, clock, config)
        assert emulator.recorder.wait_for(lambda s: s == TowerState(green="on"))

        # The exchange side goes dark; DAHDI shows RED once its debounce has passed.
        spans.update(span1(SpanAlarm.RED))
        assert emulator.recorder.wait_for(lambda s: s == TowerState(red="flash", buzzer=True))
        assert b"lossOfSignal" in collector.recv(2048)
        (alarm,) = manager.active()
        assert api_events[-1].as_dict()["alarm"]["cause"] == "lossOfSignal"

        manager.acknowledge(alarm.id, "noc", "exchange informed")
        assert emulator.recorder.wait_for(lambda s: s == TowerState(red="on"))

        # Someone pulls the tower's USB cable, then plugs it back in.
        emulator.unplug()
        feed.inject(tty_event("remove", emulator))
        supervisor.handle(feed.read_events())
        clock.advance(1)
        assert tower.tower is None
        assert {a.object for a in manager.active()} == {"span1", "tower"}
        emulator.plug()
        feed.inject(tty_event("add", emulator))
        supervisor.handle(feed.read_events())
        clock.advance(1)
        assert tower.tower is not None and {a.object for a in manager.active()} == {"span1"}
        # The new tower shows the acknowledged LOS: steady red, silent.
        assert emulator.recorder.wait_for(lambda s: s == TowerState(red="on"))

        # The span recovers: RECOVERING for DAHDI's 5 s settle (polled each second), then green.
        for _ in range(5):
            spans.update(span1(SpanAlarm.RECOVER))
            clock.advance(1)
        assert {a.object for a in manager.active()} == {"span1"}
        spans.update(span1())
        assert manager.active() == []
        assert emulator.recorder.wait_for(lambda s: s == TowerState(green="on"))
        kinds = [e.kind for e in api_events if e.alarm.object == "span1"]
        assert kinds == ["raised", "acknowledged", "cleared"]
        tower.close()
        feed.close()
