"""The user-space ABI of ``<dahdi/user.h>`` (DAHDI 2.11): ioctl numbers, structures, constants.

Everything here is data transcribed from the header, in its order and with its names,
so that ``tests/drivers/dahdi/test_header_crosscheck.py`` can compile a C program from
these definitions and compare every number, size and offset with the real header.
Adding an ioctl, a structure or a constant here adds its check automatically:

- each :class:`Ioctl` registers itself in :data:`IOCTLS` (its ``name`` is the C macro);
- each structure is listed in :data:`STRUCTS` (``c_name`` is the C tag, field names are
  the C member names);
- each enum in :data:`ENUMS` maps ``prefix + member name`` to the C macro, and
  :data:`CONSTANTS` holds the stray single macros.

Integer arguments travel by pointer (the kernel does ``get_user(j, (int *)data)``), so
callers pass a 4-byte buffer, never a bare int: see :mod:`drivers.dahdi.real.device`.
"""
from __future__ import annotations

import ctypes
import enum
import platform

from drivers.dahdi.interface import Alarm, EventType, HookOp

__all__ = [
    "Ioctl", "IOCTLS", "STRUCTS", "ENUMS", "CONSTANTS",
    "DahdiParams", "DahdiSpanInfo", "DahdiBufferInfo", "DahdiDynamicSpan",
    "Law", "Sig", "Policy", "LineConfig", "Flush", "SIG_NAMES", "ELAST", "DAHDI_CODE",
    "DAHDI_GET_BLOCKSIZE", "DAHDI_SET_BLOCKSIZE", "DAHDI_FLUSH", "DAHDI_GET_PARAMS",
    "DAHDI_HOOK", "DAHDI_GETEVENT", "DAHDI_SPANSTAT", "DAHDI_GET_BUFINFO", "DAHDI_SET_BUFINFO",
    "DAHDI_AUDIOMODE", "DAHDI_SPECIFY", "DAHDI_SETLAW", "DAHDI_SETLINEAR",
    "DAHDI_DYNAMIC_CREATE", "DAHDI_DYNAMIC_DESTROY",
]

ELAST = 500          # errno of a read/write refused because an event is waiting
DAHDI_CODE = 0xDA    # the ioctl "type" byte


# --- <asm-generic/ioctl.h>, and the few architectures that lay the word out differently.

class _IocLayout:
    def __init__(self, size_bits: int, none: int, write: int, read: int) -> None:
        self.size_bits = size_bits
        self.dir = {"": none, "W": write, "R": read, "WR": write | read}


_GENERIC = _IocLayout(size_bits=14, none=0, write=1, read=2)
_OLD_STYLE = _IocLayout(size_bits=13, none=1, write=4, read=2)  # alpha, mips, powerpc, sparc


def _layout_for(machine: str) -> _IocLayout:
    old = ("alpha", "mips", "ppc", "powerpc", "sparc")
    return _OLD_STYLE if machine.lower().startswith(old) else _GENERIC


_LAYOUT = _layout_for(platform.machine())


def ioc(direction: str, nr: int, size: int, code: int = DAHDI_CODE,
        layout: _IocLayout = _LAYOUT) -> int:
    """``_IOC(dir, type, nr, size)``: dir is "", "R", "W" or "WR" as in _IO/_IOR/_IOW/_IOWR."""
    if not 0 <= size < (1 << layout.size_bits):
        raise ValueError(f"ioctl argument size {size} does not fit {layout.size_bits} bits")
    return (layout.dir[direction] << (16 + layout.size_bits)) | (size << 16) | (code << 8) | nr


IOCTLS: list["Ioctl"] = []


class Ioctl(int):
    """An ioctl request number that remembers its C name and argument type."""

    name: str
    argtype: type | None

    def __new__(cls, name: str, direction: str, nr: int, argtype: type | None = None) -> "Ioctl":
        size = ctypes.sizeof(argtype) if argtype is not None else 0
        self = super().__new__(cls, ioc(direction, nr, size))
        self.name = name
        self.argtype = argtype
        IOCTLS.append(self)
        return self

    def __repr__(self) -> str:
        return f"<Ioctl {self.name} 0x{int(self):08X}>"


# --- structures (field names and order as in user.h)

class DahdiParams(ctypes.Structure):
    c_name = "dahdi_params"
    _fields_ = [
        ("channo", ctypes.c_int), ("spanno", ctypes.c_int), ("chanpos", ctypes.c_int),
        ("sigtype", ctypes.c_int), ("sigcap", ctypes.c_int), ("rxisoffhook", ctypes.c_int),
        ("rxbits", ctypes.c_int), ("txbits", ctypes.c_int), ("txhooksig", ctypes.c_int),
        ("rxhooksig", ctypes.c_int), ("curlaw", ctypes.c_int), ("idlebits", ctypes.c_int),
        ("name", ctypes.c_char * 40),
        ("prewinktime", ctypes.c_int), ("preflashtime", ctypes.c_int), ("winktime", ctypes.c_int),
        ("flashtime", ctypes.c_int), ("starttime", ctypes.c_int), ("rxwinktime", ctypes.c_int),
        ("rxflashtime", ctypes.c_int), ("debouncetime", ctypes.c_int),
        ("pulsebreaktime", ctypes.c_int), ("pulsemaketime", ctypes.c_int),
        ("pulseaftertime", ctypes.c_int), ("chan_alarms", ctypes.c_uint32),
    ]


