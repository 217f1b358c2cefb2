"""The 20 ms media tick: read every span, detect DTMF, play prompts, bridge, record, write.

Every span's B-channels travel as one channel-major G.711 block per tick.  A tick
reads all spans first (a bridge may join channels of two spans), runs the batch DTMF
detector over each whole span block, then builds every span's outgoing block in one
compiled pass (:class:`cython_ext.mixer.Mixer`): silence by default, a prompt's next
160 bytes for a channel that is playing, the peer's incoming bytes for a bridged
channel, and each recorded bridge's two legs appended as stereo G.711.  Python runs
per channel only when something changes (a play, a bridge, a prompt's end), so the
tick's cost barely grows with the calls it carries.
"""
from __future__ import annotations

import array
import logging
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass

from cython_ext import g711
from cython_ext.dtmf import MultiChannelDtmf
from cython_ext.mixer import Mixer
from drivers.dahdi.interface import BLOCK_SAMPLES, IDLE_CODE, DahdiError, SpanMedia

__all__ = ["ChannelRef", "MediaEngine", "Recorder", "SILENCE"]

log = logging.getLogger(__name__)

SILENCE = IDLE_CODE     # G.711's code for 0 per law (drivers.dahdi.interface owns the table)


@dataclass(frozen=True, order=True)
class ChannelRef:
    """A B-channel: its span and its index in that span's media block."""

    span: int
    index: int


class Recorder:
    """Both legs of a call into one stereo WAV: caller left, agent right, 8 kHz.

    ``encoding`` "g711" keeps the line's own octets (an A-law or mu-law WAV, format tag
    6 or 7): a bit-exact copy of what the line carried, half the bytes of 16-bit PCM and
    nothing to decode.  "pcm" decodes to 16-bit linear, as Asterisk's MixMonitor writes
    ``.wav``, for players that know only PCM.

    The tick appends the legs' G.711 bytes to :attr:`buffer`, interleaved (caller,
    agent, caller, ...); writing happens a second at a time (and at close).  The
    header's lengths are brought up to date at each write, so the file is a whole WAV of
    what was written so far even if the service dies in mid-call.

    A recording that cannot be written (a full disk, a directory it may not write to)
    stops, with the one-line reason in :attr:`error` and the log; it never raises, so
    the call it records goes on as if it were not recorded.
    """

    FLUSH_FRAMES = 8000    # one second

    def __init__(self, path: str | os.PathLike, law: str, encoding: str = "g711") -> None:
        self.path = os.fspath(path)   # a str: one a call, and pathlib would cost more than the open
        self.law = law
        self.encoding = encoding
        self._header = _g711_header if encoding == "g711" else _pcm_header
        self.error: str | None = None
        self.buffer = bytearray()      # stereo G.711 frames not yet written
        self._data_bytes = 0
        self._fd: int | None = None    # the file, unbuffered: each write is one system call
        try:
            try:
                self._fd = os.open(self.path, _CREATE, 0o644)
            except FileNotFoundError:     # the first recording there (or the directory was removed)
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                self._fd = os.open(self.path, _CREATE, 0o644)
            _write_all(self._fd, self._header(0, law))
        except OSError as exc:
            self._fail("cannot create", exc)

    def flush(self) -> None:
        """Write what the buffer holds (interleaved G.711 is interleaved stereo frames)."""
        if self._fd is None:              # stopped on an error: what comes is dropped
            self.buffer.clear()
        if not self.buffer:
            return
        data = bytes(self.buffer) if self.encoding == "g711" else _pcm_le(g711.decode(self.buffer, self.law))
        self.buffer.clear()
        try:
            _write_all(self._fd, data)
            os.pwrite(self._fd, self._header(self._data_bytes + len(data), self.law), 0)
            self._data_bytes += len(data)
        except OSError as exc:
            self._fail("cannot write", exc)

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError as exc:      # a network file system reports a lost write here
                self._fail("cannot write", exc)

    def _fail(self, what: str, exc: OSError) -> None:
        self.error = f"{self.path}: {what}: {exc.strerror or exc}"
        log.warning("recording stopped", extra={"kv": {"path": self.path, "error": self.error}})
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass            # it is stopped already, for the reason above


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:                  # a short write (the disk just filled) is followed by ENOSPC
        view = view[os.write(fd, view):]


def _pcm_le(samples: bytes) -> bytes:
    """16-bit samples in the machine's order as WAV's little-endian."""
    if sys.byteorder == "little":
        return samples
    swapped = array.array("h", samples)
    swapped.byteswap()
    return swapped.tobytes()


