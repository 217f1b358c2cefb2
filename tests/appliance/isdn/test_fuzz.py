"""Property: no frame, however broken, makes the decoder or either state machine
raise, and the stacks still carry calls afterwards.

Each hypothesis example draws a seed and pushes a batch of frames built from it into
both a user-side and a network-side stack (strict mode: any exception fails the
test).  Half the frames are I frames that fit the receiver's sequence numbers, so
their Q.931 messages reach call control: mutated messages of real calls, and messages
from scapy's fuzz() over the same q931 layer definitions.  The rest are mutated
copies of a real call's frames, random octets and random LAPD headers.  Between batches the
clock runs, so timers fire on whatever state the batch left.
"""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scapy.packet import fuzz

from appliance.isdn import codec, q931
from appliance.isdn.backtoback import BackToBack
from appliance.isdn.call import CallState, CallStateError
from appliance.isdn.q921 import LAPD
from appliance.isdn.q931 import MESSAGE_TYPES

FRAMES_PER_EXAMPLE = 1_000
EXAMPLES = 100
TOTAL = FRAMES_PER_EXAMPLE * EXAMPLES    # each frame goes to both sides


def _corpus() -> tuple[list[bytes], list[bytes]]:
    """Frames and Q.931 messages of real calls (both directions), to mutate."""
    frames: list[bytes] = []
    pair = BackToBack()
    pair.line = lambda frame, to_network: frames.append(frame) or [frame]
    pair.start()
    for n in range(3):
        call = pair.user.place_call(f"400{n}", calling="5551234", display="fuzz")
        pair.pump()
        incoming = pair.network.active_calls[-1]
        pair.network.proceed(incoming)
        pair.network.progress(incoming)
        pair.network.alert(incoming)
        pair.network.answer(incoming)
        pair.pump()
        pair.user.status_enquiry(call)
        pair.user.facility(call, b"\x91\xa1\x03\x02\x01\x01")
        pair.pump()
        (pair.user if n % 2 else pair.network).disconnect(call if n % 2 else incoming, 16 + n)
        pair.pump()
    pair.user.restart(3)
    pair.network.restart()
    pair.pump()
    pair.close()
    messages = [f[4:] for f in frames if len(f) > 4 and f[2] & 1 == 0]
    return frames, messages


CORPUS_FRAMES, CORPUS_MESSAGES = _corpus()


def _scapy_fuzzed(count: int = 300) -> list[bytes]:
    """Messages from scapy's own fuzz() over the q931 layer definitions: every field
    random within its declared width, elements in random number and order."""
    elements = [c for c in vars(q931).values()
                if isinstance(c, type) and issubclass(c, q931.InformationElement)
                and c not in (q931.InformationElement, q931.SingleOctetIE)]
    state = random.getstate()
    random.seed(20260101)               # scapy's random fields draw from the random module
    try:
        messages = []
        for _ in range(count):
            ies = [fuzz(random.choice(elements)()) for _ in range(random.randint(0, 6))]
            message = random.choice(list(q931.MESSAGES.values()))(
                callref=random.randrange(1, 6), callref_flag=random.randint(0, 1), ies=ies)
            raw = bytes(fuzz(message) if random.random() < 0.2 else message)
            messages.append(raw[:200])      # fit an I frame (N201); cutting is one more fault
        return messages
    finally:
        random.setstate(state)


SCAPY_FUZZED = _scapy_fuzzed()


def _mutate(rnd: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.random()
        if op < 0.25 and data:
            data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)           # flip a bit
        elif op < 0.4 and data:
            data[rnd.randrange(len(data))] = rnd.randrange(256)                # any octet
        elif op < 0.5 and data:
            del data[rnd.randrange(len(data)):]                                # truncate
        elif op < 0.6:
            at = rnd.randrange(len(data) + 1)
            data[at:at] = rnd.randbytes(rnd.randint(1, 6))                     # insert
        elif op < 0.7 and len(data) > 5:
            data[3] = rnd.choice((1, 2, 3, 0x7F, rnd.randrange(256)))          # another call
            data[2] = rnd.choice((0x00, 0x80, rnd.randrange(256)))
        elif op < 0.85 and len(data) > 4:
            data[4] = rnd.choice(list(MESSAGE_TYPES) + [rnd.randrange(256)])   # another message
        elif len(data) > 8:
            a, b = sorted(rnd.sample(range(5, len(data)), 2))                  # shuffle elements
            data[5:] = data[a:] + data[5:a]
    return bytes(data)


