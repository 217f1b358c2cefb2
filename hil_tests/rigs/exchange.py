"""The far side of every simulated span: the exchange on the trunks, the agent PBX on the agent side.

An :class:`Exchange` holds, for each span of the box configuration, qbox's own ISDN
:class:`~appliance.isdn.stack.Stack` on the far end's D-channel, in the role
opposite the service's: the NETWORK side facing a ``pri_cpe`` trunk, the USER side
(the agent PBX) facing a ``pri_net`` agent span.  It also carries the media: for
every block the service sends on a span it hands each bot its channel's 20 ms and
answers with one block made of what each bot is saying (silence elsewhere).  A
channel's place in the block is the position order of the span's B-channels, the
mapping the service uses too.

Time: the exchange's bots and stacks run on their own
:class:`~drivers.clock.ManualClock`, moved by :meth:`Exchange.poll` (real time) or
:meth:`Exchange.step` (lock-step).  In lock-step the far end's clock is manual as
well and moves 20 ms only once the service has answered the previous block on every
span with open media, so a run takes as long as the work in it and no block is
ever missed.

Everything runs on the thread that calls poll/step; stack events are queued and
handed out after the stack returns, so a bot may call the stack from its handler.
"""
from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from appliance.config import BoxConfig, SpanConfig
from appliance.isdn.call import Call, CallEvent
from appliance.isdn.pcap import PcapWriter
from appliance.isdn.stack import Stack
from appliance.isdn.variants import VARIANTS
from drivers.clock import ManualClock
from drivers.dahdi.interface import BLOCK_SAMPLES, IDLE_CODE
from drivers.dahdi.sim import FarEnd, FarSpan
from drivers.dahdi.sim.farend import TICK

__all__ = ["Exchange", "Line", "CallHandler", "TICK"]

log = logging.getLogger(__name__)

_REALTIME_LEAD = 3           # real time: blocks kept queued toward the service (60 ms of jitter buffer)
_REALTIME_BACKLOG = 6        # real time: more than this queued and the rig skips a block
_STALL_TIMEOUT = 20.0        # lock-step: real seconds to wait for the service's block (a loaded box is slow)


class CallHandler(Protocol):
    """A bot that owns a call: the stack's events for it arrive here."""

    def on_call_event(self, event: CallEvent) -> None: ...


class Line:
    """One B-channel at the far end, as the bot on the call uses it.

    ``play`` queues G.711 audio (each piece's ``on_done`` runs once its last byte has
    gone to the service); between and after pieces the line sends ``background`` (a
    talk tone) or silence.  ``hear``, if set, gets the service's 20 ms on the channel.
    """

    def __init__(self, span: int, channel: int, index: int, law: str) -> None:
        self.span = span
        self.channel = channel
        self.index = index
        self.law = law
        self.background: bytes | None = None
        self.hear: Callable[[bytes], None] | None = None
        self._silence = bytes([IDLE_CODE[law]]) * BLOCK_SAMPLES
        self._queue: deque[tuple[bytes, Callable[[], None] | None]] = deque()
        self._offset = 0

    def play(self, audio: bytes, on_done: Callable[[], None] | None = None) -> None:
        self._queue.append((bytes(audio), on_done))

    def stop(self) -> None:
        """Drop queued audio (their ``on_done`` never runs) and the background."""
        self._queue.clear()
        self._offset = 0
        self.background = None

    @property
    def playing(self) -> bool:
        return bool(self._queue)

    def next_block(self) -> bytes | None:
        """The next 20 ms this line sends, or None for silence."""
        if not self._queue:
            return self.background
        out = bytearray()
        while self._queue and len(out) < BLOCK_SAMPLES:
            audio, on_done = self._queue[0]
            take = audio[self._offset:self._offset + BLOCK_SAMPLES - len(out)]
            out += take
            self._offset += len(take)
            if self._offset >= len(audio):
                self._queue.popleft()
                self._offset = 0
                if on_done is not None:
                    on_done()
        if len(out) < BLOCK_SAMPLES:
            out += (self.background or self._silence)[len(out):]
        return bytes(out)


