"""Alarms to syslog: RFC 5424 messages carrying RFC 5674 ``alarm`` structured data.

One message per alarm change::

    <129>1 2026-01-01T00:00:02.500Z box1 qbox 812 raised [alarm resource="span1"
    probableCause="lossOfSignal" perceivedSeverity="critical" eventType="communicationsAlarm"]
    [qbox@32473 id="7" count="1"] span1 lossOfSignal critical: ...

PRI is facility * 8 + the syslog severity RFC 5674 section 2 maps the ITU perceived
severity to (critical -> 1 alert, major -> 2 critical, minor -> 3 error, warning -> 4
warning, indeterminate and cleared -> 5 notice).  A clear says perceivedSeverity
"cleared"; a severity change adds trendIndication.  The ``qbox@32473`` element (32473
is the enterprise number RFC 5612 reserves for documentation) carries the alarm id,
count and acknowledgement.  Transports: ``unix:///dev/log`` (datagram) or
``udp://host:514``; a send that fails is counted and logged, never raised.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from appliance.alarms.model import Alarm, AlarmEvent, iso_time, severity_rank
from drivers.clock import Clock

__all__ = ["SYSLOG_SEVERITY", "format_message", "sd_escape", "SyslogOutput", "open_transport"]

log = logging.getLogger(__name__)

#: RFC 5674 section 2: ITU perceived severity -> syslog severity.
SYSLOG_SEVERITY = {"critical": 1, "major": 2, "minor": 3, "warning": 4, "indeterminate": 5, "cleared": 5}
QBOX_SD_ID = "qbox@32473"
NILVALUE = "-"


def sd_escape(value: str) -> str:
    """PARAM-VALUE escaping (RFC 5424 6.3.3): backslash before ``"``, ``\\`` and ``]``."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_token(value: str, limit: int) -> str:
    """HOSTNAME / APP-NAME / PROCID / MSGID: printable US-ASCII, no spaces, or "-"."""
    token = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return token or NILVALUE


def _element(sd_id: str, params: Sequence[tuple[str, str]]) -> str:
    return "[" + " ".join([sd_id] + [f'{name}="{sd_escape(value)}"' for name, value in params]) + "]"


def format_message(event: AlarmEvent, wall: float, *, facility: int = 16, hostname: str = "",
                   app_name: str = "qbox", procid: str = "", previous: Alarm | None = None) -> bytes:
    """The RFC 5424 message for one alarm change (UTF-8 bytes, no trailing newline)."""
    alarm = event.alarm
    perceived = "cleared" if event.kind == "cleared" else alarm.severity
    pri = facility * 8 + SYSLOG_SEVERITY[perceived]
    params = [
        ("resource", alarm.object),
        ("probableCause", alarm.cause),
        ("perceivedSeverity", perceived),
        ("eventType", alarm.event_type),
    ]
    if event.kind == "changed" and previous is not None and previous.severity != alarm.severity:
        worse = severity_rank(alarm.severity) > severity_rank(previous.severity)
        params.append(("trendIndication", "moreSevere" if worse else "lessSevere"))
    qbox = [("id", str(alarm.id)), ("count", str(alarm.count))]
    if alarm.acknowledged:
        qbox += [("ackedBy", alarm.acked_by or ""), ("ackedAt", iso_time(alarm.acked_at) or "")]
    if event.actor and event.kind not in ("acknowledged",):
        qbox.append(("actor", event.actor))
    text = f"{alarm.object} {alarm.cause} {perceived}"
    if alarm.text:
        text += f": {alarm.text}"
    if event.text:
        text += f" ({event.text})"
    header = " ".join([
        f"<{pri}>1",
        iso_time(wall) or NILVALUE,
        _header_token(hostname or socket.gethostname(), 255),
        _header_token(app_name, 48),
        _header_token(procid or str(os.getpid()), 128),
        _header_token(event.kind, 32),
    ])
    return f"{header} {_element('alarm', params)}{_element(QBOX_SD_ID, qbox)} {text}".encode("utf-8")


class _Transport:
    def __init__(self, url: str, family: int, address) -> None:
        self.url = url
        self.address = address
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)  # never stall the loop on a slow syslog daemon

    def send(self, message: bytes) -> None:
        self.sock.sendto(message, self.address)

    def close(self) -> None:
        self.sock.close()


def open_transport(url: str) -> _Transport:
    """``unix:///dev/log`` or ``udp://host:port`` (port 514 by default)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return _Transport(url, socket.AF_UNIX, parts.path or "/dev/log")
    if parts.scheme == "udp":
        if not parts.hostname:
            raise ValueError(f"{url}: no host (udp://HOST:514)")
        family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
        return _Transport(url, family, (parts.hostname, parts.port or 514))
    raise ValueError(f"{url}: unknown syslog scheme {parts.scheme!r} (unix://, udp://)")


class SyslogOutput:
    """Sends every alarm change to syslog; failures are counted (``send_errors``), not raised."""

    def __init__(self, url: str, clock: Clock, *, facility: int = 16, hostname: str = "") -> None:
        self.transport = open_transport(url)
        self.clock = clock
        self.facility = facility
        self.hostname = hostname
        self.sent = 0
        self.send_errors = 0
        self._last: dict[int, Alarm] = {}

    def update(self, event: AlarmEvent | None, active: Sequence[Alarm]) -> None:
        if event is None:
            self._last = {a.id: a for a in active}
            return
        previous = self._last.get(event.alarm.id)
        message = format_message(event, self.clock.wall(), facility=self.facility, hostname=self.hostname,
                                 previous=previous)
        if event.alarm.active:
            self._last[event.alarm.id] = event.alarm
        else:
            self._last.pop(event.alarm.id, None)
        try:
            self.transport.send(message)
            self.sent += 1
        except OSError as exc:
            self.send_errors += 1
            if self.send_errors == 1 or self.send_errors % 100 == 0:
                log.error("syslog send failed url=%s errors=%d error=%s", self.transport.url, self.send_errors, exc)

    def close(self) -> None:
        self.transport.close()
