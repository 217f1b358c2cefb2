"""The interface's channel objects on real DAHDI channels: span media, D-channel, one channel."""
from __future__ import annotations

import logging

from drivers.dahdi.interface import Channel, ChannelEvent, DahdiError, DChannel, HookOp, Mode, SpanMedia
from drivers.dahdi.real.chanfile import SILENCE, ChannelFile, ChannelStats

__all__ = ["RealSpanMedia", "RealDChannel", "RealChannel", "HDLC_BUFSIZE", "HDLC_NUMBUFS", "FCS_LEN"]

log = logging.getLogger(__name__)

# D-channel buffering as chan_dahdi sets it for libpri: 32 frames of up to 1024 bytes.
HDLC_BUFSIZE = 1024
HDLC_NUMBUFS = 32
# Software HDLC (dchan): each write carries two spare bytes the kernel overwrites with the
# FCS, and each read returns the frame followed by its two FCS bytes.  libpri does the same
# on hardware HDLC (hardhdlc), so both are handled alike.
FCS_LEN = 2
_MIN_FRAME = 3  # LAPD address (2 bytes) and control (1 byte)


class RealSpanMedia(SpanMedia):
    """The B-channels of one span, each on its own descriptor, read and written as one block.

    DAHDI fills each channel's 20 ms block on that channel's own schedule: a block ends
    160 samples after the channel's receive buffer last restarted (at open, at a flush,
    at a read that follows an overrun), so the channels of one span need not finish their
    blocks in the same millisecond.  A span block is therefore gathered: :meth:`read_block`
    reads every channel whose next block is ready and holds it, and returns the span block
    only once every channel has given its own; until then it returns None.  No channel's
    audio is dropped, reordered or replaced by fill: a late channel holds the span back,
    and the others wait in the kernel's buffers meanwhile.

    :meth:`fileno` is a ready set (epoll) over the channels still missing their block, so
    it polls readable exactly when :meth:`read_block` can take a step, and a reader waiting
    on it never spins on a channel whose block is already held.  :attr:`partial_reads`
    counts the steps that found the span incomplete (channels out of phase).
    """

    def __init__(self, files: list[ChannelFile], mode: Mode, blocksize: int) -> None:
        if not files:
            raise DahdiError("a span media object needs at least one channel")
        self._files = files
        self.channels = tuple(f.channo for f in files)
        self.mode = mode
        self.blocksize = blocksize
        self._block_bytes = blocksize * len(SILENCE[mode])
        self._silence = SILENCE[mode] * blocksize
        self._held: list[bytes | None] = [None] * len(files)
        self._ready = files[0].io.ready_set()
        self._disarmed: set[int] = set()
        try:
            for file in files:
                self._ready.add(file.fileno())
        except BaseException:
            self._ready.close()
            raise
        self.partial_reads = 0

    def fileno(self) -> int:
        return self._ready.fileno()

    def read_block(self) -> bytes | None:
        held = self._held
        for index, file in enumerate(self._files):
            if held[index] is None:
                held[index] = self._read_one(file)
        if None in held:
            # Wait for the missing channels only: a held channel may already have its
            # next block queued, and that must not make the span look ready.
            self.partial_reads += 1
            for file, data in zip(self._files, held):
                if data is not None and file.fileno() not in self._disarmed:
                    self._ready.arm(file.fileno(), False)
                    self._disarmed.add(file.fileno())
            return None
        for fd in self._disarmed:
            self._ready.arm(fd, True)
        self._disarmed.clear()
        self._held = [None] * len(self._files)
        return b"".join(held)

    def write_block(self, block: bytes) -> None:
        size = self._block_bytes
        if len(block) != size * len(self._files):
            raise ValueError(f"span block must be {len(self._files)} channels x {size} bytes "
                             f"= {size * len(self._files)} bytes, got {len(block)}")
        view = memoryview(block)
        for index, file in enumerate(self._files):
            file.write(bytes(view[index * size:(index + 1) * size]))

    def events(self) -> list[ChannelEvent]:
        return [event for file in self._files for event in file.take_events()]

    def events_seen(self) -> list[ChannelEvent]:
        # A read that meets a queued event (ELAST) drains it; asking every channel
        # (DAHDI_GETEVENT each) after every block is what this spares the service.
        return [event for file in self._files for event in file.take_pending()]

    def close(self) -> None:
        self._ready.close()
        for file in self._files:
            file.close()

    def _read_one(self, file: ChannelFile) -> bytes | None:
        data = file.read(self._block_bytes)
        if data is not None and len(data) < self._block_bytes:
            file.stats.short_reads += 1
            data = data + self._silence[len(data):]
        return data


class RealDChannel(DChannel):
    """An HDLC D-channel (``dchan`` or ``hardhdlc`` in system.conf) carrying whole LAPD frames."""

    def __init__(self, file: ChannelFile) -> None:
        self._file = file
        self.span = file.span
        self.channo = file.channo
        file.set_buffers(HDLC_NUMBUFS, HDLC_BUFSIZE)

    @property
    def stats(self) -> ChannelStats:
        return self._file.stats

    def fileno(self) -> int:
        return self._file.fileno()

    def send(self, frame: bytes) -> None:
        if not _MIN_FRAME <= len(frame) <= HDLC_BUFSIZE - FCS_LEN:
            raise ValueError(f"a D-channel frame is {_MIN_FRAME}..{HDLC_BUFSIZE - FCS_LEN} bytes, got {len(frame)}")
        if not self._file.write(bytes(frame) + b"\x00" * FCS_LEN):
            log.warning("event=dchannel_tx_dropped span=%d channo=%d", self.span, self.channo)

    def recv(self) -> bytes | None:
        while True:
            data = self._file.read(HDLC_BUFSIZE)
            if data is None:
                return None
            if len(data) >= _MIN_FRAME + FCS_LEN:
                return data[:-FCS_LEN]
            self._file.stats.bad_frames += 1
            log.debug("event=short_hdlc_frame span=%d channo=%d length=%d", self.span, self.channo, len(data))

    def events(self) -> list[ChannelEvent]:
        return self._file.take_events()

    def close(self) -> None:
        self._file.close()


class RealChannel(Channel):
    """One channel on its own: an FXS/FXO port or a single B-channel."""

    def __init__(self, file: ChannelFile, mode: Mode, blocksize: int) -> None:
        self._file = file
        self.channo = file.channo
        self.mode = mode
        self.blocksize = blocksize
        self._block_bytes = blocksize * len(SILENCE[mode])

    @property
    def stats(self) -> ChannelStats:
        return self._file.stats

    def fileno(self) -> int:
        return self._file.fileno()

    def read(self) -> bytes | None:
        return self._file.read(self._block_bytes)

    def write(self, block: bytes) -> None:
        self._file.write(bytes(block))

    def hook(self, op: HookOp) -> None:
        self._file.hook(op)

    def events(self) -> list[ChannelEvent]:
        return self._file.take_events()

    def close(self) -> None:
        self._file.close()
