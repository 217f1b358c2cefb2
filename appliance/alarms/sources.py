"""Alarm sources: turn what the service observes into conditions for the manager.

The service calls plain methods; each source knows which managed object, probable
cause, severity and debounce a condition has, and reports it *present or not* every
time (repeats are cheap), so an alarm clears when its cause goes away.

=====================  ==============  ========================  =========  ======
observation            object          probable cause            severity   debounce
=====================  ==============  ========================  =========  ======
RED (+ LOS bit)        ``spanN``       lossOfSignal              critical   span
RED + LFA bit          ``spanN``       lossOfFrame               critical   span
LMFA bit               ``spanN``       lossOfMultiFrame          major      span
BLUE                   ``spanN``       aIS                       major      span
YELLOW                 ``spanN``       remoteAlarmInterface      major      span
errors/s > threshold   ``spanN``       excessiveBER              minor      span
D-channel down         ``dchanN``      communicationsSubsystem.. major      dchannel
callers waiting        ``queue:NAME``  queueSizeExceeded         config     queue
longest wait           ``queue:NAME``  excessiveResponseTime     config     queue
service level < goal   ``queue:NAME``  performanceDegraded       config     queue
device missing         tower, sound,   replaceableUnitMissing    major      device
                       dahdi, ``spanN``
disk nearly full       ``disk:PATH``   storageCapacityProblem    minor/maj  disk
=====================  ==============  ========================  =========  ======

The LOS/LFA/LMFA bits are DAHDI_ALARM_LOS (1<<8), _LFA (1<<9) and _LMFA (1<<10) of
``<dahdi/user.h>``; drivers that only say RED give lossOfSignal.

Span alarms follow DAHDI, which has debounced them already: a line alarm is present
from the moment DAHDI shows it, and stays present while the span is RECOVERING (the
driver's settle after the line came back, which chan_dahdi also counts as an alarm);
only then does it clear.  RECOVERING alone (a span coming up) raises nothing.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace

from appliance.alarms.config import AlarmsConfig
from appliance.alarms.manager import AlarmManager
from drivers.clock import Clock
from drivers.dahdi.interface import Alarm as SpanAlarm
from drivers.dahdi.interface import DAHDI_ALARM_LFA, DAHDI_ALARM_LMFA, DAHDI_ALARM_LOS, SpanStatus

__all__ = ["SpanAlarms", "DChannelAlarms", "QueueAlarms", "DeviceAlarms", "DiskAlarms"]

_LINE_CAUSES = ("lossOfSignal", "lossOfFrame", "lossOfMultiFrame", "aIS", "remoteAlarmInterface")
_SPAN_CAUSES = _LINE_CAUSES + ("excessiveBER",)


class SpanAlarms:
    """E1/T1 span alarms from ``SpanStatus`` (poll it, or read it on DAHDI ALARM/NOALARM events)."""

    def __init__(self, manager: AlarmManager, clock: Clock, config: AlarmsConfig) -> None:
        self.manager = manager
        self.clock = clock
        self.config = config
        self._errors: dict[int, tuple[float, int]] = {}   # span -> (time, error total)

    def update(self, status: SpanStatus) -> None:
        bits = int(status.alarms)
        present: dict[str, tuple[str, str]] = {}   # cause -> (severity, text)
        if bits & SpanAlarm.RED:
            cause = "lossOfFrame" if bits & DAHDI_ALARM_LFA and not bits & DAHDI_ALARM_LOS else "lossOfSignal"
            present[cause] = ("critical", "RED alarm")
        if bits & DAHDI_ALARM_LMFA:
            present["lossOfMultiFrame"] = ("major", "loss of multiframe alignment")
        if bits & SpanAlarm.BLUE:
            present["aIS"] = ("major", "BLUE alarm (AIS, all ones received)")
        if bits & SpanAlarm.YELLOW:
            present["remoteAlarmInterface"] = ("major", "YELLOW alarm (far end reports an alarm)")
        rate = self._error_rate(status)
        if rate is not None and rate > self.config.ber_errors_per_s:
            present["excessiveBER"] = ("minor", f"{rate:.1f} line errors/s")
        obj = f"span{status.number}"
        recovering = bool(bits & SpanAlarm.RECOVER)
        for cause in _SPAN_CAUSES:
            if cause == "excessiveBER" and rate is None:
                continue  # first sample: no rate yet, so say nothing either way
            if recovering and cause in _LINE_CAUSES and cause not in present:
                continue  # DAHDI has not called the line good yet: what is up stays up
            severity, text = present.get(cause, ("major", ""))
            self.manager.report(obj, cause, cause in present, severity=severity,  # type: ignore[arg-type]
                                text=text, event_type="communicationsAlarm", debounce=self.config.span)

    def _error_rate(self, status: SpanStatus) -> float | None:
        counters = status.counters
        total = counters.bpv + counters.crc4 + counters.fas
        now = self.clock.now()
        previous = self._errors.get(status.number)
        self._errors[status.number] = (now, total)
        if previous is None or now <= previous[0]:
            return None
        # Counters only grow; a smaller total means they were reset: count from zero.
        delta = total - previous[1] if total >= previous[1] else total
        return delta / (now - previous[0])


# LAPD gives up on a link that never answers SABME after (N200 + 1) x T200 = 4 s (Q.921
# defaults), and the service looks at the link once a second.
LINK_START_GRACE_S = 5.0


class DChannelAlarms:
    """The D-channel (Q.921 link) of a span going down and up.

    A link that was up and is reported down has been through LAPD's own timers (T200 x
    N200) or lost layer 1 (which DAHDI debounced), so it counts at once.  A link that has
    not been up yet may just be in its first SABME/UA exchange: until it has been up, its
    alarm waits ``LINK_START_GRACE_S`` more to be raised, so a box starting up shows no
    D-channel alarm.
    """

    def __init__(self, manager: AlarmManager, config: AlarmsConfig) -> None:
        self.manager = manager
        self.config = config
        self._been_up: set[int] = set()

    def _report(self, span: int, down: bool, text: str) -> None:
        debounce = self.config.dchannel
        if span not in self._been_up:
            debounce = replace(debounce, raise_s=debounce.raise_s + LINK_START_GRACE_S)
        self.manager.report(f"dchan{span}", "communicationsSubsystemFailure", down, severity="major",
                            event_type="communicationsAlarm", text=text, debounce=debounce)

    def down(self, span: int, reason: str = "D-channel down") -> None:
        self._report(span, True, reason)

    def up(self, span: int) -> None:
        self._been_up.add(span)
        self._report(span, False, "")


class QueueAlarms:
    """Queue surges: too many callers waiting, too long a wait, service level under target."""

    def __init__(self, manager: AlarmManager, config: AlarmsConfig) -> None:
        self.manager = manager
        self.config = config

    def update(self, queue: str, waiting: int, longest_wait_s: float, service_level: float | None = None) -> None:
        """``service_level``: fraction answered within target over the ACD's interval (None: unknown)."""
        config = self.config
        checks = [
            ("queueSizeExceeded", waiting > config.queue_waiting_max,
             f"{waiting} callers waiting (limit {config.queue_waiting_max})"),
            ("excessiveResponseTime", longest_wait_s > config.queue_longest_wait_s,
             f"longest wait {longest_wait_s:.0f} s (limit {config.queue_longest_wait_s:g} s)"),
        ]
        if service_level is not None:
            checks.append(("performanceDegraded", service_level < config.queue_service_level_target,
                           f"service level {service_level:.0%} (target {config.queue_service_level_target:.0%})"))
        for cause, present, text in checks:
            self.manager.report(f"queue:{queue}", cause, present, severity=config.queue_severity,
                                event_type="qualityOfServiceAlarm", text=text, debounce=config.queue)


