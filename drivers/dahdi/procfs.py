"""Parsers for what DAHDI shows people: ``/proc/dahdi/N`` and ``dahdi_scan`` output.

``/proc/dahdi/N`` is written by ``dahdi_seq_show()`` in dahdi-base.c (DAHDI 2.11)::

    Span 1: TE4/0/1 "T4XXP (PCI) Card 0 Span 1" (MASTER) CCS/HDB3/CRC4 RED ClockSource
    <TAB>BPV count: 3                      (each counter line only when non-zero)
    <blank line>
    <TAB>   1 TE4/0/1/1 Clear (In use) RED (EC: VPMOCT128 - INACTIVE)

(every header and channel line also ends in a space).  It does not say whether a span
is E1 or T1; :func:`line_format` guesses from the framing words and channel count, and
the real backend overrides the guess with ``DAHDI_SPANSTAT``'s span type.

``dahdi_scan`` prints one ini-like ``[N]`` section per span (dahdi-tools 3.1).

Malformed text raises :class:`ProcFormatError` naming the source and line.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from drivers.dahdi.interface import Alarm, ChannelStatus, SpanCounters, SpanStatus
from drivers.dahdi.real.abi import SIG_NAMES, LineConfig

__all__ = [
    "ProcFormatError", "ProcChannel", "ProcSpan", "ScanSpan",
    "parse_proc_span", "parse_dahdi_scan", "line_format",
    "is_bearer", "is_dchannel",
]

# The words fill_alarm_string() prints, in its order.
_ALARM_WORDS = {"BLUE": Alarm.BLUE, "YELLOW": Alarm.YELLOW, "RED": Alarm.RED,
                "LOOP": Alarm.LOOPBACK, "RECOVERING": Alarm.RECOVER, "NOTOPEN": Alarm.NOTOPEN}
_LINECONFIG_WORDS = frozenset(LineConfig.__members__)
_COUNTER_LINES = {
    "BPV count": "bpv", "CRC4 error count": "crc4", "E-bit error count": "ebit",
    "FAS error count": "fas", "Timing slips": "slips", "IRQ misses": "irq_misses",
}
# Longest first, so "HDLCFCS" is not mistaken for a prefix match of something shorter.
_SIGNALLING_WORDS = sorted(set(SIG_NAMES.values()) - {"Unconfigured"}, key=len, reverse=True)
# A D-channel is HDLC with FCS done below us, in software (dchan) or hardware (hardhdlc).
_DCHANNEL_SIGNALLING = frozenset({"HDLCFCS", "Hardware-assisted HDLC"})
_NOT_AUDIO = _DCHANNEL_SIGNALLING | {"HDLCRAW", "HDLCNET", "MTP2", "Unconfigured", "Reserved",
                                     "Slave", "DACS", "DACS+RBS"}

_HEADER = re.compile(r'^Span (\d+): (\S+) "(.*)"(.*)$')
_COUNTER = re.compile(r"^\t([A-Za-z0-9 -]+): (-?\d+)\s*$")
_CHANNEL = re.compile(r"^\t *(\d+) (\S+)(.*)$")
_CHANNEL_TOKEN = re.compile(r"\(EC: ([^)]*) - (ACTIVE|INACTIVE)\)|\(In use\)|\(no pcm\)|\S+")


class ProcFormatError(ValueError):
    """Text that is not what DAHDI prints; the message names source and line."""


def is_dchannel(signalling: str) -> bool:
    """True for a channel configured as an HDLC D-channel (``dchan``/``hardhdlc``)."""
    return signalling in _DCHANNEL_SIGNALLING


def is_bearer(signalling: str) -> bool:
    """True for a configured channel that carries audio (``bchan``, CAS, FXS/FXO ports)."""
    return signalling not in _NOT_AUDIO


def line_format(words: Iterable[str], spantype: str = "", channels: Iterable[str] = (),
                totalchans: int = 0) -> tuple[str, str, str, bool]:
    """(type, framing, coding, crc4) of a span from its line-config words.

    ``spantype`` is what ``DAHDI_SPANSTAT`` says ("E1", "T1", "J1", "FXS", "NT", or
    "DYNAM" for dynamic spans, whose type only their configuration knows); when it does not
    decide, the framing words and then the channels (FXS/FXO signalling, 31 or 24 of
    them) do.  Types are those ``dahdi_scan`` uses: E1, T1, J1, BRI, analog.
    """
    words = set(words)
    signalling = list(channels)
    kinds = {"E1": "E1", "T1": "T1", "J1": "J1", "FXS": "analog", "FXO": "analog",
             "ANALO": "analog", "NT": "BRI", "TE": "BRI", "BRI_S": "BRI"}
    span_type = kinds.get(spantype, "")
    if not span_type:
        if words & {"CCS", "HDB3", "CRC4"}:
            span_type = "E1"
        elif words & {"ESF", "D4", "B8ZS"}:
            span_type = "T1"
        elif any(s.startswith(("FXS", "FXO")) for s in signalling):
            span_type = "analog"
        elif (totalchans or len(signalling)) == 31:
            span_type = "E1"
        elif (totalchans or len(signalling)) == 24:
            span_type = "T1"
        else:
            span_type = "analog"
    coding = next((w for w in ("HDB3", "B8ZS", "AMI") if w in words), "")
    if span_type == "E1":
        framing = "CCS" if "CCS" in words else ("CAS" if coding else "")
    else:
        framing = next((w for w in ("ESF", "D4", "CCS") if w in words), "")
    return span_type, framing, coding, "CRC4" in words


@dataclass(frozen=True)
class ProcChannel:
    """One channel line of ``/proc/dahdi/N``."""

    channo: int
    name: str
    signalling: str = "Unconfigured"   # sigstr() text, or "Reserved" / "Unconfigured"
    in_use: bool = False
    master: bool = False               # heads a group of slave channels
    alarms: Alarm = Alarm.NONE         # the channel's own alarms (span alarms copied in)
    echo_canceller: str = ""           # e.g. "VPMOCT128", "MG2"; "" when none attached
    echo_canceller_active: bool = False
    no_pcm: bool = False

    @property
    def state(self) -> str:
        if self.alarms:
            return "alarm"
        return "in use" if self.in_use else "idle"

    def to_status(self, chanpos: int) -> ChannelStatus:
        return ChannelStatus(channo=self.channo, chanpos=chanpos, name=self.name,
                             signalling=self.signalling, state=self.state)


@dataclass(frozen=True)
class ProcSpan:
    """Everything ``/proc/dahdi/N`` shows about one span."""

    number: int
    name: str
    description: str
    master: bool = False          # DAHDI's timing master
    lineconfig: tuple[str, ...] = ()
    alarms: Alarm = Alarm.NONE
    clock_source: bool = False    # the span recovers its clock from its own line
    counters: SpanCounters = field(default_factory=SpanCounters)
    irq_misses: int = 0
    channels: tuple[ProcChannel, ...] = ()

    def to_status(self, spantype: str = "", lbo: str | None = None, sync_source: int | None = None,
                  alarms: Alarm | None = None, counters: SpanCounters | None = None,
                  channels: bool = True) -> SpanStatus:
        """The interface's view; keyword arguments override what /proc cannot say
        (``channels=False``: no channel rows)."""
        span_type, framing, coding, crc4 = line_format(
            self.lineconfig, spantype, [c.signalling for c in self.channels])
        extra = {"lbo": lbo} if lbo is not None else {}
        return SpanStatus(
            number=self.number, name=self.name, description=self.description,
            type=span_type, framing=framing, coding=coding, crc4=crc4,
            alarms=self.alarms if alarms is None else alarms,
            counters=self.counters if counters is None else counters,
            sync_source=(self.number if self.clock_source else 0) if sync_source is None else sync_source,
            channels=tuple(c.to_status(pos) for pos, c in enumerate(self.channels, start=1)) if channels else (),
            **extra,
        )


def parse_proc_span(text: str, source: str = "/proc/dahdi", *, channels: bool = True) -> ProcSpan:
    """Parse the text of one ``/proc/dahdi/N`` file; with ``channels=False`` only its
    header and counters (the channel lines, most of the file, are not read)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ProcFormatError(f"{source}: empty, expected a 'Span N: ...' line")
    head = _parse_header(lines[0], f"{source}:1")
    counters: dict[str, int] = {}
    channel_list: list[ProcChannel] = []
    in_channels = False
    for lineno, line in enumerate(lines[1:], start=2):
        where = f"{source}:{lineno}"
        if not in_channels:
            if line == "":
                in_channels = True
                if not channels:
                    break
                continue
            match = _COUNTER.match(line)
            if not match or match.group(1) not in _COUNTER_LINES:
                raise ProcFormatError(f"{where}: expected a counter line or a blank line, got {line!r}")
            counters[_COUNTER_LINES[match.group(1)]] = int(match.group(2))
        else:
            channel_list.append(_parse_channel(line, where))
    if not in_channels:
        raise ProcFormatError(f"{source}: no blank line after the span header and counters")
    irq_misses = counters.pop("irq_misses", 0)
    return ProcSpan(counters=SpanCounters(**counters), irq_misses=irq_misses,
                    channels=tuple(channel_list), **head)