# The headers of a recording's WAV (stereo, 8 kHz) holding ``data_bytes`` of frames.
# PCM's is the 44 bytes the standard library's wave writes; a G.711 WAV's fmt chunk
# has its cbSize, and a fact chunk (the frame count) follows it, as non-PCM formats must.
_PCM_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
_G711_HEADER = struct.Struct("<4sI4s4sIHHIIHHH4sII4sI")
_G711_TAGS = {"alaw": 6, "ulaw": 7}       # WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW


def _pcm_header(data_bytes: int, law: str) -> bytes:
    return _PCM_HEADER.pack(b"RIFF", _PCM_HEADER.size - 8 + data_bytes, b"WAVE", b"fmt ", 16,
                            1, 2, 8000, 32000, 4, 16, b"data", data_bytes)


def _g711_header(data_bytes: int, law: str) -> bytes:
    return _G711_HEADER.pack(b"RIFF", _G711_HEADER.size - 8 + data_bytes, b"WAVE", b"fmt ", 18,
                             _G711_TAGS[law], 2, 8000, 16000, 2, 8, 0, b"fact", 4, data_bytes // 2,
                             b"data", data_bytes)


@dataclass(eq=False)
class _Bridge:
    """Two channels joined both ways (side a is the caller)."""

    a: ChannelRef
    b: ChannelRef
    recorder: Recorder | None = None


@dataclass
class _Span:
    number: int
    slot: int                       # its index in the mixer
    media: SpanMedia
    detector: MultiChannelDtmf
    size: int                       # bytes in one block
    listening: bytearray            # per channel: 1 if someone wants its digits (DTMF runs there only)
    detached: bool = False          # its device is gone: no more blocks