class DeviceAlarms:
    """Tower, sound device or DAHDI hardware missing (hot-plug and failed writes)."""

    def __init__(self, manager: AlarmManager, config: AlarmsConfig) -> None:
        self.manager = manager
        self.config = config

    def changed(self, name: str, present: bool, detail: str | None = None) -> None:
        """Fits both ``DeviceWatch`` (name, present, devnode) and output presence callbacks."""
        text = "" if present else f"{name} missing" + (f": {detail}" if detail else "")
        self.manager.report(name, "replaceableUnitMissing", not present, severity="major",
                            event_type="equipmentAlarm", text=text, debounce=self.config.device)

    def presence_callback(self, name: str) -> Callable[[bool, str], None]:
        """``on_presence`` for an output: ``TowerOutput(..., on_presence=alarms.presence_callback("tower"))``."""
        return lambda present, reason: self.changed(name, present, reason)


class DiskAlarms:
    """The store's file system filling up."""

    def __init__(self, manager: AlarmManager, config: AlarmsConfig,
                 usage: Callable[[str], tuple[int, int, int]] = shutil.disk_usage) -> None:
        self.manager = manager
        self.config = config
        self._usage = usage

    def check(self, path: str) -> float:
        """Look at ``path``'s file system now; returns the percentage used."""
        total, used, _free = self._usage(path)
        percent = 100.0 * used / total if total else 0.0
        severity = "major" if percent >= self.config.disk_major_percent else "minor"
        self.manager.report(f"disk:{path}", "storageCapacityProblem", percent >= self.config.disk_minor_percent,
                            severity=severity, event_type="processingErrorAlarm",
                            text=f"{percent:.1f}% used", debounce=self.config.disk)
        return percent