class DahdiSpanInfo(ctypes.Structure):
    """``struct dahdi_spaninfo``: declared ``__attribute__((packed))`` in the header."""

    c_name = "dahdi_spaninfo"
    _pack_ = 1
    _fields_ = [
        ("spanno", ctypes.c_int), ("name", ctypes.c_char * 20), ("desc", ctypes.c_char * 40),
        ("alarms", ctypes.c_int), ("txlevel", ctypes.c_int), ("rxlevel", ctypes.c_int),
        ("bpvcount", ctypes.c_int), ("crc4count", ctypes.c_int), ("ebitcount", ctypes.c_int),
        ("fascount", ctypes.c_int), ("fecount", ctypes.c_uint32), ("cvcount", ctypes.c_uint32),
        ("becount", ctypes.c_uint32), ("prbs", ctypes.c_uint32), ("errsec", ctypes.c_uint32),
        ("irqmisses", ctypes.c_int), ("syncsrc", ctypes.c_int), ("numchans", ctypes.c_int),
        ("totalchans", ctypes.c_int), ("totalspans", ctypes.c_int), ("lbo", ctypes.c_int),
        ("lineconfig", ctypes.c_int), ("lboname", ctypes.c_char * 40),
        ("location", ctypes.c_char * 40), ("manufacturer", ctypes.c_char * 40),
        ("devicetype", ctypes.c_char * 40), ("irq", ctypes.c_int), ("linecompat", ctypes.c_int),
        ("spantype", ctypes.c_char * 6),
    ]


class DahdiBufferInfo(ctypes.Structure):
    c_name = "dahdi_bufferinfo"
    _fields_ = [
        ("txbufpolicy", ctypes.c_int), ("rxbufpolicy", ctypes.c_int), ("numbufs", ctypes.c_int),
        ("bufsize", ctypes.c_int), ("readbufs", ctypes.c_int), ("writebufs", ctypes.c_int),
    ]


class DahdiDynamicSpan(ctypes.Structure):
    c_name = "dahdi_dynamic_span"
    _fields_ = [
        ("driver", ctypes.c_char * 20), ("addr", ctypes.c_char * 40), ("numchans", ctypes.c_int),
        ("timing", ctypes.c_int), ("spanno", ctypes.c_int),
    ]


STRUCTS: tuple[type[ctypes.Structure], ...] = (
    DahdiParams, DahdiSpanInfo, DahdiBufferInfo, DahdiDynamicSpan,
)


# --- the ioctls qbox uses (DAHDI_CODE, number, argument), in header order

DAHDI_GET_BLOCKSIZE = Ioctl("DAHDI_GET_BLOCKSIZE", "R", 1, ctypes.c_int)
DAHDI_SET_BLOCKSIZE = Ioctl("DAHDI_SET_BLOCKSIZE", "W", 1, ctypes.c_int)
DAHDI_FLUSH = Ioctl("DAHDI_FLUSH", "W", 3, ctypes.c_int)
DAHDI_GET_PARAMS = Ioctl("DAHDI_GET_PARAMS", "WR", 5, DahdiParams)
DAHDI_HOOK = Ioctl("DAHDI_HOOK", "W", 7, ctypes.c_int)
DAHDI_GETEVENT = Ioctl("DAHDI_GETEVENT", "R", 8, ctypes.c_int)
DAHDI_SPANSTAT = Ioctl("DAHDI_SPANSTAT", "WR", 10, DahdiSpanInfo)
DAHDI_GET_BUFINFO = Ioctl("DAHDI_GET_BUFINFO", "R", 27, DahdiBufferInfo)
DAHDI_SET_BUFINFO = Ioctl("DAHDI_SET_BUFINFO", "W", 27, DahdiBufferInfo)
DAHDI_AUDIOMODE = Ioctl("DAHDI_AUDIOMODE", "W", 32, ctypes.c_int)
DAHDI_SPECIFY = Ioctl("DAHDI_SPECIFY", "W", 38, ctypes.c_int)
DAHDI_SETLAW = Ioctl("DAHDI_SETLAW", "W", 39, ctypes.c_int)
DAHDI_SETLINEAR = Ioctl("DAHDI_SETLINEAR", "W", 40, ctypes.c_int)
DAHDI_DYNAMIC_CREATE = Ioctl("DAHDI_DYNAMIC_CREATE", "WR", 80, DahdiDynamicSpan)
DAHDI_DYNAMIC_DESTROY = Ioctl("DAHDI_DYNAMIC_DESTROY", "W", 81, DahdiDynamicSpan)


