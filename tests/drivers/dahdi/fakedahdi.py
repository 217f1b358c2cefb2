"""A fake DAHDI kernel: the DeviceIO the real backend's tests hand it instead of /dev/dahdi.

It behaves as dahdi-base.c does on the calls the backend makes (same errno for the same
mistakes: ENXIO for an unconfigured channel, EINVAL for linear on a channel not in audio
mode, ELAST while an event is queued, EAGAIN when non-blocking I/O has nothing), and
renders ``/proc/dahdi/N`` as ``dahdi_seq_show()`` does.

Arguments are decoded with ``struct`` formats written from <dahdi/user.h> by hand and
request numbers are the literal values gcc computes on x86_64, so a wrong ctypes layout
or ioctl number in ``drivers.dahdi.real.abi`` fails these tests too, not only the header
cross-check.

The line comes in two ways.  ``deliver()`` hands a channel one whole buffer (law bytes or
an HDLC frame) at once.  ``run_line(ms)`` is the span ticking as dahdi_receive() does:
every millisecond each open voice channel takes 8 samples (``line_byte``) into its
receive buffer, a block is complete when it holds ``blocksize`` samples, and a channel
whose ``numbufs`` buffers are all full drops what arrives until a read frees one (the
freed buffer starts filling at the read).  So each channel has its own block phase: it
restarts at open, DAHDI_SET_BLOCKSIZE, DAHDI_SET_BUFINFO and DAHDI_FLUSH.  Line time
also passes during the calls named in ``ms_per_call`` (a slow guest) and in ``sleep()``.

An HDLC channel's framers restart at open; until the line has ticked once since, a frame
written or arriving there is lost without an event (``lost_frames``), as with the kernel.

Simplifications: a channel's law is recorded but not transcoded; linear reads decode
with a real G.711 table, linear writes are recorded as written.
"""
from __future__ import annotations

import errno
import math
import os
import struct
from collections import deque
from dataclasses import dataclass, field

import pytest

from drivers.dahdi import open_backend

ELAST = 500

# x86_64 request numbers of the ioctls the backend uses
SPECIFY, GET_BLOCKSIZE, SET_BLOCKSIZE, FLUSH = 0x4004DA26, 0x8004DA01, 0x4004DA01, 0x4004DA03
GET_PARAMS, HOOK, GETEVENT = 0xC088DA05, 0x4004DA07, 0x8004DA08
SPANSTAT, GET_BUFINFO, SET_BUFINFO = 0xC13ADA0A, 0x8018DA1B, 0x4018DA1B
AUDIOMODE, SETLAW, SETLINEAR = 0x4004DA20, 0x4004DA27, 0x4004DA28
DYNAMIC_CREATE, DYNAMIC_DESTROY = 0xC048DA50, 0x4048DA51
REQUEST_NAMES = {
    SPECIFY: "SPECIFY", GET_BLOCKSIZE: "GET_BLOCKSIZE", SET_BLOCKSIZE: "SET_BLOCKSIZE", FLUSH: "FLUSH",
    GET_PARAMS: "GET_PARAMS", HOOK: "HOOK", GETEVENT: "GETEVENT",
    SPANSTAT: "SPANSTAT", GET_BUFINFO: "GET_BUFINFO", SET_BUFINFO: "SET_BUFINFO",
    AUDIOMODE: "AUDIOMODE", SETLAW: "SETLAW", SETLINEAR: "SETLINEAR",
    DYNAMIC_CREATE: "DYNAMIC_CREATE", DYNAMIC_DESTROY: "DYNAMIC_DESTROY",
}

# struct layouts from user.h ("=": native order, no padding; spaninfo is packed)
PARAMS = struct.Struct("=12i40s11iI")
SPANINFO = struct.Struct("=i20s40s3i4i5I7i40s40s40s40s2i6s")
BUFINFO = struct.Struct("=6i")
DYNAMIC = struct.Struct("=20s40s3i")
INT = struct.Struct("=i")

SIG_CLEAR, SIG_HDLCFCS, SIG_HARDHDLC = 1 << 7, (1 << 9) | (1 << 8) | (1 << 7), (1 << 19) | (1 << 7)
SIG_FXOKS, SIG_FXSKS, SIG_CAS = (1 << 5) | (1 << 12), (1 << 2) | (1 << 13), 1 << 15
SIGSTR = {SIG_CLEAR: "Clear", SIG_HDLCFCS: "HDLCFCS", SIG_HARDHDLC: "Hardware-assisted HDLC",
          SIG_FXOKS: "FXOKS", SIG_FXSKS: "FXSKS", SIG_CAS: "CAS", 0: "Unconfigured"}
