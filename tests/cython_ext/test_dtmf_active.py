"""MultiChannelDtmf.feed(active=...): only flagged channels are analysed; reset_channel
starts one afresh mid-stream."""
from __future__ import annotations

import pytest

from cython_ext import g711, tones
from cython_ext.dtmf import MultiChannelDtmf

BLOCK = 160
IDLE = bytes([0xD5]) * BLOCK


def blocks(digits: str) -> list[bytes]:
    audio = g711.alaw_encode(tones.dtmf_digits(digits, 80, 80, -10))
    audio += bytes([0xD5]) * (-len(audio) % BLOCK + 2 * BLOCK)
    return [audio[i:i + BLOCK] for i in range(0, len(audio), BLOCK)]


def run(detector, per_channel: dict[int, list[bytes]], channels: int, active=None) -> list[tuple[int, str]]:
    found = []
    for n in range(max(len(b) for b in per_channel.values())):
        span = b"".join(per_channel.get(c, [])[n] if n < len(per_channel.get(c, [])) else IDLE
                        for c in range(channels))
        found += [(c, e.digit) for c, e in detector.feed(span, active)]
    return found


def test_only_active_channels_are_analysed():
    detector = MultiChannelDtmf(3, law="alaw")
    heard = run(detector, {0: blocks("12"), 2: blocks("9")}, 3, active=bytes([0, 0, 1]))
    assert heard == [(2, "9")]


def test_a_channel_reset_mid_stream_hears_its_next_digits():
    detector = MultiChannelDtmf(2, law="alaw")
    active = bytearray([1, 0])
    assert run(detector, {0: blocks("4"), 1: blocks("7")}, 2, active) == [(0, "4")]
    detector.reset_channel(1)
    active[1] = 1
    assert sorted(run(detector, {0: blocks("5"), 1: blocks("*3")}, 2, active)) == [(0, "5"), (1, "*"), (1, "3")]


def test_bad_flags_and_channels_are_refused():
    detector = MultiChannelDtmf(2, law="alaw")
    with pytest.raises(ValueError):
        detector.feed(IDLE * 2, bytes(3))
    with pytest.raises(IndexError):
        detector.reset_channel(2)
