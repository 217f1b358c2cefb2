"""The 20 ms media tick: read every span, detect DTMF, play prompts, bridge, record, write.

Every span's B-channels travel as one channel-major G.711 block per tick.  A tick
reads all spans first (a bridge may join channels of two spans), runs the batch DTMF
detector over each whole span block, then builds each span's outgoing block: silence
by default, a prompt's next 160 bytes for a channel that is playing, the peer's
incoming bytes for a bridged channel.  Per-channel Python work happens only for
channels that are doing something, so idle capacity costs nothing.
"""
from __future__ import annotations

import array
import logging
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cython_ext import g711
from cython_ext.dtmf import MultiChannelDtmf
from drivers.dahdi.interface import BLOCK_SAMPLES, SpanMedia

__all__ = ["ChannelRef", "MediaEngine", "Recorder", "SILENCE"]

log = logging.getLogger(__name__)

SILENCE = {"alaw": 0xD5, "ulaw": 0xFF}  # the code for 0 (A-law's idle pattern is 0x55 ^ 0x80)


@dataclass(frozen=True, order=True)
class ChannelRef:
    """A B-channel: its span and its index in that span's media block."""

    span: int
    index: int


@dataclass(eq=False)
class _Playback:
    span: "_Span"                     # where the channel's bytes go, looked up once
    start: int                        # the channel's offset in the span block
    chunks: deque[memoryview]
    on_done: Callable[[], None] | None
    offset: int = 0
    loop: bool = False
    original: tuple[memoryview, ...] = ()


