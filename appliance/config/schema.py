"""The box configuration: one YAML file per box, loaded into these frozen dataclasses.

Field names are the YAML keys.  Types and ``metadata`` are the schema (see
:mod:`appliance.config.validate`); ``config_checks`` holds the rules that tie fields
together.  Channel numbering follows DAHDI: channels are numbered consecutively across
spans in span order, so span 1 (E1) holds channels 1-31 and span 2 starts at 32.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from appliance.acd.config import AgentConfig, QueueConfig
from appliance.alarms.config import AlarmsConfig
from appliance.ivr.config import IvrConfig
from drivers.dahdi.zones import TONE_ZONES

__all__ = [
    "NodeConfig", "DahdiConfig", "DynamicSpan", "SpanConfig", "FxsPortGroup", "RecordingConfig", "BoxConfig",
    "parse_channel_list", "format_channel_list", "DEVICE_SCHEMES",
]

DEVICE_SCHEMES = ("dahdi", "sim")
E1_CHANNELS, T1_CHANNELS = 31, 24
_FRAMINGS = {"e1": ("ccs", "cas"), "t1": ("d4", "esf")}
_CODINGS = {"e1": ("hdb3", "ami"), "t1": ("b8zs", "ami")}
_PRI_DCHANNEL = {"e1": 16, "t1": 24}
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
ECHO_CANCELLERS = ("oslec", "mg2", "kb1", "sec", "sec2", "hpec")


def parse_channel_list(value: object) -> tuple[int, ...]:
    """``"1-15,17-31"``, ``5`` or ``[1, 2, 3]`` -> sorted unique channel numbers."""
    if isinstance(value, bool):
        raise ValueError(f"expected a channel list like '1-15,17-31', got {value!r}")
    if isinstance(value, int):
        items: list[str] = [str(value)]
    elif isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        items = [str(v) for v in value]
    elif isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    else:
        raise ValueError(f"expected a channel list like '1-15,17-31', got {value!r}")
    channels: set[int] = set()
    for item in items:
        low, dash, high = item.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise ValueError(f"{item!r} is not a channel number or range like '1-15'")
        first, last = int(low), int(high) if dash else int(low)
        if first < 1 or last < first:
            raise ValueError(f"{item!r} is not a valid range (channels start at 1, low before high)")
        channels.update(range(first, last + 1))
    return tuple(sorted(channels))


def format_channel_list(channels: tuple[int, ...] | list[int]) -> str:
    """Sorted channel numbers -> dahdi_cfg's range syntax: ``1-15,17-31``."""
    parts: list[str] = []
    run: list[int] = []
    for ch in sorted(channels):
        if run and ch == run[-1] + 1:
            run.append(ch)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [ch]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(parts)


@dataclass(frozen=True)
class NodeConfig:
    name: str
    site: str = ""

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        if not _HOSTNAME.match(self.name):
            yield ("name",), f"{self.name!r} is not a valid host name (letters, digits and '-', up to 63)"


@dataclass(frozen=True)
class DahdiConfig:
    device: str = "dahdi:///dev/dahdi"
    loadzones: tuple[str, ...] = ("us",)
    defaultzone: str = "us"
    # mg2 is built with DAHDI itself; oslec needs the kernel's echo module, which Debian's kernel lacks.
    echocanceller: Literal["oslec", "mg2", "kb1", "sec", "sec2", "hpec"] | None = "mg2"

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        scheme = urlsplit(self.device).scheme
        if scheme not in DEVICE_SCHEMES:
            yield ("device",), (f"{self.device!r} is not a DAHDI device URL "
                                f"(use {' or '.join(s + '://...' for s in DEVICE_SCHEMES)})")
        for i, zone in enumerate(self.loadzones):
            if zone not in TONE_ZONES:
                yield ("loadzones", i), f"{zone!r} is not a DAHDI tone zone ({', '.join(sorted(TONE_ZONES))})"
        if self.defaultzone not in self.loadzones:
            yield ("defaultzone",), f"{self.defaultzone!r} is not among loadzones ({', '.join(self.loadzones)})"