def _frame_for(rnd: random.Random, receiver) -> bytes:
    """One frame for ``receiver`` (a Stack): often sequence-correct, always suspect."""
    link = receiver.link
    peer_command_cr = link._peer_cmd_cr
    roll = rnd.random()
    if roll < 0.35:
        info = _mutate(rnd, rnd.choice(CORPUS_MESSAGES))
        return codec.encode_i_frame(peer_command_cr, link.vr, link.vs, int(rnd.random() < 0.1), info)
    if roll < 0.4:
        return codec.encode_i_frame(peer_command_cr, link.vr, link.vs, 0, rnd.choice(CORPUS_MESSAGES))
    if roll < 0.5:
        return codec.encode_i_frame(peer_command_cr, link.vr, link.vs, 0, rnd.choice(SCAPY_FUZZED))
    if roll < 0.8:
        return _mutate(rnd, rnd.choice(CORPUS_FRAMES))
    if roll < 0.9:
        return rnd.randbytes(rnd.randint(0, 40))
    header = bytes([rnd.choice((0x00, 0x02, rnd.randrange(256))), rnd.choice((0x01, rnd.randrange(256)))])
    return header + rnd.randbytes(rnd.randint(1, 30))


def _act(rnd: random.Random, pair: BackToBack) -> None:
    """What an application might do meanwhile, so calls exist in many states."""
    stack = rnd.choice((pair.user, pair.network))
    calls = stack.active_calls
    try:
        roll = rnd.random()
        if roll < 0.3 or not calls:
            stack.place_call(str(rnd.randrange(10_000)), calling="5551234",
                             sending_complete=rnd.random() < 0.8)
        else:
            call = rnd.choice(calls)
            request = rnd.choice((stack.proceed, stack.alert, stack.answer, stack.setup_acknowledge,
                                  stack.disconnect, stack.release, stack.status_enquiry))
            request(call)
    except CallStateError:
        pass                                   # the application asked out of turn: refused
    pair.pump()


def _still_carries_calls(pair: BackToBack) -> None:
    pair.run(60)                         # let recovery finish (links, T309, T308, ...)
    pair.user.restart()                  # clear whatever the batch left behind
    pair.run(5)
    assert pair.user.link_up and pair.network.link_up
    call = pair.user.place_call("4000")
    pair.pump()
    incoming = pair.network.calls.calls.get((call.callref, False))
    assert incoming is not None, "the network did not see the SETUP"
    pair.network.answer(incoming)
    pair.pump()
    assert call.state == CallState.ACTIVE
    pair.user.disconnect(call)
    pair.pump()
    assert call.state == CallState.NULL


@pytest.mark.slow
def test_no_frame_escapes_as_an_exception():
    pushed = [0]
    scapy_checked = [0]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(seed=st.integers(0, 2**64 - 1))
    def batch(seed: int) -> None:
        rnd = random.Random(seed)
        pair = BackToBack(strict=True, record=False)
        pair.start()
        for n in range(FRAMES_PER_EXAMPLE):
            for receiver in (pair.user, pair.network):
                frame = _frame_for(rnd, receiver)
                receiver.receive_frame(frame)
                pair.pump()
                if n % 50 == 0 and len(frame) >= 2:
                    # scapy's own dissection of the same frames must hold too (below
                    # the 2-octet address, scapy raises for any top layer, as IP does)
                    LAPD(frame).summary()
                    scapy_checked[0] += 1
            pushed[0] += 1
            if n % 10 == 0:
                _act(rnd, pair)
            if n % 100 == 99:
                pair.run(rnd.choice((0.5, 2.0, 11.0, 31.0)))
        _still_carries_calls(pair)
        assert pair.user.counters["internal_errors"] == pair.network.counters["internal_errors"] == 0
        pair.close()

    batch()
    assert pushed[0] >= TOTAL and scapy_checked[0] > 0