class Recorder:
    """Both legs of a call into one stereo WAV: caller left, agent right (8 kHz, 16-bit).

    The tick only appends each leg's G.711 bytes; decoding and writing happen a second
    at a time (and at close), so a recorded call costs the tick two byte copies.
    """

    FLUSH_BYTES = 8000    # one second of each leg

    def __init__(self, path: str | Path, law: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.law = law
        self._wav = wave.open(str(self.path), "wb")
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(8000)
        self._caller = bytearray()
        self._agent = bytearray()
        self.frames = 0

    def write(self, caller: bytes, agent: bytes) -> None:
        self._caller += caller
        self._agent += agent
        if len(self._caller) >= self.FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        left = array.array("h", g711.decode(self._caller, self.law))
        right = array.array("h", g711.decode(self._agent, self.law))
        frames = array.array("h", bytes(4 * len(left)))
        frames[0::2] = left
        frames[1::2] = right
        self._wav.writeframesraw(frames.tobytes())   # the header is written once, at close
        self.frames += len(left)
        self._caller.clear()
        self._agent.clear()

    def close(self) -> None:
        if self._caller:
            self._flush()
        self._wav.close()


@dataclass(eq=False)
class _Bridge:
    """Two channels joined both ways (side a is the caller), resolved once when bridged."""

    a: "_Span"
    a_start: int
    b: "_Span"
    b_start: int
    recorder: Recorder | None = None


@dataclass
class _Span:
    number: int
    media: SpanMedia
    detector: MultiChannelDtmf
    silence: bytes
    incoming: bytes = b""
    outgoing: bytearray = field(default_factory=bytearray)
    listeners: int = 0              # channels whose digits someone wants


class MediaEngine:
    """Owns the media of every span; the call layer asks it to play, listen and bridge."""

    def __init__(self, spans: dict[int, SpanMedia], law: str = "alaw", block: int = BLOCK_SAMPLES) -> None:
        self.law = law
        self.block = block
        self._spans: dict[int, _Span] = {}
        for number, media in sorted(spans.items()):
            n = len(media.channels)
            silence = bytes([SILENCE[law]]) * (n * block)
            self._spans[number] = _Span(number, media, MultiChannelDtmf(n, law=law), silence)
        self._playing: dict[ChannelRef, _Playback] = {}
        self._bridges: dict[ChannelRef, _Bridge] = {}             # each side -> its bridge
        self._links: set[_Bridge] = set()
        self._dtmf_listeners: dict[ChannelRef, Callable[[str], None]] = {}
        self.ticks = 0
        self.missed_blocks = 0
        self.digits_detected = 0

    # -- what the call layer asks -------------------------------------------------------
    def channels(self, span: int) -> int:
        return len(self._spans[span].media.channels)

    def play(self, channel: ChannelRef, audio: list[bytes] | bytes, on_done: Callable[[], None] | None = None,
             loop: bool = False) -> None:
        """Play G.711 audio (one buffer or several in turn); ``on_done`` after the last byte.

        A new play replaces what the channel was playing (whose ``on_done`` is dropped).
        """
        chunks = tuple(memoryview(c) for c in ((audio,) if isinstance(audio, (bytes, bytearray)) else audio) if c)
        span = self._spans[channel.span]
        self._playing[channel] = _Playback(span, channel.index * self.block, deque(chunks), on_done,
                                           loop=loop, original=chunks)

    def stop(self, channel: ChannelRef) -> None:
        self._playing.pop(channel, None)

    def is_playing(self, channel: ChannelRef) -> bool:
        return channel in self._playing

    def listen(self, channel: ChannelRef, on_digit: Callable[[str], None] | None) -> None:
        """Send this channel's DTMF digits to ``on_digit`` (None stops listening)."""
        span = self._spans.get(channel.span)
        if on_digit is None:
            if self._dtmf_listeners.pop(channel, None) is not None and span is not None:
                span.listeners -= 1
            return
        if channel not in self._dtmf_listeners and span is not None:
            if not span.listeners:
                span.detector.reset()   # it was not fed while nobody listened
            span.listeners += 1
        self._dtmf_listeners[channel] = on_digit

    def bridge(self, caller: ChannelRef, agent: ChannelRef, recorder: Recorder | None = None) -> None:
        self.stop(caller)
        self.stop(agent)
        link = _Bridge(self._spans[caller.span], caller.index * self.block,
                       self._spans[agent.span], agent.index * self.block, recorder)
        self._bridges[caller] = self._bridges[agent] = link
        self._links.add(link)

    def unbridge(self, channel: ChannelRef) -> Recorder | None:
        """Break the bridge this channel is in; returns its recorder (closed) if it had one."""
        link = self._bridges.pop(channel, None)
        if link is None:
            return None
        for ref, other in list(self._bridges.items()):
            if other is link:
                del self._bridges[ref]
        self._links.discard(link)
        if link.recorder is not None:
            link.recorder.close()
        return link.recorder

    def release(self, channel: ChannelRef) -> None:
        """The channel's call is gone: stop everything on it."""
        self.stop(channel)
        self.listen(channel, None)
        self.unbridge(channel)

    def detach(self, span: int) -> None:
        """Stop ticking a span whose device is gone; its channels fall silent."""
        detached = self._spans.pop(span, None)
        if detached is not None:
            detached.incoming = b""

    # -- the tick -----------------------------------------------------------------------
    def tick(self, blocks: dict[int, bytes] | None = None) -> int:
        """One 20 ms step over every span; returns the number of spans that had a block.

        ``blocks`` (span -> block) are blocks the caller has already read; spans not in it
        are read here.  A span with no block this time is counted and left alone.
        """
        self.ticks += 1
        ready = []
        for number, span in self._spans.items():
            block = blocks.get(number) if blocks is not None else None
            if block is None:
                block = span.media.read_block()
            if block is None:
                self.missed_blocks += 1
                span.incoming = b""
                continue
            span.incoming = block
            ready.append(span)
        for span in ready:
            self._detect(span)
        for span in ready:
            span.outgoing = bytearray(span.silence)
        self._fill_playback()
        self._fill_bridges()
        for span in ready:
            span.media.write_block(bytes(span.outgoing))
        return len(ready)

    def _detect(self, span: _Span) -> None:
        if not span.listeners:
            return          # nobody on this span is listening (the agents' side, idle trunks)
        for index, event in span.detector.feed(span.incoming):
            self.digits_detected += 1
            listener = self._dtmf_listeners.get(ChannelRef(span.number, index))
            if listener is not None:
                listener(event.digit)

    def _fill_playback(self) -> None:
        block = self.block
        finished = []
        for ref, playback in self._playing.items():
            out = playback.span.outgoing
            if not playback.span.incoming:
                continue
            start, chunks = playback.start, playback.chunks
            chunk, offset = chunks[0] if chunks else None, playback.offset
            if chunk is not None and offset + block < len(chunk):   # the common case: mid-prompt
                out[start:start + block] = chunk[offset:offset + block]
                playback.offset = offset + block
                continue
            filled = 0
            while filled < block and chunks:
                chunk = chunks[0]
                take = min(block - filled, len(chunk) - playback.offset)
                out[start + filled:start + filled + take] = chunk[playback.offset:playback.offset + take]
                filled += take
                playback.offset += take
                if playback.offset >= len(chunk):
                    chunks.popleft()
                    playback.offset = 0
                    if not chunks and playback.loop:
                        chunks.extend(playback.original)
            if not chunks:
                finished.append(ref)
        for ref in finished:
            playback = self._playing.pop(ref)
            if playback.on_done is not None:
                playback.on_done()

    def _fill_bridges(self) -> None:
        block = self.block
        for link in self._links:
            a, b = link.a, link.b
            if not a.incoming or not b.incoming:     # a span without a block (or detached)
                continue
            heard_a = a.incoming[link.a_start:link.a_start + block]
            heard_b = b.incoming[link.b_start:link.b_start + block]
            a.outgoing[link.a_start:link.a_start + block] = heard_b
            b.outgoing[link.b_start:link.b_start + block] = heard_a
            if link.recorder is not None:
                link.recorder.write(heard_a, heard_b)