def _parse_header(line: str, where: str) -> dict:
    match = _HEADER.match(line)
    if not match:
        raise ProcFormatError(f'{where}: expected \'Span N: NAME "DESCRIPTION" ...\', got {line!r}')
    head = {"number": int(match.group(1)), "name": match.group(2), "description": match.group(3),
            "master": False, "lineconfig": (), "alarms": Alarm.NONE, "clock_source": False}
    for token in match.group(4).split():
        if token == "(MASTER)":
            head["master"] = True
        elif token == "ClockSource":
            head["clock_source"] = True
        elif token in _ALARM_WORDS:
            head["alarms"] |= _ALARM_WORDS[token]
        elif set(token.split("/")) <= _LINECONFIG_WORDS:
            head["lineconfig"] = tuple(token.split("/"))
        else:
            raise ProcFormatError(f"{where}: unexpected word {token!r} in the span header")
    return head


def _parse_channel(line: str, where: str) -> ProcChannel:
    match = _CHANNEL.match(line)
    if not match:
        raise ProcFormatError(f"{where}: expected '<TAB>CHANNO NAME [SIGNALLING] ...', got {line!r}")
    channo, name, rest = int(match.group(1)), match.group(2), match.group(3).strip()
    fields: dict = {"signalling": "Unconfigured", "alarms": Alarm.NONE}
    if rest.startswith("Reserved"):
        fields["signalling"], rest = "Reserved", rest[len("Reserved"):]
    for word in _SIGNALLING_WORDS:
        if rest == word or rest.startswith(word + " "):
            fields["signalling"], rest = word, rest[len(word):]
            break
    for token in _CHANNEL_TOKEN.finditer(rest):
        text = token.group(0)
        if token.group(1) is not None:
            fields["echo_canceller"] = token.group(1)
            fields["echo_canceller_active"] = token.group(2) == "ACTIVE"
        elif text == "(In use)":
            fields["in_use"] = True
        elif text == "(no pcm)":
            fields["no_pcm"] = True
        elif text == "Master":
            fields["master"] = True
        elif text in _ALARM_WORDS:
            fields["alarms"] |= _ALARM_WORDS[text]
        else:
            raise ProcFormatError(f"{where}: unexpected {text!r} on channel {channo}")
    return ProcChannel(channo=channo, name=name, **fields)


