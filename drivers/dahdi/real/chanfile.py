"""One DAHDI channel opened through ``/dev/dahdi/channel`` and bound with ``DAHDI_SPECIFY``.

This is the layer every real channel object (span media, D-channel, single channel)
stands on: it owns the descriptor, sets the channel up (block size, buffers, G.711 law or
linear), and turns the kernel's habits into plain results:

- non-blocking I/O: "nothing ready" / "no room" is ``None`` / ``False``, not an exception;
- a read or write the kernel refuses with ``ELAST`` means an event is queued: the events
  are drained with ``DAHDI_GETEVENT`` into :attr:`pending` and the I/O is retried once;
- any other refusal is a :class:`~drivers.dahdi.interface.DahdiError` naming the channel.
"""
from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass

from drivers.dahdi.interface import IDLE_CODE, ChannelEvent, DahdiError, EventType, HookOp, Mode
from drivers.dahdi.real import abi
from drivers.dahdi.real.device import DeviceIO, dahdi_error, ioctl_int, ioctl_struct

__all__ = ["ChannelFile", "ChannelStats", "SILENCE"]

log = logging.getLogger(__name__)

# One sample of silence in each mode (G.711's idle codes, or a linear zero).
SILENCE = {**{law: bytes([code]) for law, code in IDLE_CODE.items()}, "linear": b"\x00\x00"}
_LAW = {"alaw": abi.Law.ALAW, "ulaw": abi.Law.MULAW}
_KNOWN_EVENTS = frozenset(int(e) for e in EventType)


@dataclass
class ChannelStats:
    """What went wrong on a channel without being fatal (counted, logged at debug)."""

    short_reads: int = 0       # a read returned less than a whole block
    tx_dropped: int = 0        # a write found the kernel's buffers full
    unknown_events: int = 0    # DAHDI_GETEVENT returned a code qbox does not know
    bad_frames: int = 0        # HDLC frames too short to hold address, control and FCS


