"""A span alarm follows DAHDI's own alarm state: raised when DAHDI shows RED (or BLUE) plus
only the configured ``span.raise_s``, cleared when DAHDI leaves RECOVERING plus ``span.clear_s``.

The line is the simulated far end's ``SpanLine`` with DAHDI's timers (LOS/AIS debounce 2.5 s,
settle 5 s), on a manual clock; the source hears it the way the service does: on every
ALARM/NOALARM change and from a poll once a second.  Times are line time, not wall time.
"""
from __future__ import annotations

import dataclasses

import pytest

from appliance.alarms import AlarmManager, AlarmsConfig, Debounce, SpanAlarms
from drivers.dahdi.interface import Alarm, SpanStatus
from drivers.dahdi.sim.line import SpanLine, parse_fault
from drivers.dahdi.sim.spec import LineTiming, SpanSpec

E1 = SpanSpec(1, "E1", "CCS", "HDB3", crc4=True)
DAHDI = LineTiming()


def exactly(seconds: float):
    return pytest.approx(seconds, abs=1e-9)


class TimedOutput:
    """Keeps (line time, change, cause) for every alarm change."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.changes: list[tuple[float, str, str]] = []

    def update(self, event, active) -> None:
        if event is not None:
            self.changes.append((self.clock.now(), event.kind, event.alarm.cause))


class Box:
    """The line, DAHDI's reports of it (time, alarms) and the alarm source listening to both."""

    def __init__(self, clock, store, span_debounce: Debounce | None = None) -> None:
        self.clock = clock
        config = AlarmsConfig(syslog="")
        if span_debounce is not None:
            config = dataclasses.replace(config, span=span_debounce)
        self.output = TimedOutput(clock)
        self.manager = AlarmManager(config, clock, store, [self.output])
        self.spans = SpanAlarms(self.manager, clock, config)
        self.reports: list[tuple[float, Alarm]] = []
        self.line = SpanLine(E1, clock, DAHDI, self._dahdi_changed)
        self._poll()

    def status(self) -> SpanStatus:
        return SpanStatus(1, "SIM/1", "sim", "E1", "CCS", "HDB3", True, self.line.near_alarms, self.line.counters())

    def _dahdi_changed(self, _line, _old, new: Alarm) -> None:
        self.reports.append((self.clock.now(), new))
        self.spans.update(self.status())

    def _poll(self) -> None:
        self.spans.update(self.status())
        self.clock.call_later(1.0, self._poll)

    def reported(self, alarms: Alarm, after: float) -> float:
        """When DAHDI first showed exactly ``alarms`` after line time ``after``."""
        return next(at for at, shown in self.reports if at >= after and shown == alarms)


@pytest.mark.parametrize("fault, bit, cause, dahdi_debounce", [
    ("los", Alarm.RED, "lossOfSignal", DAHDI.los_debounce),
    ("ais", Alarm.BLUE, "aIS", DAHDI.ais_debounce),
])
@pytest.mark.parametrize("span_debounce, raise_s, clear_s", [
    (None, 0.0, 0.0),                        # the default: DAHDI's timers alone
    (Debounce(0.5, 1.5), 0.5, 1.5),          # a site that asked for a little more
], ids=["default", "site-settle"])
def test_alarm_rises_when_dahdi_reports_and_clears_when_dahdi_leaves_recovering(
        clock, alarm_store, fault, bit, cause, dahdi_debounce, span_debounce, raise_s, clear_s):
    box = Box(clock, alarm_store, span_debounce)
    box.line.start()                            # comes up through RECOVERING: no alarm
    clock.advance(10)
    assert box.reports[-1][1] == Alarm.NONE and box.output.changes == []

    cut = clock.now()
    box.line.inject(parse_fault(fault))
    clock.advance(10)
    shown_at = box.reported(bit, cut)
    assert shown_at == exactly(cut + dahdi_debounce)              # DAHDI's one debounce...
    raised_at = shown_at + raise_s                                # ...plus only the configured settle
    assert box.output.changes == [(exactly(raised_at), "raised", cause)]

    repaired = clock.now()
    box.line.inject(parse_fault("clear"))
    clock.advance(DAHDI.settle - 0.001)
    assert box.line.near_alarms == Alarm.RECOVER
    assert [a.cause for a in box.manager.active()] == [cause]     # not OK while RECOVERING
    clock.advance(10)
    assert box.reported(Alarm.RECOVER, repaired) == exactly(repaired)
    ok_at = box.reported(Alarm.NONE, repaired)
    assert ok_at == exactly(repaired + DAHDI.settle)
    assert box.output.changes[1:] == [(exactly(ok_at + clear_s), "cleared", cause)]
    box.manager.close()


def test_a_fault_shorter_than_dahdis_debounce_raises_nothing(clock, alarm_store):
    box = Box(clock, alarm_store)
    box.line.start()
    clock.advance(10)
    box.line.inject(parse_fault("los"))
    clock.advance(DAHDI.los_debounce - 0.1)
    box.line.inject(parse_fault("clear"))
    clock.advance(20)
    # DAHDI's debounce is the one that filters short faults; none is needed here.
    assert not any(shown & Alarm.RED for _, shown in box.reports) and box.output.changes == []
    box.manager.close()
