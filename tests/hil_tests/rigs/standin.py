"""A minimal stand-in for the qbox service, to test the rig without the real one.

It is the near end of the simulated spans (the DAHDI backend ``sim:///DIR``) with its
own ISDN stacks in the service's roles: the USER side on the trunks, the NETWORK side
on the agent span.  It answers every call, plays a tone prompt, hears digits with
:class:`cython_ext.dtmf.MultiChannelDtmf` over each whole span block, and runs a tiny
IVR: ``1`` queues at once; ``2`` plays a second prompt and collects digits up to
``#`` first.  Queued callers get agents in turn by a call out on the agent span
(called number: the agent; calling number: the caller's); an agent that does not
answer within ``ring_timeout`` is skipped.  Caller and agent are bridged both ways.

Like the service it ticks once every span has delivered its block and answers each
block with one of its own; its clock is the media (20 ms per tick), as the service's
is in lock-step.  ``slow`` makes every tick take that much longer (a loaded box).
Everything it sees is counted in :attr:`StandIn.counters` and per caller.
"""
from __future__ import annotations

import errno
import random
import selectors
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from appliance.config import BoxConfig
from appliance.isdn.call import Call, CallEvent
from appliance.isdn.callcontrol import CallStateError
from appliance.isdn.stack import Stack
from cython_ext import g711, tones
from cython_ext.dtmf import MultiChannelDtmf
from drivers.clock import ManualClock
from drivers.dahdi import DahdiError
from drivers.dahdi.sim import SimBackend

BLOCK = 160
TICK = 0.020


@dataclass
class Caller:
    call: Call
    span: int
    number: str
    node: str = "menu"              # menu, account, queued, ringing, bridged, abandoned, gone
    digits: str = ""
    account: str = ""
    agent_call: Call | None = None
    agent: str | None = None
    ring_timer: object = None


@dataclass
class _Span:
    number: int
    role: str
    stack: Stack
    media: object
    dchannel: object
    positions: tuple[int, ...]
    law: str
    detector: MultiChannelDtmf
    block: bytes | None = None
    playing: dict[int, deque] = field(default_factory=dict)        # index -> blocks left to play