LAW_MULAW, LAW_ALAW = 1, 2
FLUSH_READ, FLUSH_EVENT = 1, 4
EVENT_ALARM, EVENT_NOALARM = 4, 5
CONFIG_WORDS = [(1 << 4, "D4"), (1 << 5, "ESF"), (1 << 6, "AMI"), (1 << 7, "B8ZS"), (1 << 8, "CCS"),
                (1 << 9, "HDB3"), (1 << 10, "CRC4")]
ALARM_WORDS = [(16, "BLUE"), (4, "YELLOW"), (8, "RED"), (2, "LOOP"), (1, "RECOVERING"), (32, "NOTOPEN")]


def alaw_to_linear(byte: int) -> int:
    """G.711 A-law decoding (ITU-T G.711 table 1a)."""
    byte ^= 0x55
    exponent, mantissa = (byte >> 4) & 7, byte & 0x0F
    value = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return value if byte & 0x80 else -value


def line_byte(channo: int, sample: int) -> int:
    """What the line carries on ``channo`` at line sample ``sample`` (pseudo-random, so a
    stretch of audio read back shows where on the line it came from)."""
    return ((sample * 2654435761 ^ channo * 40503) * 2246822519 >> 13) & 0xFF


def line_bytes(channo: int, start: int, count: int) -> bytes:
    return bytes(line_byte(channo, n) for n in range(start, start + count))