@dataclass(frozen=True)
class DynamicSpan:
    """A software span (dahdi_dynamic): ``dynamic=DRIVER,ADDRESS,CHANNELS,TIMING``."""

    driver: Literal["loc", "eth", "ethmf"]
    address: str
    timing: int = field(default=0, metadata={"min": 0, "max": 255})


@dataclass(frozen=True)
class SpanConfig:
    number: int = field(metadata={"min": 1, "max": 256})
    type: Literal["e1", "t1"]
    framing: Literal["ccs", "cas", "d4", "esf"]
    coding: Literal["hdb3", "ami", "b8zs"]
    signalling: Literal["pri_cpe", "pri_net"]
    switchtype: Literal["euroisdn", "national", "ni2", "dms100", "4ess", "5ess"]
    dchannel: int = field(metadata={"min": 1})
    crc4: bool = False
    timing: int = field(default=0, metadata={"min": 0, "max": 255})
    lbo: int = field(default=0, metadata={"min": 0, "max": 7})
    role: Literal["trunk", "agent"] = "trunk"
    dchan_mode: Literal["hardhdlc", "dchan"] = "hardhdlc"
    dynamic: DynamicSpan | None = None
    name: str = ""
    # Set by BoxConfig: the global DAHDI number of this span's first channel.
    first_channo: int = field(default=0, init=False, compare=False)

    @property
    def channel_count(self) -> int:
        return E1_CHANNELS if self.type == "e1" else T1_CHANNELS

    @property
    def bchannel_positions(self) -> tuple[int, ...]:
        return tuple(p for p in range(1, self.channel_count + 1) if p != self.dchannel)

    @property
    def dchannel_channo(self) -> int:
        return self.first_channo + self.dchannel - 1

    @property
    def bchannel_channos(self) -> tuple[int, ...]:
        return tuple(self.first_channo + p - 1 for p in self.bchannel_positions)

    @property
    def channos(self) -> range:
        return range(self.first_channo, self.first_channo + self.channel_count)

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        kind = self.type.upper()
        if self.framing not in _FRAMINGS[self.type]:
            yield ("framing",), f"{self.framing!r} is not a framing for {kind} (use {' or '.join(_FRAMINGS[self.type])})"
        elif self.framing == "cas":
            yield ("framing",), f"'cas' framing cannot carry ISDN PRI ({self.signalling}); use ccs"
        if self.coding not in _CODINGS[self.type]:
            yield ("coding",), f"{self.coding!r} is not a line code for {kind} (use {' or '.join(_CODINGS[self.type])})"
        if self.crc4 and self.type == "t1":
            yield ("crc4",), "CRC-4 multiframing exists only on E1"
        if self.dchannel > self.channel_count:
            yield ("dchannel",), (f"timeslot {self.dchannel} does not exist on an {kind} span "
                                  f"(1-{self.channel_count})")
        elif self.dchannel != _PRI_DCHANNEL[self.type]:
            yield ("dchannel",), (f"ISDN PRI on {kind} carries the D-channel on timeslot "
                                  f"{_PRI_DCHANNEL[self.type]}, not {self.dchannel}")
        if self.dynamic is not None and self.dchan_mode == "hardhdlc":
            yield ("dynamic",), "dynamic spans have no HDLC controller: set dchan_mode: dchan"


@dataclass(frozen=True)
class FxsPortGroup:
    """Analogue FXS ports for agents' phones (FXO signalling on the port: fxoks/fxols)."""

    name: str
    channels: tuple[int, ...] = field(metadata={"parse": parse_channel_list})
    signalling: Literal["fxoks", "fxols"] = "fxoks"


@dataclass(frozen=True)
class RecordingConfig:
    """Calls of the listed queues are recorded (caller left, agent right) for quality staff.

    ``format`` g711: the line's own A-law or mu-law in the WAV, bit for bit, in half the
    disk of pcm (16-bit linear, what Asterisk's MixMonitor writes as ``.wav``).
    """

    queues: tuple[str, ...] = ()
    directory: str = "/var/lib/qbox/recordings"
    format: Literal["g711", "pcm"] = "g711"