class StandIn:
    def __init__(self, directory, config: BoxConfig, *, agents: list[str] | None = None, prompt_s: float = 1.0,
                 ring_timeout: float = 4.0, slow: float = 0.0, seed: int = 0) -> None:
        self.config = config
        self.clock = ManualClock()
        self.backend = SimBackend(f"sim://{directory}")
        self.ring_timeout = ring_timeout
        self.slow = slow
        self.rng = random.Random(seed)
        self.counters: Counter[str] = Counter()
        self.callers: dict[str, Caller] = {}
        self.idle_agents: deque[str] = deque(agents if agents is not None else [a.id for a in config.agents])
        self.queue: deque[Caller] = deque()
        self.bridges: dict[tuple[int, int], tuple[int, int]] = {}
        self.agent_legs: dict[int, tuple[Caller, str]] = {}           # id(agent call) -> caller, agent
        self._spans: dict[int, _Span] = {}
        for span in config.spans:
            law = "alaw" if span.type == "e1" else "ulaw"
            media = self.backend.open_span_media(span.number, mode=law)
            dchannel = self.backend.open_dchannel(span.number)
            role = "user" if span.signalling == "pri_cpe" else "network"
            stack = Stack(role, dchannel.send, self.clock, on_event=lambda e, n=span.number: self._event(n, e),
                          variant="euroisdn" if span.type == "e1" else "ni2", span_type=span.type.upper(),
                          strict=True, name=f"standin-{span.number}")
            n = len(span.bchannel_positions)
            self._spans[span.number] = _Span(span.number, span.role, stack, media, dchannel,
                                             span.bchannel_positions, law, MultiChannelDtmf(n, law=law))
        self.prompt = self._tone_blocks(425.0, prompt_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="standin", daemon=True)
        self.error: BaseException | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> "StandIn":
        for span in self._spans.values():
            span.stack.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(10)
        for span in self._spans.values():
            span.stack.close()
            span.media.close()
            span.dchannel.close()
        self.backend.close()
        if self.error is not None:
            raise self.error

    def __enter__(self) -> "StandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for span in self._spans.values():
            selector.register(span.dchannel.fileno(), selectors.EVENT_READ, ("d", span))
            selector.register(span.media.fileno(), selectors.EVENT_READ, ("m", span))
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(0.05):
                    kind, span = key.data
                    if kind == "d":
                        while (frame := span.dchannel.recv()) is not None:
                            span.stack.receive_frame(frame)
                    elif span.block is None:
                        span.block = span.media.read_block()
                if all(s.block is not None for s in self._spans.values()):
                    self._tick()
        except DahdiError as exc:
            if exc.errno != errno.ENODEV:
                self.error = exc
            self.counters["simulator_gone"] += 1     # the rig's process ended first: so do we
        except BaseException as exc:     # surfaced by stop()
            self.error = exc
        finally:
            selector.close()

    # -- media ------------------------------------------------------------------------------------

    def _tone_blocks(self, freq: float, seconds: float) -> list[bytes]:
        audio = g711.alaw_encode(tones.sine_mix([freq], -12, int(seconds * 8000)))
        return [audio[i:i + BLOCK] for i in range(0, len(audio) - BLOCK + 1, BLOCK)]

    def _tick(self) -> None:
        if self.slow:
            time.sleep(self.slow * self.rng.random() * 2)
        self.counters["ticks"] += 1
        spans = self._spans
        for span in spans.values():
            for index, event in span.detector.feed(span.block):
                self.counters["digits_detected"] += 1
                self._digit(span.number, index, event.digit)
        for span in spans.values():
            out = bytearray(bytes([0xD5]) * len(span.block))
            for index, blocks in list(span.playing.items()):
                out[index * BLOCK:(index + 1) * BLOCK] = blocks.popleft()
                if not blocks:
                    del span.playing[index]
            for (number, index), (peer_span, peer_index) in self.bridges.items():
                if number == span.number:
                    source = spans[peer_span].block
                    out[index * BLOCK:(index + 1) * BLOCK] = source[peer_index * BLOCK:(peer_index + 1) * BLOCK]
            span.media.write_block(bytes(out))
        for span in spans.values():
            span.block = None
        self.clock.advance(TICK)

    def _index(self, span: int, call: Call) -> int:
        return self._spans[span].positions.index(call.channel)

    # -- the IVR -------------------------------------------------------------------------------

    def _digit(self, span: int, index: int, digit: str) -> None:
        caller = next((c for c in self.callers.values()
                       if c.span == span and c.node != "gone" and self._index(span, c.call) == index), None)
        if caller is None:
            self.counters["digits_elsewhere"] += 1
            return
        caller.digits += digit
        if caller.node == "menu":
            if digit == "1":
                self._enqueue(caller)
            elif digit == "2":
                caller.node = "account"
                self._spans[span].playing[index] = deque(self.prompt)
            else:
                self._hang_up_caller(caller)
        elif caller.node == "account":
            if digit == "#":
                self._enqueue(caller)
            else:
                caller.account += digit

    def _enqueue(self, caller: Caller) -> None:
        caller.node = "queued"
        self._spans[caller.span].playing.pop(self._index(caller.span, caller.call), None)
        self.queue.append(caller)
        self.counters["queued"] += 1
        self._distribute()

    def _distribute(self) -> None:
        while self.queue and self.idle_agents:
            caller = self.queue.popleft()
            agent = self.idle_agents.popleft()
            span = next(s for s in self._spans.values() if s.role == "agent")
            call = span.stack.place_call(agent, calling=caller.number)
            caller.agent_call, caller.agent, caller.node = call, agent, "ringing"
            self.agent_legs[id(call)] = caller, agent
            caller.ring_timer = self.clock.call_later(self.ring_timeout, self._ring_timeout, caller, call)
            self.counters["rings"] += 1

    def _ring_timeout(self, caller: Caller, call: Call) -> None:
        if caller.agent_call is not call or caller.node != "ringing":
            return
        self.counters["ring_timeouts"] += 1
        self._clear_agent_leg(caller)
        caller.node = "queued"
        self.queue.appendleft(caller)
        self._distribute()

    def _clear_agent_leg(self, caller: Caller) -> None:
        call, caller.agent_call = caller.agent_call, None
        if caller.ring_timer is not None:
            caller.ring_timer.cancel()
        span = next(s for s in self._spans.values() if s.role == "agent")
        self._unbridge(caller)
        if call is not None and not call.released:
            try:
                span.stack.disconnect(call)
            except CallStateError:
                pass

    def _hang_up_caller(self, caller: Caller) -> None:
        if caller.node == "gone":
            return
        try:
            self._spans[caller.span].stack.disconnect(caller.call)
        except CallStateError:
            pass

    def _unbridge(self, caller: Caller) -> None:
        for key, peer in list(self.bridges.items()):
            if caller.span == key[0] and key[1] == self._index(caller.span, caller.call) or \
                    caller.span == peer[0] and peer[1] == self._index(caller.span, caller.call):
                del self.bridges[key]

    # -- signalling ----------------------------------------------------------------------------

    def _event(self, number: int, event: CallEvent) -> None:
        span = self._spans[number]
        if event.kind in ("link_up", "link_down"):
            self.counters[f"{event.kind}"] += 1
            return
        call = event.call
        if call is None:
            return
        if span.role == "trunk":
            self._trunk_event(span, event)
        else:
            self._agent_event(span, event)

    def _trunk_event(self, span: _Span, event: CallEvent) -> None:
        call = event.call
        if event.kind == "setup":
            caller = Caller(call, span.number, call.calling)
            call.user_data = caller
            self.callers[call.calling] = caller
            self.counters["offered"] += 1
            span.stack.answer(call)
            span.playing[self._index(span.number, call)] = deque(self.prompt)
            return
        caller: Caller | None = call.user_data
        if caller is None:
            return
        if event.kind == "disconnect" and caller.node in ("queued", "ringing", "menu", "account"):
            # The caller cleared first (counted now: RELEASE COMPLETE may come after the rig is done).
            self.counters["abandoned"] += 1
            caller.node = "abandoned"
            if caller in self.queue:
                self.queue.remove(caller)
            self._clear_agent_leg(caller)
        if event.kind == "released":
            if call.channel is not None:
                span.playing.pop(self._index(span.number, call), None)
            if caller in self.queue:
                self.queue.remove(caller)
            self._clear_agent_leg(caller)
            caller.node = "gone"

    def _agent_event(self, span: _Span, event: CallEvent) -> None:
        call = event.call
        leg = self.agent_legs.get(id(call))
        if leg is None:
            return
        caller, agent = leg
        if event.kind == "active" and caller.agent_call is call:
            if caller.ring_timer is not None:
                caller.ring_timer.cancel()
            caller.node = "bridged"
            self.counters["answered"] += 1
            a = (caller.span, self._index(caller.span, caller.call))
            b = (span.number, self._index(span.number, call))
            self.bridges[a], self.bridges[b] = b, a
        elif event.kind == "released":
            del self.agent_legs[id(call)]
            self.idle_agents.append(agent)
            if caller.agent_call is call:          # the agent hung up on a bridged call
                caller.agent_call = None
                self._unbridge(caller)
                self._hang_up_caller(caller)
            self._distribute()