@dataclass(frozen=True)
class ScanSpan:
    """One ``[N]`` section of ``dahdi_scan`` output."""

    number: int
    active: bool = False
    alarms: tuple[str, ...] = ()      # "OK", "UNCONFIGURED", or e.g. ("RED", "LFA")
    description: str = ""
    name: str = ""
    manufacturer: str = ""
    devicetype: str = ""
    location: str = ""
    basechan: int = 0
    totchans: int = 0
    irq: int = 0
    type: str = ""                    # "digital-E1", "digital-T1", "analog", ...
    syncsrc: int = 0
    lbo: str = ""
    coding_opts: tuple[str, ...] = ()
    framing_opts: tuple[str, ...] = ()
    coding: str = ""
    framing: str = ""                 # "CCS", "CAS", "ESF", "D4", with "/CRC4" appended
    ports: tuple[tuple[int, str], ...] = ()   # analog spans: (channo, "FXS" | "FXO" | ...)


_SCAN_INTS = {"basechan", "totchans", "irq", "syncsrc"}
_SCAN_LISTS = {"coding_opts": ",", "framing_opts": ",", "alarms": "/"}
_SCAN_TEXTS = {"description", "name", "manufacturer", "devicetype", "location", "type", "lbo",
               "coding", "framing"}


def parse_dahdi_scan(text: str, source: str = "dahdi_scan") -> list[ScanSpan]:
    """Parse ``dahdi_scan`` output into one :class:`ScanSpan` per section."""
    spans: list[ScanSpan] = []
    current: dict | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        where = f"{source}:{lineno}"
        if not line.strip():
            continue
        section = re.fullmatch(r"\[(\d+)\]", line.strip())
        if section:
            if current is not None:
                spans.append(ScanSpan(**current))
            current = {"number": int(section.group(1)), "ports": ()}
            continue
        if current is None:
            raise ProcFormatError(f"{where}: {line!r} before the first [N] section")
        key, sep, value = line.partition("=")
        if not sep:
            raise ProcFormatError(f"{where}: expected KEY=VALUE, got {line!r}")
        try:
            if key == "active":
                current["active"] = value == "yes"
            elif key == "port":
                channo, _, kind = value.partition(",")
                current["ports"] += ((int(channo), kind),)
            elif key in _SCAN_INTS:
                current[key] = int(value)
            elif key in _SCAN_LISTS:
                current[key] = tuple(v for v in value.split(_SCAN_LISTS[key]) if v)
            elif key in _SCAN_TEXTS:
                current[key] = value
            else:
                raise ProcFormatError(f"{where}: unknown key {key!r}")
        except ValueError as exc:
            if isinstance(exc, ProcFormatError):
                raise
            raise ProcFormatError(f"{where}: {key}: {value!r} is not a number") from None
    if current is not None:
        spans.append(ScanSpan(**current))
    return spans