@dataclass
class _Side:
    """One span as the far end sees it."""

    config: SpanConfig
    far: FarSpan
    stack: Stack
    law: str
    positions: tuple[int, ...]                 # Q.931 channel number of each block index
    silence: bytes
    lines: dict[int, Line] = field(default_factory=dict)
    owed: int = 0                              # lock-step: blocks the service still owes us
    primed: bool = False                       # real time: the jitter buffer has been filled once

    @property
    def number(self) -> int:
        return self.config.number


def _variant(span: SpanConfig) -> str:
    if span.switchtype in VARIANTS:
        return span.switchtype
    return "euroisdn" if span.type == "e1" else "ni2"


class Exchange:
    """The far end's signalling and media for every span of ``config``.

    ``on_setup(span, call)`` is told of each call the service places (the SETUP's
    called and calling numbers are on ``call``); it must give the call a handler
    with :meth:`attach` or clear it.  ``capture_dir``, if given, receives each span's
    D-channel as ``spanN.pcap`` (LINUX_LAPD: ``tshark -r`` dissects it down to Q.931).
    """

    def __init__(self, farend: FarEnd, config: BoxConfig, *, on_setup: Callable[[int, Call], None],
                 lockstep: bool = False, clock: ManualClock | None = None, strict: bool = False,
                 stall_timeout: float = _STALL_TIMEOUT, capture_dir: str | Path | None = None) -> None:
        if lockstep and farend.realtime:
            raise ValueError("lock-step needs a far end on a manual clock (FarEnd(..., clock=ManualClock()))")
        self.farend = farend
        self.config = config
        self.lockstep = lockstep
        self.clock = clock or ManualClock()
        self.on_setup = on_setup
        self.stall_timeout = stall_timeout
        self.counters: Counter[str] = Counter()
        self.stalls = 0                            # lock-step: waits in a row the service never answered
        self._events: deque[tuple[int, CallEvent]] = deque()
        self._origin = time.monotonic() - self.clock.now()
        self._sides: dict[int, _Side] = {}
        self._captures: list[PcapWriter] = []
        if capture_dir is not None:
            Path(capture_dir).mkdir(parents=True, exist_ok=True)
        for span in config.spans:
            role = "network" if span.signalling == "pri_cpe" else "user"
            far = farend.span(span.number)
            capture = None
            if capture_dir is not None:
                capture = PcapWriter(Path(capture_dir) / f"span{span.number}.pcap", we_network=role == "network")
                self._captures.append(capture)
            stack = Stack(role, far.send_frame, self.clock,
                          on_event=lambda event, n=span.number: self._events.append((n, event)),
                          variant=_variant(span), span_type=span.type.upper(), strict=strict,
                          capture=capture, name=f"far-span{span.number}")
            self._sides[span.number] = _Side(span, far, stack, far.spec.law, span.bchannel_positions,
                                             far.idle * len(span.bchannel_positions))

    # -- what the bots use ------------------------------------------------------------

    @property
    def trunk_spans(self) -> list[int]:
        return [n for n, s in self._sides.items() if s.config.role == "trunk"]

    @property
    def agent_spans(self) -> list[int]:
        return [n for n, s in self._sides.items() if s.config.role == "agent"]

    def stack(self, span: int) -> Stack:
        return self._sides[span].stack

    def law(self, span: int) -> str:
        return self._sides[span].law

    def place_call(self, span: int, handler: CallHandler, called: str, calling: str) -> Call:
        """SETUP toward the service on ``span`` (a free B-channel); CallStateError if none is free."""
        call = self._sides[span].stack.place_call(called, calling)
        call.user_data = handler
        return call

    def attach(self, call: Call, handler: CallHandler) -> None:
        call.user_data = handler

    def line(self, span: int, channel: int) -> Line:
        """The media of B-channel ``channel`` (its Q.931 number) on ``span``."""
        side = self._sides[span]
        index = side.positions.index(channel)
        line = side.lines.get(index)
        if line is None:
            line = side.lines[index] = Line(span, channel, index, side.law)
        return line

    def drop_line(self, line: Line) -> None:
        side = self._sides[line.span]
        if side.lines.get(line.index) is line:
            del side.lines[line.index]

    # -- readiness ------------------------------------------------------------------------

    def start(self) -> None:
        """Bring every D-channel's data link up from the far end too."""
        for side in self._sides.values():
            side.stack.start()
        self._dispatch()

    @property
    def links_up(self) -> bool:
        return all(side.stack.link_up for side in self._sides.values())

    @property
    def media_open(self) -> bool:
        return all(side.far.has_media() for side in self._sides.values())

    @property
    def ready(self) -> bool:
        """The service holds every span: data links up, media open."""
        return self.links_up and self.media_open

    def now(self) -> float:
        return self.clock.now()

    # -- running ----------------------------------------------------------------------------

    def step(self) -> None:
        """One step of the rig: 20 ms of lock-step time, or whatever real time has passed."""
        if self.lockstep:
            self._step_lockstep()
        else:
            self._step_realtime()

    def _step_realtime(self) -> None:
        busy = self._receive_frames()
        busy |= self._receive_media()
        self.clock.advance_to(time.monotonic() - self._origin)
        self._dispatch()
        if not busy:
            time.sleep(0.002)

    def _step_lockstep(self) -> None:
        sides = [s for s in self._sides.values() if s.far.has_media()]
        if not sides:
            time.sleep(TICK)             # nobody listens yet: let the service come up at line speed
        self.farend.advance(TICK)
        for side in sides:
            side.owed += 1
        deadline = time.monotonic() + self.stall_timeout
        while any(s.owed > 0 for s in sides):
            if not self._receive_media(wait=0.05) and time.monotonic() > deadline:
                self.counters["lockstep_stalls"] += 1
                self.stalls += 1
                log.warning("event=lockstep_stall spans=%s", ",".join(str(s.number) for s in sides if s.owed > 0))
                for side in sides:
                    side.owed = 0
                break
            self._receive_frames()
            self._dispatch()
        else:
            self.stalls = 0
        self._receive_frames()
        self.clock.advance(TICK)
        self._dispatch()

    def close(self) -> None:
        for side in self._sides.values():
            side.stack.close()
        for capture in self._captures:
            capture.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _receive_frames(self) -> bool:
        got = False
        for side in self._sides.values():
            while (frame := side.far.recv_frame(0)) is not None:
                got = True
                side.stack.receive_frame(frame)
                self._dispatch()
        return got

    def _receive_media(self, wait: float = 0.0) -> bool:
        got = False
        for side in self._sides.values():
            timeout = wait if (wait and side.owed > 0 and not got) else 0
            while (block := side.far.recv_media(timeout)) is not None:
                got = True
                timeout = 0
                side.owed = max(0, side.owed - 1)
                self._on_block(side, block)
        return got

    def _on_block(self, side: _Side, block: bytes) -> None:
        """The service's block on ``side``: let the bots hear it, answer with theirs."""
        self.counters["blocks"] += 1
        lines = side.lines
        for index, line in list(lines.items()):
            if line.hear is not None:
                start = index * BLOCK_SAMPLES
                line.hear(block[start:start + BLOCK_SAMPLES])
        sends = 1
        if not self.lockstep:
            # Real time: the far end takes one block every 20 ms whether or not ours has
            # come, and a missing one is a hole in a bot's DTMF.  Keep a few blocks queued
            # (a jitter buffer of real audio, never inserted silence); after a burst from
            # the service skip one rather than keep the extra delay for good.
            queued = len(side.far.outbox)
            if queued >= _REALTIME_BACKLOG:
                self.counters["blocks_skipped"] += 1
                return
            if queued < _REALTIME_LEAD - 1:
                sends = _REALTIME_LEAD - queued
                if side.primed:
                    self.counters["jitter_refills"] += 1     # the buffer ran low: the rig was late
                side.primed = True
        for _ in range(sends):
            out = bytearray(side.silence)
            for index, line in lines.items():
                audio = line.next_block()
                if audio is not None:
                    out[index * BLOCK_SAMPLES:(index + 1) * BLOCK_SAMPLES] = audio
            side.far.send_media(bytes(out))

    def _dispatch(self) -> None:
        events = self._events
        while events:
            span, event = events.popleft()
            kind, call = event.kind, event.call
            if kind in ("link_up", "link_down"):
                self.counters[kind] += 1
                log.info("event=%s span=%d", kind, span)
                continue
            if call is None:
                continue
            handler = call.user_data
            if handler is not None:
                handler.on_call_event(event)
            elif kind == "setup":
                self.on_setup(span, call)
            else:
                self.counters[f"unowned_{kind}"] += 1
