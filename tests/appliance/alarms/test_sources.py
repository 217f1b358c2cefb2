"""Sources map what the service sees to (object, cause, severity) conditions."""
from __future__ import annotations

import pytest

from appliance.alarms import (
    AlarmManager, AlarmsConfig, DChannelAlarms, Debounce, DeviceAlarms, DiskAlarms, QueueAlarms, SpanAlarms,
)
from appliance.alarms.sources import LINK_START_GRACE_S
from drivers.dahdi.interface import Alarm as SpanAlarm
from drivers.dahdi.interface import SpanCounters, SpanStatus


def span(alarms=0, number=2, **counters):
    # SpanAlarm keeps user.h's LOS/LFA/LMFA bits (1<<8..10) although it does not name them.
    return SpanStatus(number, f"SIM/{number}", "sim", "E1", "CCS", "HDB3", True, SpanAlarm(alarms),
                      SpanCounters(**counters))


def shown(manager):
    return sorted((a.object, a.cause, a.severity) for a in manager.active())


@pytest.mark.parametrize("bits, cause, severity", [
    (SpanAlarm.RED, "lossOfSignal", "critical"),
    (int(SpanAlarm.RED) | 1 << 8, "lossOfSignal", "critical"),
    (int(SpanAlarm.RED) | 1 << 9, "lossOfFrame", "critical"),
    (1 << 10, "lossOfMultiFrame", "major"),
    (SpanAlarm.BLUE, "aIS", "major"),
    (SpanAlarm.YELLOW, "remoteAlarmInterface", "major"),
])
def test_span_flags_map_to_x733_causes(manager, clock, config, bits, cause, severity):
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(bits))                # DAHDI shows it: already debounced by the driver
    assert shown(manager) == [("span2", cause, severity)]
    spans.update(span(SpanAlarm.RECOVER))
    clock.advance(5)
    spans.update(span(SpanAlarm.RECOVER))
    assert shown(manager) == [("span2", cause, severity)]
    spans.update(span(0))
    assert shown(manager) == []


def test_red_and_yellow_together_are_two_alarms(manager, clock, config):
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(SpanAlarm.RED | SpanAlarm.YELLOW))
    assert shown(manager) == [("span2", "lossOfSignal", "critical"), ("span2", "remoteAlarmInterface", "major")]


def test_a_span_coming_up_through_recovering_raises_nothing(manager, clock, config, recorder):
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(SpanAlarm.RECOVER))
    clock.advance(5)
    spans.update(span(0))
    assert recorder.events == [] and shown(manager) == []


def test_recovering_holds_an_alarm_restored_after_a_restart(manager, clock, config, recorder):
    manager.report("span2", "lossOfSignal", True, severity="critical")
    restarted = AlarmManager(config, clock, manager.store, [recorder])
    restarted.restore()
    spans = SpanAlarms(restarted, clock, config)
    spans.update(span(SpanAlarm.RECOVER))
    assert shown(restarted) == [("span2", "lossOfSignal", "critical")]
    spans.update(span(0))
    assert shown(restarted) == []
    restarted.close()


def test_a_fault_during_recovering_is_raised_and_the_old_one_still_held(manager, clock, config):
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(SpanAlarm.RED))
    spans.update(span(SpanAlarm.RECOVER))
    spans.update(span(SpanAlarm.BLUE | SpanAlarm.RECOVER))
    assert shown(manager) == [("span2", "aIS", "major"), ("span2", "lossOfSignal", "critical")]
    spans.update(span(SpanAlarm.RECOVER))
    assert len(shown(manager)) == 2
    spans.update(span(0))
    assert shown(manager) == []


def test_a_configured_span_debounce_adds_to_dahdis(manager, clock):
    config = AlarmsConfig(syslog="", span=Debounce(1.0, 2.0))
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(SpanAlarm.RED))
    clock.advance(0.999)
    assert shown(manager) == []
    clock.advance(0.001)
    assert shown(manager) == [("span2", "lossOfSignal", "critical")]
    spans.update(span(0))
    clock.advance(1.999)
    assert len(shown(manager)) == 1
    clock.advance(0.001)
    assert shown(manager) == []


def test_line_errors_over_the_threshold_raise_excessive_ber(manager, clock, config):
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(bpv=0))
    for second in range(1, 5):
        clock.advance(1)
        # 12 errors a second > 10/s threshold
        spans.update(span(bpv=6 * second, crc4=4 * second, fas=2 * second))
    assert shown(manager) == [("span2", "excessiveBER", "minor")]
    assert "12.0 line errors/s" in manager.active()[0].text
    for _ in range(6):
        clock.advance(1)
        spans.update(span(bpv=24, crc4=16, fas=8))    # no new errors
    assert shown(manager) == []