class ChannelFile:
    """An open, bound DAHDI channel; ``io`` performs the system calls."""

    def __init__(self, io: DeviceIO, root: str, channo: int) -> None:
        self.io = io
        self.channo = channo
        self.pending: list[ChannelEvent] = []
        self.stats = ChannelStats()
        self.bytes_per_sample = 1
        path = f"{root}/channel"
        try:
            self.fd = io.open(path, os.O_RDWR | os.O_NONBLOCK)
        except OSError as exc:
            raise dahdi_error(f"{path}: cannot open: {exc.strerror}", exc.errno) from None
        try:
            ioctl_int(io, self.fd, abi.DAHDI_SPECIFY, channo)
            self.params = self.get_params()
        except OSError as exc:
            self.io.close(self.fd)
            reason = {errno.ENXIO: "is not configured (see /etc/dahdi/system.conf)",
                      errno.EBUSY: "is already open or is not a plain channel",
                      errno.EINVAL: "does not exist"}.get(exc.errno or 0, exc.strerror)
            raise dahdi_error(f"DAHDI channel {channo} {reason}", exc.errno) from None
        self.span = self.params.spanno
        self.sigtype = self.params.sigtype
        self.name = self.params.name.decode("ascii", "replace")

    def fileno(self) -> int:
        return self.fd

    # --- set-up

    def get_params(self) -> abi.DahdiParams:
        return ioctl_struct(self.io, self.fd, abi.DAHDI_GET_PARAMS, abi.DahdiParams(channo=self.channo))

    def set_blocksize(self, samples: int) -> None:
        """Make every read and write one block of ``samples`` (8 kHz: 160 = 20 ms)."""
        self._ioctl_int(abi.DAHDI_SET_BLOCKSIZE, samples, "set the block size")
        got = self._ioctl_int(abi.DAHDI_GET_BLOCKSIZE, 0, "read the block size back")
        if got != samples:
            raise DahdiError(f"DAHDI channel {self.channo}: block size {samples} not taken (kernel says {got})")

    def set_buffers(self, numbufs: int, bufsize: int | None = None,
                    policy: abi.Policy = abi.Policy.IMMEDIATE) -> None:
        """Queue ``numbufs`` buffers of ``bufsize`` bytes (default: keep the block size)."""
        info = self._ioctl_struct(abi.DAHDI_GET_BUFINFO, abi.DahdiBufferInfo(), "read the buffer set-up")
        info.numbufs = numbufs
        info.bufsize = bufsize or info.bufsize
        info.txbufpolicy = info.rxbufpolicy = policy
        self._ioctl_struct(abi.DAHDI_SET_BUFINFO, info, "set the buffers")

    def set_mode(self, mode: Mode) -> None:
        """Read and write G.711 A-law, mu-law, or 16-bit signed little-endian linear samples.

        A channel configured ``bchan`` (signalling Clear) carries raw timeslot bytes until it
        is put in audio mode; only then does the kernel convert law and do linear.
        """
        if mode not in SILENCE:
            raise DahdiError(f"DAHDI channel {self.channo}: unknown mode {mode!r} (alaw, ulaw, linear)")
        if self.sigtype == abi.Sig.CLEAR:
            self._ioctl_int(abi.DAHDI_AUDIOMODE, 1, "enter audio mode")
        if mode == "linear":
            self._ioctl_int(abi.DAHDI_SETLINEAR, 1, "switch to linear")
        else:
            self._ioctl_int(abi.DAHDI_SETLINEAR, 0, "leave linear")
            self._ioctl_int(abi.DAHDI_SETLAW, _LAW[mode], f"switch to {mode}")
        self.bytes_per_sample = len(SILENCE[mode])

    def flush_read(self) -> None:
        """Drop what the kernel has received (DAHDI_FLUSH_READ); the next block starts now.

        A channel's 20 ms block boundary is wherever its receive buffer last started
        filling (at open, at a block size or buffer change, here), so flushing the
        channels of a span one right after another puts them in phase.
        """
        self._ioctl_int(abi.DAHDI_FLUSH, abi.Flush.READ, "flush its receive buffers")

    # --- I/O

    def read(self, size: int) -> bytes | None:
        """One buffer (a block, or an HDLC frame with its FCS); None if nothing is ready."""
        for attempt in (1, 2):
            try:
                return self.io.read(self.fd, size)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    return None
                if exc.errno == abi.ELAST and attempt == 1:
                    self.drain_events()
                    continue
                raise self._error(exc, "read") from None
        return None

    def write(self, data: bytes) -> bool:
        """Queue ``data``; False (and counted) when the kernel's buffers are full."""
        for attempt in (1, 2):
            try:
                written = self.io.write(self.fd, data)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    break
                if exc.errno == abi.ELAST and attempt == 1:
                    self.drain_events()
                    continue
                raise self._error(exc, "write") from None
            if written != len(data):
                raise DahdiError(f"DAHDI channel {self.channo}: wrote {written} of {len(data)} bytes")
            return True
        self.stats.tx_dropped += 1
        log.debug("event=tx_dropped channo=%d count=%d", self.channo, self.stats.tx_dropped)
        return False

    def hook(self, op: HookOp) -> None:
        self._ioctl_int(abi.DAHDI_HOOK, int(op), f"hook {HookOp(op).name}")

    # --- events

    def drain_events(self) -> None:
        """Move every queued kernel event into :attr:`pending` (DAHDI_GETEVENT until NONE)."""
        for _ in range(64 + 1):  # DAHDI_MAX_EVENTSIZE: the queue cannot hold more
            code = self._ioctl_int(abi.DAHDI_GETEVENT, 0, "read an event")
            if code == EventType.NONE:
                return
            if code not in _KNOWN_EVENTS:
                self.stats.unknown_events += 1
                log.debug("event=unknown_dahdi_event channo=%d code=0x%x", self.channo, code)
                continue
            self.pending.append(ChannelEvent(channo=self.channo, type=EventType(code), span=self.span))

    def take_events(self) -> list[ChannelEvent]:
        """Drain the kernel's queue and hand over everything pending, oldest first."""
        self.drain_events()
        return self.take_pending()

    def take_pending(self) -> list[ChannelEvent]:
        """Hand over the events reads and writes already drained (no system call)."""
        events, self.pending = self.pending, []
        return events

    def close(self) -> None:
        if self.fd >= 0:
            self.io.close(self.fd)
            self.fd = -1

    # --- helpers

    def _ioctl_int(self, request: abi.Ioctl, value: int, what: str) -> int:
        try:
            return ioctl_int(self.io, self.fd, request, value)
        except OSError as exc:
            raise self._error(exc, what) from None

    def _ioctl_struct(self, request: abi.Ioctl, struct, what: str):
        try:
            return ioctl_struct(self.io, self.fd, request, struct)
        except OSError as exc:
            raise self._error(exc, what) from None

    def _error(self, exc: OSError, what: str) -> DahdiError:
        return dahdi_error(f"DAHDI channel {self.channo}: cannot {what}: {exc.strerror or exc}", exc.errno)