class MediaEngine:
    """Owns the media of every span; the call layer asks it to play, listen and bridge."""

    def __init__(self, spans: dict[int, SpanMedia], law: str = "alaw", block: int = BLOCK_SAMPLES,
                 on_device_lost: Callable[[int, DahdiError], None] | None = None) -> None:
        """``on_device_lost(span, error)``: a span's device failed a read or write in a tick;
        the span is detached and the tick goes on with the others (without it, the error
        is raised)."""
        self.law = law
        self.on_device_lost = on_device_lost
        self.block = block
        self._spans: dict[int, _Span] = {}
        for slot, (number, media) in enumerate(sorted(spans.items())):
            n = len(media.channels)
            self._spans[number] = _Span(number, slot, media, MultiChannelDtmf(n, law=law), n * block, bytearray(n))
        self._order = list(self._spans.values())       # mixer slot order
        self._mixer = Mixer([len(span.media.channels) for span in self._order], block, SILENCE[law])
        self._on_done: dict[ChannelRef, Callable[[], None] | None] = {}   # what is playing
        self._bridges: dict[ChannelRef, _Bridge] = {}             # each side -> its bridge
        self._taps: dict[int, Recorder] = {}                      # id(recorder.buffer) -> recorder
        self._dtmf_listeners: dict[ChannelRef, Callable[[str], None]] = {}
        self.ticks = 0
        self.missed_blocks = 0
        self.recording_failures = 0     # recordings stopped by a file error (see Recorder)
        self.digits_detected = 0

    # -- what the call layer asks -------------------------------------------------------
    def play(self, channel: ChannelRef, audio: list[bytes] | bytes, on_done: Callable[[], None] | None = None,
             loop: bool = False) -> None:
        """Play G.711 audio (one buffer or several in turn); ``on_done`` after the last byte.

        A new play replaces what the channel was playing (whose ``on_done`` is dropped).
        """
        if isinstance(audio, (bytes, bytearray, memoryview)):
            audio = bytes(audio)
        else:
            audio = b"".join(audio)
        self._mixer.play(self._spans[channel.span].slot, channel.index, audio, loop)
        self._on_done[channel] = on_done

    def stop(self, channel: ChannelRef) -> None:
        if channel in self._on_done:
            del self._on_done[channel]
            self._mixer.stop(self._spans[channel.span].slot, channel.index)

    def is_playing(self, channel: ChannelRef) -> bool:
        return channel in self._on_done

    def listen(self, channel: ChannelRef, on_digit: Callable[[str], None] | None) -> None:
        """Send this channel's DTMF digits to ``on_digit`` (None stops listening)."""
        span = self._spans.get(channel.span)
        if span is not None and span.detached:
            span = None
        if on_digit is None:
            if self._dtmf_listeners.pop(channel, None) is not None and span is not None:
                span.listening[channel.index] = 0
            return
        if channel not in self._dtmf_listeners and span is not None:
            if 1 in span.listening:
                span.detector.reset_channel(channel.index)   # this channel was not fed
            else:
                span.detector.reset()   # the span was not fed while nobody listened
            span.listening[channel.index] = 1
        self._dtmf_listeners[channel] = on_digit

    def bridge(self, caller: ChannelRef, agent: ChannelRef, recorder: Recorder | None = None) -> None:
        if recorder is not None and recorder.error is not None:    # its file could not be made
            self.recording_failures += 1
            recorder = None          # nothing to tap each tick
        self.stop(caller)
        self.stop(agent)
        for side in (caller, agent):        # a channel is in one bridge at a time
            self.unbridge(side)
        a, b = self._spans[caller.span], self._spans[agent.span]
        self._mixer.connect(a.slot, caller.index, b.slot, agent.index,
                            recorder.buffer if recorder is not None else None)
        self._mixer.connect(b.slot, agent.index, a.slot, caller.index)
        self._bridges[caller] = self._bridges[agent] = _Bridge(caller, agent, recorder)
        if recorder is not None:
            self._taps[id(recorder.buffer)] = recorder

    def unbridge(self, channel: ChannelRef) -> Recorder | None:
        """Break the bridge this channel is in; returns its recorder (closed) if it had one."""
        link = self._bridges.get(channel)
        if link is None:
            return None
        for side in (link.a, link.b):
            del self._bridges[side]
            self._mixer.disconnect(self._spans[side.span].slot, side.index)
        if link.recorder is not None:
            del self._taps[id(link.recorder.buffer)]
            self._write_out(link.recorder, closing=True)
        return link.recorder

    def release(self, channel: ChannelRef) -> None:
        """The channel's call is gone: stop everything on it."""
        self.stop(channel)
        self.listen(channel, None)
        self.unbridge(channel)

    def detach(self, span: int) -> None:
        """Stop ticking a span whose device is gone; its channels fall silent."""
        detached = self._spans.get(span)
        if detached is not None:
            detached.detached = True
            detached.listening[:] = bytes(len(detached.listening))

    def reattach(self, number: int, media: SpanMedia) -> None:
        """Tick a span again on its re-opened device; channels still listened to get their
        digits again."""
        span = self._spans[number]
        span.media, span.detached = media, False
        span.listening[:] = bytes(len(span.listening))
        for channel in self._dtmf_listeners:
            if channel.span == number:
                span.listening[channel.index] = 1
        span.detector.reset()

    # -- the tick -----------------------------------------------------------------------
    def tick(self, blocks: dict[int, bytes] | None = None) -> int:
        """One 20 ms step over every span; returns the number of spans that had a block.

        ``blocks`` (span -> block) are blocks the caller has already read; spans not in it
        are read here.  A span with no block this time is counted and left alone.
        """
        self.ticks += 1
        incoming: list[bytes | None] = []
        for span in self._order:
            if span.detached:
                incoming.append(None)
                continue
            block = blocks.get(span.number) if blocks is not None else None
            if block is None:
                try:
                    block = span.media.read_block()
                except DahdiError as exc:
                    self._device_lost(span, exc)
                    incoming.append(None)
                    continue
            if block is None or len(block) != span.size:
                self.missed_blocks += 1
                block = None
            elif type(block) is not bytes:
                block = bytes(block)
            incoming.append(block)
        for span, block in zip(self._order, incoming):
            if block is not None and 1 in span.listening:
                self._detect(span, block)
        outgoing, finished, full = self._mixer.tick(incoming, 2 * Recorder.FLUSH_FRAMES)
        ready = 0
        for span, block in zip(self._order, outgoing):
            if block is not None:
                try:
                    span.media.write_block(block)
                except DahdiError as exc:     # gone between its read and now (a card pulled)
                    self._device_lost(span, exc)
                    continue
                ready += 1
        for tap in full:
            self._write_out(self._taps[id(tap)])
        for slot, index in finished:
            on_done = self._on_done.pop(ChannelRef(self._order[slot].number, index), None)
            if on_done is not None:
                on_done()
        return ready

    def _device_lost(self, span: _Span, exc: DahdiError) -> None:
        if self.on_device_lost is None:
            raise exc
        self.detach(span.number)
        self.on_device_lost(span.number, exc)

    def _write_out(self, recorder: Recorder, closing: bool = False) -> None:
        """Flush (or close) a recorder, counting the recordings that stop on an error."""
        failed = recorder.error is not None
        if closing:
            recorder.close()
        else:
            recorder.flush()
        if recorder.error is not None and not failed:
            self.recording_failures += 1

    def _detect(self, span: _Span, block: bytes) -> None:
        for index, event in span.detector.feed(block, span.listening):
            self.digits_detected += 1
            listener = self._dtmf_listeners.get(ChannelRef(span.number, index))
            if listener is not None:
                listener(event.digit)
