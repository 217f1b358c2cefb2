"""The DAHDI driver interface: what both backends (real ioctls, simulated spans) provide.

Code above ``drivers/`` holds a :class:`Backend` from :func:`drivers.dahdi.open_backend`
and never knows which one it has.  Names and numbers follow ``<dahdi/user.h>`` so that
status read from a real card and from a simulated span look the same.

Media is channel-major: one span's 20 ms block is ``len(channels)`` runs of
``blocksize`` samples (one byte each in G.711 modes, two little-endian bytes each in
linear mode), the shape the ``cython_ext`` kernels take.
"""
from __future__ import annotations

import abc
import enum
from dataclasses import asdict, dataclass, field
from typing import Literal

__all__ = [
    "Alarm", "DAHDI_ALARM_LFA", "DAHDI_ALARM_LMFA", "DAHDI_ALARM_LOS", "EventType", "HookOp", "Mode",
    "SpanCounters", "ChannelStatus", "SpanStatus", "ChannelEvent",
    "SpanMedia", "DChannel", "Channel", "Backend", "DahdiError",
]

Mode = Literal["alaw", "ulaw", "linear"]

BLOCK_SAMPLES = 160  # 20 ms at 8 kHz: the block size qbox runs every channel at
IDLE_CODE = {"alaw": 0xD5, "ulaw": 0xFF}   # G.711 silence: the code for 0 in each law


class DahdiError(OSError):
    """A driver-level failure (device missing, ioctl refused, span does not exist)."""


# <dahdi/user.h> detail bits that come with RED (not Alarm members: DAHDI names them RED).
DAHDI_ALARM_LOS = 1 << 8
DAHDI_ALARM_LFA = 1 << 9
DAHDI_ALARM_LMFA = 1 << 10


class Alarm(enum.IntFlag):
    """Span alarm bits, DAHDI_ALARM_* in user.h."""

    NONE = 0
    RECOVER = 1
    LOOPBACK = 2
    YELLOW = 4
    RED = 8
    BLUE = 16
    NOTOPEN = 32

    def names(self) -> list[str]:
        """The words ``/proc/dahdi/N`` and ``dahdi_scan`` print, most severe first."""
        order = [
            (Alarm.BLUE, "BLUE"), (Alarm.YELLOW, "YELLOW"), (Alarm.RED, "RED"),
            (Alarm.LOOPBACK, "LOOP"), (Alarm.RECOVER, "RECOVERING"), (Alarm.NOTOPEN, "NOTOPEN"),
        ]
        return [word for bit, word in order if self & bit]


class EventType(enum.IntEnum):
    """DAHDI_EVENT_* in user.h (the subset qbox acts on, same numbers)."""

    NONE = 0
    ONHOOK = 1
    RINGOFFHOOK = 2
    WINKFLASH = 3
    ALARM = 4
    NOALARM = 5
    ABORT = 6
    OVERRUN = 7
    BADFCS = 8
    DIALCOMPLETE = 9
    RINGERON = 10
    RINGEROFF = 11
    HOOKCOMPLETE = 12
    BITSCHANGED = 13
    PULSE_START = 14
    TIMER_EXPIRED = 15
    TIMER_PING = 16
    POLARITY = 17
    RINGBEGIN = 18


class HookOp(enum.IntEnum):
    """DAHDI_HOOK arguments in user.h (what an FXS port is told to do)."""

    ONHOOK = 0
    OFFHOOK = 1
    WINK = 2
    FLASH = 3
    START = 4
    RING = 5
    RINGOFF = 6


@dataclass(frozen=True)
class SpanCounters:
    """Line error counters, as in ``struct dahdi_count`` / ``/proc/dahdi/N``."""

    bpv: int = 0      # bipolar violations (line code errors)
    crc4: int = 0     # CRC-4 errors (E1 with CRC-4 multiframing)
    fas: int = 0      # frame alignment signal errors
    ebit: int = 0     # E-bit (far-end block error) count, E1 only
    slips: int = 0    # timing slips


@dataclass(frozen=True)
class ChannelStatus:
    channo: int           # global channel number (/dev/dahdi/N)
    chanpos: int          # 1-based position in its span
    name: str             # e.g. "SIM/1/1" or "TE4/0/1/1"
    signalling: str       # as /proc prints it: "Clear", "HDLCFCS", "FXOKS", "Unconfigured"...
    state: str = "idle"   # "idle", "open", "in use", "ringing", "off-hook", "alarm"


