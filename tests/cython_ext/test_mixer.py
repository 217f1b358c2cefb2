"""cython_ext.mixer: each channel's outgoing bytes from silence, playback, a peer; taps."""
from __future__ import annotations

import pytest

from cython_ext.mixer import Mixer

B = 4            # a short block keeps the expected bytes readable
S = 0xD5


def block(*channels: bytes) -> bytes:
    return b"".join(channels)


def test_idle_channels_send_silence_and_a_span_without_a_block_sends_nothing():
    mixer = Mixer([2, 3], block=B, silence=S)
    outgoing, finished, full = mixer.tick([bytes(2 * B), None], 100)
    assert outgoing == [bytes([S]) * 2 * B, None]
    assert finished == [] and full == []


def test_playback_runs_on_from_where_it_was_ends_mid_block_and_is_reported_once():
    mixer = Mixer([2], block=B, silence=S)
    mixer.play(0, 1, b"abcdefghij")
    sent = [mixer.tick([bytes(2 * B)], 100) for _ in range(4)]
    assert [out[0][B:] for out, _, _ in sent] == [b"abcd", b"efgh", b"ij" + bytes([S, S]), bytes([S]) * B]
    assert [finished for _, finished, _ in sent] == [[], [], [(0, 1)], []]
    assert all(out[0][:B] == bytes([S]) * B for out, _, _ in sent)
    assert not mixer.is_playing(0, 1)


def test_a_looping_playback_wraps_inside_a_block_and_never_finishes():
    mixer = Mixer([1], block=B)
    mixer.play(0, 0, b"xyz", loop=True)
    outs = [mixer.tick([bytes(B)], 100) for _ in range(3)]
    assert b"".join(out[0] for out, _, _ in outs) == b"xyzxyzxyzxyz"
    assert all(not finished for _, finished, _ in outs) and mixer.is_playing(0, 0)


def test_empty_audio_finishes_at_the_first_tick_and_a_span_without_a_block_holds_playback():
    mixer = Mixer([1, 1], block=B, silence=S)
    mixer.play(0, 0, b"")
    mixer.play(1, 0, b"abcdefgh")
    _, finished, _ = mixer.tick([bytes(B), None], 100)
    assert finished == [(0, 0)]
    outgoing, _, _ = mixer.tick([bytes(B), bytes(B)], 100)
    assert outgoing[1] == b"abcd"            # span 1 had no block before: nothing was skipped


def test_peers_cross_spans_both_ways_and_win_over_playback_which_still_moves_on():
    mixer = Mixer([2, 2], block=B, silence=S)
    mixer.play(0, 1, b"p" * 3 * B)
    mixer.connect(0, 1, 1, 0)
    mixer.connect(1, 0, 0, 1)
    outgoing, _, _ = mixer.tick([block(b"....", b"ABCD"), block(b"wxyz", b"____")], 100)
    assert outgoing == [block(bytes([S]) * B, b"wxyz"), block(b"ABCD", bytes([S]) * B)]
    mixer.disconnect(0, 1)
    outgoing, _, _ = mixer.tick([bytes(2 * B), bytes(2 * B)], 100)
    assert outgoing[0][B:] == b"p" * B       # the third block of the prompt: it moved on
    assert outgoing[1][:B] == bytes(B)       # span 1 channel 0 still hears span 0 channel 1


def test_a_tap_collects_own_and_peer_interleaved_and_is_reported_at_its_limit():
    mixer = Mixer([1, 1], block=B)
    tap = bytearray()
    mixer.connect(0, 0, 1, 0, tap)
    mixer.connect(1, 0, 0, 0)
    _, _, full = mixer.tick([b"abcd", b"ABCD"], 16)
    assert tap == bytearray(b"aAbBcCdD") and full == []
    _, _, full = mixer.tick([b"efgh", None], 16)      # the peer's span had no block: no tap
    assert tap == bytearray(b"aAbBcCdD") and full == []
    _, _, full = mixer.tick([b"efgh", b"EFGH"], 16)
    assert tap == bytearray(b"aAbBcCdDeEfFgGhH") and full == [tap]


def test_bad_arguments_are_refused():
    mixer = Mixer([2], block=B)
    with pytest.raises(IndexError):
        mixer.play(0, 2, b"x")
    with pytest.raises(IndexError):
        mixer.connect(0, 0, 1, 0)
    with pytest.raises(ValueError):
        mixer.tick([bytes(B)], 10)             # a block of the wrong size
    with pytest.raises(ValueError):
        mixer.tick([], 10)                     # not one entry per span
