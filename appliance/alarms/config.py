"""The ``alarms:`` section of the box YAML: what each severity shows and sounds, debounce,
flap suppression and the thresholds of the alarm sources.

Defaults follow the issue and DAHDI: critical = red flashing + buzzer; major = red
steady + a short beep every minute; minor and warning = amber; nothing active = green.

Span alarms are debounced once, by DAHDI: the card's driver waits before it shows RED
(wct4xxp: 2.5 s) and keeps the span RECOVERING after the line is good again
(DAHDI_ALARMSETTLE_TIME, 5 s).  So a span alarm is raised the moment DAHDI reports it
and cleared the moment DAHDI leaves RECOVERING; ``span:`` adds a further wait on top,
for a site that wants one.  Example::

    alarms:
      tower: serial:///dev/serial/by-id/usb-tower-if00?baud=9600
      sound: alsa://default
      major: {lamp: red, flash: false, sound: beep}
      span: {raise_s: 1}         # one second more than DAHDI's own debounce
      queue_waiting_max: 15
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Annunciation", "Debounce", "AlarmsConfig"]

Lamp = Literal["red", "amber", "green", "none"]
Sound = Literal["none", "beep", "siren"]


@dataclass(frozen=True)
class Annunciation:
    """How one severity is shown while unacknowledged (acknowledged: steady, silent)."""

    lamp: Lamp = "amber"
    flash: bool = False
    sound: Sound = "none"       # beep: one beep every ``beep_interval_s``; siren: until acknowledged


@dataclass(frozen=True)
class Debounce:
    """A condition must hold ``raise_s`` before its alarm is raised, and be gone ``clear_s``
    before it clears.  A field left out of the YAML mapping adds no wait (0), so
    ``span: {raise_s: 1}`` does not bring a clear delay in with it."""

    raise_s: float = field(default=0.0, metadata={"min": 0.0, "max": 600.0})
    clear_s: float = field(default=0.0, metadata={"min": 0.0, "max": 3600.0})


@dataclass(frozen=True)
class AlarmsConfig:
    # Devices (URLs, empty = none): the signal tower and the ALSA PCM of the buzzer.
    tower: str = ""
    sound: str = ""

    # Severity -> lamp and sound.
    critical: Annunciation = field(default_factory=lambda: Annunciation("red", True, "siren"))
    major: Annunciation = field(default_factory=lambda: Annunciation("red", False, "beep"))
    minor: Annunciation = field(default_factory=lambda: Annunciation("amber", False, "none"))
    warning: Annunciation = field(default_factory=lambda: Annunciation("amber", False, "none"))
    indeterminate: Annunciation = field(default_factory=lambda: Annunciation("amber", False, "none"))
    idle_lamp: Lamp = "green"                       # shown when no alarm is active
    tower_buzzer: bool = True                       # sound the tower's own buzzer too
    beep_interval_s: float = field(default=60.0, metadata={"min": 5.0, "max": 3600.0})
    beep_ms: int = field(default=300, metadata={"min": 50, "max": 5000})
    level_dbm0: float = field(default=-6.0, metadata={"min": -40.0, "max": 3.0})  # buzzer tone level

    # Debounce per kind of source, on top of any the source's own layer already did.
    # span: none; DAHDI's alarm debounce and RECOVERING settle are the only ones (see above).
    span: Debounce = field(default_factory=lambda: Debounce(0.0, 0.0))
    # dchannel: none to raise; LAPD's T200/N200 have run (or layer 1 went) before a link
    # that was up is reported down.  Clearing waits 5 s, as DAHDI's RECOVERING does for a
    # span, so a link that comes up and fails again stays one alarm.
    dchannel: Debounce = field(default_factory=lambda: Debounce(0.0, 5.0))
    device: Debounce = field(default_factory=lambda: Debounce(1.0, 1.0))
    queue: Debounce = field(default_factory=lambda: Debounce(0.0, 30.0))
    disk: Debounce = field(default_factory=lambda: Debounce(0.0, 60.0))

    # Flap suppression: this many onsets within the window make one flapping alarm, which
    # then clears only after a whole quiet window; a cleared alarm that comes back within
    # the window is reopened (its count goes up) rather than raised anew.
    flap_window_s: float = field(default=60.0, metadata={"min": 1.0, "max": 86400.0})
    flap_threshold: int = field(default=5, metadata={"min": 2, "max": 10000})

    # Source thresholds.
    ber_errors_per_s: float = field(default=10.0, metadata={"min": 0.0})   # BPV + CRC-4 + FAS errors
    queue_waiting_max: int = field(default=10, metadata={"min": 1})
    queue_longest_wait_s: float = field(default=120.0, metadata={"min": 1.0})
    queue_service_level_target: float = field(default=0.8, metadata={"min": 0.0, "max": 1.0})
    queue_severity: Literal["major", "minor", "warning"] = "minor"
    disk_minor_percent: float = field(default=90.0, metadata={"min": 1.0, "max": 100.0})
    disk_major_percent: float = field(default=97.0, metadata={"min": 1.0, "max": 100.0})

    # Syslog (RFC 5424 with RFC 5674 alarm data): unix:///dev/log, udp://host:514, or "".
    syslog: str = "unix:///dev/log"
    syslog_facility: int = field(default=16, metadata={"min": 0, "max": 23})   # 16 = local0

    def annunciation(self, severity: str) -> Annunciation:
        """The lamp and sound of ``severity`` (cleared shows nothing)."""
        if severity == "cleared":
            return Annunciation("none", False, "none")
        return getattr(self, severity)

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        if self.disk_major_percent <= self.disk_minor_percent:
            yield (("disk_major_percent",),
                   f"must be above disk_minor_percent ({self.disk_minor_percent:g})")
        for name, url in (("tower", self.tower), ("sound", self.sound), ("syslog", self.syslog)):
            schemes = {"tower": ("serial", "hidraw", "tcp"), "sound": ("alsa",), "syslog": ("unix", "udp")}[name]
            if url and url.partition("://")[0] not in schemes:
                yield (name,), f"{url!r} is not a {name} URL (use {', '.join(s + '://...' for s in schemes)})"