@dataclass(frozen=True)
class SpanStatus:
    number: int
    name: str
    description: str
    type: Literal["E1", "T1", "analog"]   # "analog": FXS/FXO ports, as dahdi_scan says
    framing: str          # "CCS", "CAS", "D4", "ESF"
    coding: str           # "HDB3", "AMI", "B8ZS"
    crc4: bool = False
    alarms: Alarm = Alarm.NONE
    counters: SpanCounters = field(default_factory=SpanCounters)
    lbo: str = "0 db (CSU)/0-133 feet (DSX-1)"
    sync_source: int = 0
    channels: tuple[ChannelStatus, ...] = ()

    @property
    def alarm_names(self) -> list[str]:
        return Alarm(self.alarms).names() if self.alarms else []

    def as_dict(self) -> dict:
        data = asdict(self)
        data["alarms"] = self.alarm_names or ["OK"]
        return data


@dataclass(frozen=True)
class ChannelEvent:
    channo: int
    type: EventType
    span: int = 0


class SpanMedia(abc.ABC):
    """All B-channels of one span, read and written as one channel-major block."""

    channels: tuple[int, ...]     # channo of each run in the block, in order
    mode: Mode
    blocksize: int

    @abc.abstractmethod
    def fileno(self) -> int:
        """Readable when a block is ready (for ``loop.add_reader``)."""

    @abc.abstractmethod
    def read_block(self) -> bytes | None:
        """The next 20 ms block for every channel, or None if none is ready yet."""

    @abc.abstractmethod
    def write_block(self, block: bytes) -> None:
        """Send one block (same shape as ``read_block`` returns)."""

    @abc.abstractmethod
    def events(self) -> list[ChannelEvent]:
        """Drain pending channel events (alarms, hook changes)."""

    def events_seen(self) -> list[ChannelEvent]:
        """The events the reads so far have met, without looking for more.

        For a reader driven by the descriptor: an event that arrives later makes it
        readable again, so the next read meets it.  Cheaper than :meth:`events` where
        that has to ask the device (one call per block on a busy span)."""
        return self.events()

    @abc.abstractmethod
    def close(self) -> None: ...


class DChannel(abc.ABC):
    """An HDLC D-channel: whole frames in, whole frames out, FCS handled below."""

    span: int

    @abc.abstractmethod
    def fileno(self) -> int: ...

    @abc.abstractmethod
    def send(self, frame: bytes) -> None:
        """Send one LAPD frame (address, control, information; no FCS)."""

    @abc.abstractmethod
    def recv(self) -> bytes | None:
        """The next received frame without FCS, or None if none is waiting."""

    @abc.abstractmethod
    def events(self) -> list[ChannelEvent]: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class Channel(abc.ABC):
    """One channel on its own: an FXS agent port (ring, hook) or a single B-channel."""

    channo: int

    @abc.abstractmethod
    def fileno(self) -> int: ...

    @abc.abstractmethod
    def read(self) -> bytes | None: ...

    @abc.abstractmethod
    def write(self, block: bytes) -> None: ...

    @abc.abstractmethod
    def hook(self, op: HookOp) -> None:
        """DAHDI_HOOK: ring an FXS port, stop ringing, go on/off hook."""

    @abc.abstractmethod
    def events(self) -> list[ChannelEvent]: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class Backend(abc.ABC):
    """One DAHDI system: its spans and channels."""

    url: str

    @abc.abstractmethod
    def spans(self, *, channels: bool = True) -> list[SpanStatus]:
        """Status of every span, like ``dahdi_scan``.

        ``channels=False`` leaves each status's channel rows out (``channels == ()``):
        a supervisor asking for alarms and counters every second does not pay for them.
        """

    @abc.abstractmethod
    def span_status(self, span: int, *, channels: bool = True) -> SpanStatus:
        """Status of one span, like ``/proc/dahdi/N``; DahdiError if it does not exist."""

    @abc.abstractmethod
    def open_span_media(self, span: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES) -> SpanMedia: ...

    @abc.abstractmethod
    def open_dchannel(self, span: int) -> DChannel: ...

    @abc.abstractmethod
    def open_channel(self, channo: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES) -> Channel: ...

    def close(self) -> None:
        """Release anything the backend holds open."""
