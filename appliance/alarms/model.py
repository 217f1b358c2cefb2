"""The alarm record, after ITU-T X.733 and the IETF Alarm MIB (RFC 3877).

An alarm is identified while it is active by its managed object and probable cause
(``span1`` + ``lossOfSignal``).  It carries a perceived severity, an event type, the
times it was raised, last changed and cleared, who acknowledged it and when, and
operators' comments.  Acknowledging is separate from clearing: an acknowledged alarm
stays active (steady lamp, silent) until its cause goes away.

Names of event types and probable causes are the IANA-ITU-ALARM-TC-MIB labels, the
words RFC 5674 puts in syslog, so a NOC's tools read them unchanged.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "Severity", "SEVERITIES", "severity_rank", "EVENT_TYPES", "PROBABLE_CAUSES",
    "Comment", "Alarm", "AlarmEvent", "ChangeKind", "iso_time",
]

Severity = Literal["critical", "major", "minor", "warning", "indeterminate", "cleared"]
#: Most severe first (X.733 order).
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor", "warning", "indeterminate", "cleared")


def severity_rank(severity: str) -> int:
    """Higher is more severe: critical 5 ... cleared 0."""
    return len(SEVERITIES) - 1 - SEVERITIES.index(severity)  # type: ignore[arg-type]


#: IANAItuEventType label -> number.
EVENT_TYPES = {
    "other": 1, "communicationsAlarm": 2, "qualityOfServiceAlarm": 3, "processingErrorAlarm": 4,
    "equipmentAlarm": 5, "environmentalAlarm": 6,
}

#: IANAItuProbableCause labels qbox raises -> number (RFC 3877 / M.3100 / X.733 values).
PROBABLE_CAUSES = {
    "aIS": 1,
    "lossOfFrame": 6,
    "lossOfSignal": 8,
    "remoteAlarmInterface": 11,
    "excessiveBER": 12,
    "lossOfMultiFrame": 16,
    "replaceableUnitMissing": 62,
    "storageCapacityProblem": 151,
    "congestion": 202,
    "excessiveResponseTime": 204,
    "communicationsSubsystemFailure": 505,
    "performanceDegraded": 532,
    "queueSizeExceeded": 537,
}

ChangeKind = Literal["raised", "changed", "cleared", "reraised", "acknowledged", "commented"]


def iso_time(wall: float | None) -> str | None:
    """Seconds since the epoch -> RFC 3339 UTC with milliseconds (None stays None)."""
    if wall is None:
        return None
    whole = int(wall)
    millis = int(round((wall - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


@dataclass(frozen=True)
class Comment:
    at: float   # wall-clock seconds
    by: str
    text: str

    def as_dict(self) -> dict:
        return {"at": iso_time(self.at), "by": self.by, "text": self.text}


@dataclass(frozen=True)
class Alarm:
    id: int
    object: str                 # managed object: "span1", "dchan1", "tower", "queue:sales", "disk:/var"
    cause: str                  # probable cause label, see PROBABLE_CAUSES
    severity: Severity          # last perceived severity (kept when cleared)
    event_type: str = "communicationsAlarm"
    text: str = ""              # additional text for people
    raised_at: float = 0.0      # wall-clock seconds
    changed_at: float = 0.0
    cleared_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    count: int = 1              # times the condition came (flaps folded into this alarm)
    comments: tuple[Comment, ...] = field(default=())

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None

    @property
    def key(self) -> tuple[str, str]:
        return (self.object, self.cause)

    def evolve(self, **changes) -> "Alarm":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """The stable JSON shape (``qbox alarms --json``, control API events)."""
        return {
            "id": self.id,
            "object": self.object,
            "cause": self.cause,
            "severity": self.severity,
            "event_type": self.event_type,
            "text": self.text,
            "state": "active" if self.active else "cleared",
            "raised_at": iso_time(self.raised_at),
            "changed_at": iso_time(self.changed_at),
            "cleared_at": iso_time(self.cleared_at),
            "acknowledged": self.acknowledged,
            "acked_by": self.acked_by,
            "acked_at": iso_time(self.acked_at),
            "count": self.count,
            "comments": [c.as_dict() for c in self.comments],
        }


@dataclass(frozen=True)
class AlarmEvent:
    """One change to one alarm, as outputs and the control API receive it."""

    kind: ChangeKind
    alarm: Alarm
    actor: str | None = None    # who acknowledged or commented
    text: str | None = None     # the comment

    def as_dict(self) -> dict:
        return {"event": self.kind, "alarm": self.alarm.as_dict(), "actor": self.actor, "text": self.text}