def fcs16(data: bytes) -> bytes:
    """The HDLC frame check sequence (CRC-16/X.25) as it goes on the line."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return struct.pack("<H", crc ^ 0xFFFF)


def _oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code) if code != ELAST else "Unknown error 500")


@dataclass
class FakeChan:
    channo: int
    name: str
    span: int
    chanpos: int
    sig: int = 0
    sigcap: int = 0xFFFF
    rx: deque = field(default_factory=deque)      # what the line delivered, oldest first
    tx: list = field(default_factory=list)        # what the channel sent, as on the line
    events: deque = field(default_factory=deque)
    hooks: list = field(default_factory=list)
    chan_alarms: int = 0
    is_open: bool = False
    blocksize: int = 1024
    numbufs: int = 2
    txpolicy: int = 0
    audio: bool = False
    linear: bool = False
    law: int = LAW_ALAW
    tx_full: bool = False                         # the test says: no room in the write buffers
    filling: bytearray | None = None              # the receive buffer being filled; None: all full
    overrun_samples: int = 0                      # line samples dropped with every buffer full
    hdlc_restarted: bool = False                  # framers restarted, no tick since (frames get lost)
    lost_frames: list = field(default_factory=list)

    @property
    def hdlc(self) -> bool:
        return self.sig in (SIG_HDLCFCS, SIG_HARDHDLC)


@dataclass
class FakeSpan:
    number: int
    name: str
    desc: str
    spantype: str = "E1"
    lineconfig: int = 0
    alarms: int = 0
    lastalarms: int = 0
    bpv: int = 0
    crc4: int = 0
    ebit: int = 0
    fas: int = 0
    slips: int = 0
    irqmisses: int = 0
    syncsrc: int = 0
    lbo: int = 0
    master: bool = False
    deflaw: int = LAW_ALAW
    channels: list = field(default_factory=list)


@dataclass
class FakeFile:
    kind: str                  # "channel", "ctl" or "ready" (a ready set)
    nonblock: bool
    chan: FakeChan | None = None
    armed: dict = field(default_factory=dict)    # a ready set's descriptors: fd -> armed


class FakeReadySet:
    """An epoll set over fake descriptors; ``FakeKernel.readable`` says whether it polls readable."""

    def __init__(self, kernel: "FakeKernel") -> None:
        self.kernel = kernel
        self.fd = kernel._new_fd(FakeFile(kind="ready", nonblock=True))

    def fileno(self) -> int:
        return self.fd

    def add(self, fd: int) -> None:
        self.kernel.files[self.fd].armed[fd] = True

    def arm(self, fd: int, armed: bool) -> None:
        watched = self.kernel.files[self.fd].armed
        if fd not in watched:
            raise _oserror(errno.ENOENT)
        watched[fd] = armed

    def close(self) -> None:
        self.kernel.close(self.fd)


class FakeKernel:
    """The DeviceIO protocol over in-memory spans and channels."""

    def __init__(self, root: str = "/dev/dahdi", proc: str = "/proc/dahdi") -> None:
        self.root, self.proc = root, proc
        self.loaded = True
        self.spans: dict[int, FakeSpan] = {}
        self.chans: dict[int, FakeChan] = {}
        self.files: dict[int, FakeFile] = {}
        self.calls: list[tuple[str, int]] = []   # (request name, channo or 0) in order
        self.line_samples = 0                      # line time, in samples (8 a millisecond)
        self.ms_per_call: dict[str, float] = {}   # request name -> line ms it lets pass
        self.slept: list[float] = []
        self._line_debt = 0.0
        self._next_fd = 100

    # --- building a system

    def add_span(self, name: str, desc: str, sigs: list[int], **attrs) -> FakeSpan:
        number = max(self.spans, default=0) + 1
        span = FakeSpan(number=number, name=name, desc=desc, **attrs)
        base = max(self.chans, default=0)
        for pos, sig in enumerate(sigs, start=1):
            chan = FakeChan(channo=base + pos, name=f"{name}/{pos}", span=number, chanpos=pos, sig=sig)
            span.channels.append(chan)
            self.chans[chan.channo] = chan
        self.spans[number] = span
        return span

    def line_alarm(self, number: int, alarms: int) -> None:
        """What dahdi_alarm_notify() does when a span's alarms change."""
        span = self.spans[number]
        span.alarms = alarms
        if (not alarms) != (not span.lastalarms):
            span.lastalarms = alarms
            for chan in span.channels:
                if chan.chan_alarms != alarms:
                    chan.chan_alarms = alarms
                    chan.events.append(EVENT_ALARM if alarms else EVENT_NOALARM)

    def deliver(self, channo: int, data: bytes) -> None:
        """The line hands ``channo`` one whole buffer (a block, or an HDLC frame)."""
        chan = self.chans[channo]
        if chan.hdlc and chan.hdlc_restarted:
            chan.lost_frames.append(bytes(data))   # the receiver was hunting for a flag
            chan.hdlc_restarted = False
            return
        chan.rx.append(bytes(data))

    def run_line(self, ms: int) -> None:
        """``ms`` milliseconds of line: every open channel takes its 8 samples a millisecond."""
        for _ in range(ms):
            for chan in self.chans.values():
                if not chan.is_open:
                    continue
                if chan.hdlc:
                    chan.hdlc_restarted = False      # idle flags went both ways
                else:
                    self._receive(chan, line_bytes(chan.channo, self.line_samples, 8))
            self.line_samples += 8

    def readable(self, fd: int) -> bool:
        """Whether ``fd`` polls readable (POLLIN), as poll() or an event loop would see it."""
        file = self.files[fd]
        if file.kind == "ready":
            return any(armed and other in self.files and self.readable(other)
                       for other, armed in file.armed.items())
        return file.chan is not None and bool(file.chan.rx)

    # --- DeviceIO

    def open(self, path: str, flags: int) -> int:
        if not self.loaded or path not in (f"{self.root}/channel", f"{self.root}/ctl"):
            raise _oserror(errno.ENOENT)
        kind = "ctl" if path.endswith("/ctl") else "channel"
        return self._new_fd(FakeFile(kind=kind, nonblock=bool(flags & os.O_NONBLOCK)))

    def close(self, fd: int) -> None:
        file = self.files.pop(fd)  # KeyError: closing twice is a bug in the backend
        if file.chan is not None:
            file.chan.is_open = False
            file.chan.filling = None
            file.chan.rx.clear()

    def ready_set(self) -> FakeReadySet:
        return FakeReadySet(self)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.run_line(math.ceil(seconds * 1000 - 1e-9))

    def read(self, fd: int, size: int) -> bytes:
        chan = self._bound(fd)
        if chan.events:
            raise _oserror(ELAST)
        if not chan.rx:
            if not self.files[fd].nonblock:
                raise AssertionError("a blocking read with nothing to read would hang")
            raise _oserror(errno.EAGAIN)
        data = chan.rx.popleft()
        if chan.filling is None and not chan.hdlc:
            chan.filling = bytearray()      # the buffer just read takes the line again
        if chan.hdlc:
            return (data + fcs16(data))[:size]
        if chan.linear:
            return b"".join(struct.pack("<h", alaw_to_linear(b)) for b in data)[:size]
        return data[:size]

    def write(self, fd: int, data: bytes) -> int:
        chan = self._bound(fd)
        if chan.events:
            raise _oserror(ELAST)
        if chan.tx_full:
            raise _oserror(errno.EAGAIN)
        amount = min(len(data), chan.blocksize * (2 if chan.linear else 1))
        data = bytes(data[:amount])
        if chan.hdlc:
            if amount < 2:
                raise _oserror(errno.EINVAL)
            data = data[:-2] + fcs16(data[:-2])  # the kernel overwrites the last two bytes
            if chan.hdlc_restarted:
                chan.lost_frames.append(data)     # started without its opening flag
                return amount
        chan.tx.append(data)
        return amount

    def ioctl(self, fd: int, request: int, arg: bytearray) -> int:
        file = self.files[fd]
        name = REQUEST_NAMES.get(request, hex(request))
        self.calls.append((name, file.chan.channo if file.chan else 0))
        self._pass_time(self.ms_per_call.get(name, 0.0))
        if file.kind == "ctl":
            handler = {SPANSTAT: self._spanstat, GET_PARAMS: self._get_params,
                       DYNAMIC_CREATE: self._dynamic_create, DYNAMIC_DESTROY: self._dynamic_destroy}
            if request not in handler:
                raise _oserror(errno.ENOTTY)
            handler[request](None, arg)
            return 0
        if file.chan is None:
            if request != SPECIFY:
                raise _oserror(errno.ENOSYS)
            self._specify(file, INT.unpack(arg)[0])
            return 0
        self._chan_ioctl(file.chan, request, arg)
        return 0

    def read_text(self, path: str) -> str:
        directory, _, leaf = path.rpartition("/")
        if not self.loaded or directory != self.proc or not leaf.isdigit() or int(leaf) not in self.spans:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return render_proc(self.spans[int(leaf)], self._master())

    def listdir(self, path: str) -> list[str]:
        if not self.loaded or path != self.proc:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return [str(n) for n in self.spans]

    # --- the line

    def _new_fd(self, file: FakeFile) -> int:
        fd, self._next_fd = self._next_fd, self._next_fd + 1
        self.files[fd] = file
        return fd

    def _pass_time(self, ms: float) -> None:
        self._line_debt += ms
        whole = int(self._line_debt)
        self._line_debt -= whole
        self.run_line(whole)

    @staticmethod
    def _receive(chan: FakeChan, samples: bytes) -> None:
        """__putbuf_chunk() for a voice channel: fill buffers of ``blocksize``, drop when all are full."""
        while samples:
            if chan.filling is None:
                chan.overrun_samples += len(samples)
                return
            room = chan.blocksize - len(chan.filling)
            chan.filling += samples[:room]
            samples = samples[room:]
            if len(chan.filling) >= chan.blocksize:
                chan.rx.append(bytes(chan.filling))
                chan.filling = bytearray() if len(chan.rx) < chan.numbufs else None

    @staticmethod
    def _restart_buffers(chan: FakeChan) -> None:
        """dahdi_reallocbufs(): every buffer empty, the next block starts filling now."""
        chan.rx.clear()
        chan.filling = bytearray()

    # --- ioctl bodies

    def _bound(self, fd: int) -> FakeChan:
        chan = self.files[fd].chan
        if chan is None:
            raise _oserror(errno.EINVAL)
        return chan

    def _specify(self, file: FakeFile, channo: int) -> None:
        chan = self.chans.get(channo)
        if chan is None:
            raise _oserror(errno.EINVAL)
        if not chan.sig:
            raise _oserror(errno.ENXIO)
        if chan.is_open:
            raise _oserror(errno.EBUSY)
        # initialize_channel(): default buffers, events flushed, law reset, no linear;
        # clear and hardhdlc channels lose audio mode
        chan.is_open, file.chan = True, chan
        chan.blocksize, chan.numbufs, chan.linear = 1024, 2, False
        self._restart_buffers(chan)
        chan.hdlc_restarted = chan.hdlc
        chan.events.clear()
        chan.law = self.spans[chan.span].deflaw
        chan.audio = not (chan.sig & SIG_CLEAR)

    def _chan_ioctl(self, chan: FakeChan, request: int, arg: bytearray) -> None:
        value = INT.unpack_from(arg)[0] if len(arg) == 4 else None
        if request == GET_PARAMS:
            self._get_params(chan, arg)
        elif request == SET_BLOCKSIZE:
            if not 16 <= value <= 8192:
                raise _oserror(errno.EINVAL)
            chan.blocksize = value
            self._restart_buffers(chan)
        elif request == GET_BLOCKSIZE:
            INT.pack_into(arg, 0, chan.blocksize)
        elif request == GET_BUFINFO:
            BUFINFO.pack_into(arg, 0, chan.txpolicy, 0, chan.numbufs, chan.blocksize, -1, -1)
        elif request == SET_BUFINFO:
            txpolicy, _rx, numbufs, bufsize, _r, _w = BUFINFO.unpack(arg)
            if not 16 <= bufsize <= 8192 or bufsize * numbufs > 32768:
                raise _oserror(errno.EINVAL)
            chan.txpolicy, chan.numbufs, chan.blocksize = txpolicy & 3, numbufs, bufsize
            self._restart_buffers(chan)
        elif request == FLUSH:
            if value & FLUSH_READ:
                self._restart_buffers(chan)
            if value & FLUSH_EVENT:
                chan.events.clear()
        elif request == AUDIOMODE:
            if chan.sig != SIG_CLEAR:
                raise _oserror(errno.EINVAL)
            chan.audio = bool(value)
        elif request == SETLAW:
            if not 0 <= value <= LAW_ALAW:
                raise _oserror(errno.EINVAL)
            chan.law = value or self.spans[chan.span].deflaw
        elif request == SETLINEAR:
            if not chan.audio:
                raise _oserror(errno.EINVAL)
            chan.linear = bool(value)
        elif request == GETEVENT:
            INT.pack_into(arg, 0, chan.events.popleft() if chan.events else 0)
        elif request == HOOK:
            if chan.sig & SIG_CLEAR or chan.sig == SIG_CAS:
                raise _oserror(errno.EINVAL)
            chan.hooks.append(value)
        else:
            raise _oserror(errno.ENOTTY)

    def _get_params(self, chan: FakeChan | None, arg: bytearray) -> None:
        fields = list(PARAMS.unpack(arg))
        if chan is None:
            chan = self.chans.get(fields[0])
            if chan is None:
                raise _oserror(errno.EINVAL)
        fields[0:5] = [chan.channo, chan.span, chan.chanpos, chan.sig, chan.sigcap]
        fields[10] = chan.law
        fields[12] = chan.name.encode()
        fields[-1] = chan.chan_alarms
        PARAMS.pack_into(arg, 0, *fields)

    def _spanstat(self, _chan, arg: bytearray) -> None:
        fields = list(SPANINFO.unpack(arg))
        span = self.spans.get(fields[0])
        if span is None:  # spanno 0 on the control device has no channel to go by
            raise _oserror(errno.EINVAL)
        lbonames = ["0 db (CSU)/0-133 feet (DSX-1)", "133-266 feet (DSX-1)"]
        configured = sum(1 for c in span.channels if c.sig)
        values = [span.number, span.name.encode(), span.desc.encode(), span.alarms, 0, 0,
                  span.bpv, span.crc4, span.ebit, span.fas, 0, 0, 0, 0, 0,
                  span.irqmisses, span.syncsrc, configured, len(span.channels), len(self.spans),
                  span.lbo, span.lineconfig, lbonames[span.lbo].encode(), b"", b"Digium", b"",
                  0, 0x7F0, span.spantype.encode()[:5]]
        SPANINFO.pack_into(arg, 0, *values)

    def _dynamic_create(self, _chan, arg: bytearray) -> None:
        driver, addr, numchans, timing, _ = DYNAMIC.unpack(arg)
        driver, addr = driver.rstrip(b"\0").decode(), addr.rstrip(b"\0").decode()
        if driver != "loc" or not 0 < numchans <= 256:
            raise _oserror(errno.EINVAL)
        span = self.add_span(f"DYN/{driver}/{addr}", f"Dynamic '{driver}' span at '{addr}'",
                             [0] * numchans, spantype="DYNAM", deflaw=LAW_MULAW)
        DYNAMIC.pack_into(arg, 0, driver.encode(), addr.encode(), numchans, timing, span.number)

    def _dynamic_destroy(self, _chan, arg: bytearray) -> None:
        driver, addr = (f.rstrip(b"\0").decode() for f in DYNAMIC.unpack(arg)[:2])
        for number, span in list(self.spans.items()):
            if span.name == f"DYN/{driver}/{addr}":
                if any(c.is_open for c in span.channels):
                    raise _oserror(errno.EBUSY)
                del self.spans[number]
                for chan in span.channels:
                    del self.chans[chan.channo]
                return
        raise _oserror(errno.EINVAL)

    def _master(self) -> int:
        flagged = [n for n, s in self.spans.items() if s.master]
        return flagged[0] if flagged else 0