# --- constants

class Law(enum.IntEnum):
    """DAHDI_LAW_*: the companding law DAHDI_SETLAW selects."""

    DEFAULT = 0
    MULAW = 1
    ALAW = 2


class Sig(enum.IntEnum):
    """DAHDI_SIG_*: a channel's configured signalling (``dahdi_params.sigtype``)."""

    NONE = 0
    FXSLS = (1 << 0) | (1 << 13)
    FXSGS = (1 << 1) | (1 << 13)
    FXSKS = (1 << 2) | (1 << 13)
    FXOLS = (1 << 3) | (1 << 12)
    FXOGS = (1 << 4) | (1 << 12)
    FXOKS = (1 << 5) | (1 << 12)
    EM = 1 << 6
    CLEAR = 1 << 7
    HDLCRAW = (1 << 8) | CLEAR
    HDLCFCS = (1 << 9) | HDLCRAW
    HDLCNET = (1 << 10) | HDLCFCS
    SLAVE = 1 << 11
    SF = 1 << 14
    CAS = 1 << 15
    DACS = (1 << 16) | CLEAR
    EM_E1 = 1 << 17
    DACS_RBS = (1 << 18) | (1 << 16)
    HARDHDLC = (1 << 19) | CLEAR
    MTP2 = (1 << 20) | HDLCFCS


# What /proc/dahdi/N prints for each signalling: sigstr() in dahdi-base.c.
SIG_NAMES: dict[int, str] = {
    Sig.FXSLS: "FXSLS", Sig.FXSKS: "FXSKS", Sig.FXSGS: "FXSGS",
    Sig.FXOLS: "FXOLS", Sig.FXOKS: "FXOKS", Sig.FXOGS: "FXOGS",
    Sig.EM: "E&M", Sig.EM_E1: "E&M-E1", Sig.CLEAR: "Clear",
    Sig.HDLCRAW: "HDLCRAW", Sig.HDLCFCS: "HDLCFCS", Sig.HDLCNET: "HDLCNET",
    Sig.HARDHDLC: "Hardware-assisted HDLC", Sig.MTP2: "MTP2", Sig.SLAVE: "Slave",
    Sig.CAS: "CAS", Sig.DACS: "DACS", Sig.DACS_RBS: "DACS+RBS", Sig.SF: "SF (ToneOnly)",
    Sig.NONE: "Unconfigured",
}


class Policy(enum.IntEnum):
    """DAHDI_POLICY_*: when buffered audio starts playing."""

    IMMEDIATE = 0
    WHEN_FULL = 1
    HALF_FULL = 2


class LineConfig(enum.IntFlag):
    """DAHDI_CONFIG_*: span framing and coding bits; member names are the words /proc prints."""

    D4 = 1 << 4
    ESF = 1 << 5
    AMI = 1 << 6
    B8ZS = 1 << 7
    CCS = 1 << 8
    HDB3 = 1 << 9
    CRC4 = 1 << 10
    NTTE = 1 << 11
    TERM = 1 << 12
    NOTOPEN = 1 << 16


class Flush(enum.IntFlag):
    """DAHDI_FLUSH_*: what DAHDI_FLUSH empties (a flushed read side restarts its block)."""

    READ = 1
    WRITE = 2
    BOTH = READ | WRITE
    EVENT = 4
    ALL = BOTH | EVENT


# enum -> the C macro prefix its members carry in user.h
ENUMS: tuple[tuple[type[enum.Enum], str], ...] = (
    (Law, "DAHDI_LAW_"), (Sig, "DAHDI_SIG_"), (Policy, "DAHDI_POLICY_"),
    (LineConfig, "DAHDI_CONFIG_"), (Flush, "DAHDI_FLUSH_"), (Alarm, "DAHDI_ALARM_"),
    (EventType, "DAHDI_EVENT_"), (HookOp, "DAHDI_"),
)

CONSTANTS: dict[str, int] = {
    "ELAST": ELAST,
    "DAHDI_CODE": DAHDI_CODE,
    "DAHDI_MAX_BLOCKSIZE": 8192,
    "DAHDI_MAX_BUF_SPACE": 32768,
    "DAHDI_DEFAULT_BLOCKSIZE": 1024,
    "DAHDI_MAX_CHANNELS": 1024,
}

DAHDI_MAX_BLOCKSIZE = CONSTANTS["DAHDI_MAX_BLOCKSIZE"]
DAHDI_MAX_BUF_SPACE = CONSTANTS["DAHDI_MAX_BUF_SPACE"]