def test_counter_reset_is_not_a_burst_of_errors(manager, clock, config):
    spans = SpanAlarms(manager, clock, config)
    spans.update(span(bpv=1_000_000))
    clock.advance(1)
    spans.update(span(bpv=3))          # driver restarted: counters from zero
    clock.advance(3)
    assert shown(manager) == []


def test_dchannel_down_and_up(manager, clock, config):
    dchan = DChannelAlarms(manager, config)
    dchan.up(1)
    dchan.down(1, "T200 expired N200 times")   # LAPD's own timers have run: at once
    assert shown(manager) == [("dchan1", "communicationsSubsystemFailure", "major")]
    dchan.up(1)
    clock.advance(4.999)
    assert len(shown(manager)) == 1
    clock.advance(0.001)
    assert shown(manager) == []


def test_a_dchannel_still_coming_up_is_not_an_alarm_until_lapd_could_have_given_up(manager, clock, config):
    dchan = DChannelAlarms(manager, config)
    for _ in range(int(LINK_START_GRACE_S)):     # the service asks once a second
        dchan.down(1)
        clock.advance(1 - 0.001)
        assert shown(manager) == []
        clock.advance(0.001)
    assert shown(manager) == [("dchan1", "communicationsSubsystemFailure", "major")]


def test_the_start_grace_needs_no_further_reports(manager, clock, config):
    dchan = DChannelAlarms(manager, config)
    dchan.down(1)
    clock.advance(LINK_START_GRACE_S - 0.001)
    assert shown(manager) == []
    clock.advance(0.001)
    assert shown(manager) == [("dchan1", "communicationsSubsystemFailure", "major")]


def test_once_up_a_dchannel_down_counts_at_once(manager, clock, config):
    dchan = DChannelAlarms(manager, config)
    dchan.down(1)                   # in its start-up grace
    clock.advance(1)
    dchan.up(1)
    dchan.down(1)
    assert shown(manager) == [("dchan1", "communicationsSubsystemFailure", "major")]


def test_a_dchannel_that_comes_up_at_start_raises_nothing(manager, clock, config, recorder):
    dchan = DChannelAlarms(manager, config)
    dchan.down(1)
    clock.advance(1)
    dchan.up(1)
    clock.advance(10)
    dchan.up(1)
    assert recorder.events == []


def test_market_open_surge(manager, clock, config):
    queues = QueueAlarms(manager, config)
    queues.update("sales", waiting=3, longest_wait_s=20, service_level=0.95)
    assert shown(manager) == []
    queues.update("sales", waiting=25, longest_wait_s=300, service_level=0.4)
    assert shown(manager) == [("queue:sales", "excessiveResponseTime", "minor"),
                              ("queue:sales", "performanceDegraded", "minor"),
                              ("queue:sales", "queueSizeExceeded", "minor")]
    assert all(a.event_type == "qualityOfServiceAlarm" for a in manager.active())
    queues.update("sales", waiting=2, longest_wait_s=10, service_level=0.9)
    clock.advance(29)
    assert len(manager.active()) == 3       # queue alarms settle for 30 s
    clock.advance(1)
    assert shown(manager) == []


def test_device_missing_and_back(manager, clock, config):
    devices = DeviceAlarms(manager, config)
    devices.changed("tower", False, "/dev/hidraw3")
    clock.advance(1)
    (alarm,) = manager.active()
    assert (alarm.object, alarm.cause, alarm.event_type) == ("tower", "replaceableUnitMissing", "equipmentAlarm")
    assert alarm.text == "tower missing: /dev/hidraw3"
    devices.presence_callback("tower")(True, "attached")
    clock.advance(1)
    assert shown(manager) == []


def test_disk_nearly_full(manager, clock, config):
    used = {"value": 50}
    disks = DiskAlarms(manager, config, usage=lambda path: (100, used["value"], 100 - used["value"]))
    assert disks.check("/var/lib/qbox") == 50.0
    used["value"] = 92
    disks.check("/var/lib/qbox")
    assert shown(manager) == [("disk:/var/lib/qbox", "storageCapacityProblem", "minor")]
    used["value"] = 98
    disks.check("/var/lib/qbox")
    assert shown(manager) == [("disk:/var/lib/qbox", "storageCapacityProblem", "major")]
    used["value"] = 40
    disks.check("/var/lib/qbox")
    clock.advance(60)
    assert shown(manager) == []