def render_proc(span: FakeSpan, master: int = 0) -> str:
    """``/proc/dahdi/N`` for ``span``, line for line as dahdi_seq_show() prints it."""
    out = [f'Span {span.number}: {span.name} "{span.desc}"']
    if span.number == master:
        out.append(" (MASTER)")
    if span.lineconfig:
        words, framing, coding = [], False, False
        for bit, word in CONFIG_WORDS:   # lineconfig_str(): coding, framing and CRC4 by bit order
            if not span.lineconfig & bit:
                continue
            if not framing and word in ("B8ZS", "AMI", "HDB3"):
                framing = True
                words.append(word)
            if not coding and word in ("ESF", "D4", "CCS"):
                coding = True
                words.append(word)
            if word == "CRC4":
                words.append(word)
        out.append(" " + "/".join(words))
    out.append(" ")
    out.append("".join(f"{w} " for bit, w in ALARM_WORDS if span.alarms & bit))
    if span.syncsrc and span.syncsrc == span.number:
        out.append("ClockSource ")
    out.append("\n")
    for value, label in [(span.bpv, "BPV count"), (span.crc4, "CRC4 error count"),
                         (span.ebit, "E-bit error count"), (span.fas, "FAS error count"),
                         (span.irqmisses, "IRQ misses"), (span.slips, "Timing slips")]:
        if value:
            out.append(f"\t{label}: {value}\n")
    out.append("\n")
    for chan in span.channels:
        out.append(f"\t{chan.channo:4d} {chan.name} ")
        if chan.sig:
            out.append(f"{SIGSTR[chan.sig]} ")
        elif not chan.sigcap:
            out.append("Reserved ")
        if chan.is_open:
            out.append("(In use) ")
        out.append("".join(f"{w} " for bit, w in ALARM_WORDS if chan.chan_alarms & bit))
        out.append("\n")
    return "".join(out)