@dataclass(frozen=True)
class BoxConfig:
    node: NodeConfig
    spans: tuple[SpanConfig, ...] = field(metadata={"min_items": 1})
    dahdi: DahdiConfig = field(default_factory=DahdiConfig)
    fxs: tuple[FxsPortGroup, ...] = ()
    ivr: IvrConfig | None = None
    queues: tuple[QueueConfig, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    source: str = field(default="", init=False, compare=False)

    def __post_init__(self) -> None:
        channo = 1
        for span in sorted(self.spans, key=lambda s: s.number):
            object.__setattr__(span, "first_channo", channo)
            channo += span.channel_count

    def span(self, number: int) -> SpanConfig:
        for span in self.spans:
            if span.number == number:
                return span
        raise KeyError(f"no span {number} in {self.source or 'the configuration'}")

    @property
    def trunk_spans(self) -> tuple[SpanConfig, ...]:
        return tuple(s for s in self.spans if s.role == "trunk")

    @property
    def agent_spans(self) -> tuple[SpanConfig, ...]:
        return tuple(s for s in self.spans if s.role == "agent")

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        timing: dict[int, int] = {}
        for i, span in enumerate(self.spans):
            if i and span.number == self.spans[i - 1].number:
                yield ("spans", i, "number"), f"span {span.number} is defined twice"
            elif i and span.number < self.spans[i - 1].number:
                yield (("spans", i, "number"),
                       f"spans must be listed in number order (span {span.number} after span {self.spans[i - 1].number})")
            if span.timing in timing:
                yield (("spans", i, "timing"),
                       f"timing priority {span.timing} is already given to span {timing[span.timing]}")
            elif span.timing:
                timing[span.timing] = span.number
        span_channels = {ch for span in self.spans for ch in span.channos}
        names: set[str] = set()
        for i, group in enumerate(self.fxs):
            if group.name in names:
                yield ("fxs", i, "name"), f"FXS group {group.name!r} is defined twice"
            names.add(group.name)
            clash = sorted(span_channels.intersection(group.channels))
            if clash:
                yield (("fxs", i, "channels"),
                       f"channel {clash[0]} belongs to a span (spans use channels 1-{max(span_channels)})")
        yield from self._acd_checks()

    def _acd_checks(self) -> Iterator[tuple[tuple, str]]:
        queues: dict[str, int] = {}
        for i, queue in enumerate(self.queues):
            if queue.name in queues:
                yield ("queues", i, "name"), f"queue {queue.name!r} is defined twice"
            queues[queue.name] = i
        for i, queue in enumerate(self.queues):
            if queue.overflow and queue.overflow not in queues and self.ivr is not None \
                    and queue.overflow not in self.ivr.nodes:
                yield ("queues", i, "overflow"), f"{queue.overflow!r} is neither a queue nor an IVR node"
        agents: set[str] = set()
        for i, agent in enumerate(self.agents):
            if agent.id in agents:
                yield ("agents", i, "id"), f"agent {agent.id!r} is defined twice"
            agents.add(agent.id)
            span = agent.interface.partition("/")[0].removeprefix("span")
            if agent.interface and int(span) not in {s.number for s in self.agent_spans}:
                yield ("agents", i, "interface"), f"span {span} is not an agent span (role: agent)"
            seen: set[str] = set()
            for j, member in enumerate(agent.queues):
                if member.queue not in queues:
                    yield ("agents", i, "queues", j, "queue"), f"queue {member.queue!r} is not defined in queues"
                elif member.queue in seen:
                    yield ("agents", i, "queues", j, "queue"), f"queue {member.queue!r} is listed twice"
                seen.add(member.queue)
        for i, name in enumerate(self.recording.queues):
            if name not in queues:
                yield ("recording", "queues", i), f"queue {name!r} is not defined in queues"
        for name, node in (self.ivr.nodes.items() if self.ivr is not None else ()):
            if node.kind == "queue" and node.queue not in queues:
                yield ("ivr", "nodes", name, "queue"), f"queue {node.queue!r} is not defined in queues"
            for path, action in node.targets():
                if action.queue is not None and action.queue not in queues:
                    yield ("ivr", "nodes", name) + path + ("queue",), f"queue {action.queue!r} is not defined in queues"