@pytest.fixture
def kernel() -> FakeKernel:
    """A :func:`branch_kernel` for one test (import it into a test module to use it)."""
    return branch_kernel()


@pytest.fixture
def backend(kernel):
    """The real backend on ``kernel``."""
    opened = open_backend("dahdi:///dev/dahdi", io=kernel)
    yield opened
    opened.close()


def branch_kernel() -> FakeKernel:
    """A small branch box: an E1 PRI (hardhdlc on TS16), a dynamic T1 with a software
    D-channel on 24 (as in the qemu bench), and four analog agent ports."""
    kernel = FakeKernel()
    e1 = [SIG_HARDHDLC if pos == 16 else SIG_CLEAR for pos in range(1, 32)]
    kernel.add_span("TE4/0/1", "T4XXP (PCI) Card 0 Span 1", e1, spantype="E1",
                    lineconfig=(1 << 8) | (1 << 9) | (1 << 10), syncsrc=1, master=True)
    t1 = [SIG_HDLCFCS if pos == 24 else SIG_CLEAR for pos in range(1, 25)]
    kernel.add_span("DYN/loc/1:0", "Dynamic 'loc' span at '1:0'", t1, spantype="DYNAM",
                    lineconfig=(1 << 5) | (1 << 7), deflaw=LAW_MULAW)
    kernel.add_span("WCTDM/0", "Wildcard TDM410P", [SIG_FXOKS, SIG_FXOKS, SIG_FXSKS, 0],
                    spantype="FXS")
    return kernel
