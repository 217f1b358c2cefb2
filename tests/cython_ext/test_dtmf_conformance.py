"""Conformance of cython_ext.dtmf with ITU-T Q.24 / Bellcore TR-TSY-000763 (Mitel-style tests).

Every requirement is checked at 100 %, on seeded signals (random phases, random
alignment, random chunking), linear and after an A-law or mu-law round trip (the
G.711 cases feed the companded bytes straight in with ``law=``).
"""
from __future__ import annotations

import random

import pytest

from tests.cython_ext.dtmf_signals import KEYS, Burst, detect, stream

LAWS = [None, "alaw", "ulaw"]
LEVELS = [float(level) for level in range(0, -37, -1)]          # dBm0 per tone
EDGE_TOLERANCE = 40                                               # samples (5 ms)


def _check(bursts, law, seed, expect_all=True, **stream_args):
    rng = random.Random(seed)
    signal = stream(bursts, rng, **stream_args)
    events = detect(signal.pcm, law, rng)
    if not expect_all:
        return signal, events
    got = "".join(e.digit for e in events)
    want = "".join(d for d, _, _ in signal.truth)
    assert got == want, _diff(bursts, signal.truth, events)
    for event, (_, start, end) in zip(events, signal.truth):
        assert abs(event.start - start) <= EDGE_TOLERANCE and abs(event.end - end) <= EDGE_TOLERANCE, \
            (event, start, end)
    return signal, events


def _diff(bursts, truth, events):
    found = {(e.digit, e.start // 400) for e in events}
    missed = [b for b, (d, s, _) in zip(bursts, truth) if not any(
        e.digit == d and abs(e.start - s) < 400 for e in events)]
    return f"missed {len(missed)} of {len(bursts)}: {missed[:4]}; events {len(events)}"


def _seed(*parts) -> str:
    return "dtmf-conformance:" + ":".join(map(str, parts))


@pytest.mark.parametrize("law", LAWS)
def test_every_digit_at_every_level_0_to_minus_36(law):
    bursts = [Burst(d, 40, level) for level in LEVELS for d in KEYS]
    _check(bursts, law, _seed("levels", law))


@pytest.mark.parametrize("law", LAWS)
def test_frequency_off_by_up_to_1_5_percent_detected(law):
    offsets = [-1.5, 0.0, 1.5]
    bursts = [Burst(d, 40, level, low_pct=lo, high_pct=hi)
              for level in (0.0, -6.0, -12.0, -18.0, -24.0, -30.0, -36.0)
              for lo in offsets for hi in offsets for d in KEYS]
    _check(bursts, law, _seed("accept-offset", law))


@pytest.mark.parametrize("law", LAWS)
def test_frequency_off_by_3_5_percent_or_more_rejected(law):
    far = [-5.0, -4.0, -3.5, 3.5, 4.0, 5.0]
    near = [-1.5, 0.0, 1.5]
    pairs = [(lo, hi) for lo in far for hi in far + near] + [(lo, hi) for lo in near for hi in far]
    bursts = [Burst(d, 100, level, low_pct=lo, high_pct=hi)
              for level in (0.0, -10.0, -20.0, -30.0, -36.0) for lo, hi in pairs for d in KEYS]
    _, events = _check(bursts, law, _seed("reject-offset", law), expect_all=False)
    assert events == []


@pytest.mark.parametrize("law", LAWS)
def test_twist_8db_standard_and_4db_reverse_accepted(law):
    bursts = [Burst(d, 40, level, twist_db=twist)
              for level in (-4.0, -10.0, -16.0, -22.0, -28.0)
              for twist in (8.0, 6.0, 4.0, 2.0, -2.0, -4.0) for d in KEYS]
    _check(bursts, law, _seed("twist", law))


@pytest.mark.parametrize("law", LAWS)
def test_40ms_detected_and_23ms_rejected(law):
    levels = [0.0, -6.0, -12.0, -18.0, -24.0, -30.0, -36.0]
    accept = [Burst(d, on, level) for level in levels for on in (40, 41, 45) for d in KEYS]
    _check(accept, law, _seed("long", law))
    reject = [Burst(d, on, level) for level in levels for on in (23, 20, 16, 10, 5) for d in KEYS]
    _, events = _check(reject, law, _seed("short", law), expect_all=False)
    assert events == []


@pytest.mark.parametrize("law", LAWS)
def test_40ms_gaps_give_separate_digits(law):
    bursts = []
    rng = random.Random(_seed("gap-digits"))
    for level in (0.0, -12.0, -24.0, -36.0):
        for d in KEYS:
            bursts += [Burst(d, 40, level), Burst(d, 40, level), Burst(rng.choice(KEYS), 40, level)]
    _check(bursts, law, _seed("gaps", law), gap_ms=40.0)


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("phase_jump", [False, True])
def test_dropout_of_10ms_or_less_does_not_split(law, phase_jump):
    bursts = [Burst(d, 40 + drop, level, dropout_ms=drop, phase_jump=phase_jump)
              for level in (0.0, -12.0, -24.0, -36.0) for drop in (2.0, 5.0, 8.0, 10.0) for d in KEYS]
    _check(bursts, law, _seed("dropout", law, phase_jump))


@pytest.mark.parametrize("law", LAWS)
def test_detected_at_15db_snr(law):
    bursts = [Burst(d, 40, level) for level in (-6.0, -16.0, -26.0, -36.0) for d in KEYS for _ in range(3)]
    _check(bursts, law, _seed("snr", law), snr_db=15.0)


@pytest.mark.parametrize("law, dc", [(law, dc) for law in LAWS for dc in (-3000, 3000)]
                         + [(None, -12000), (None, 12000)])
def test_dc_offset_and_clipping(law, dc):
    # With a DC offset the louder levels also clip at full scale, on one side.  A
    # G.711 codec sees no DC in practice (lines are AC-coupled), and 12000 of DC
    # puts a -36 dBm0 tone into segments whose quantising noise is 5 dB below
    # it: so the big offset is checked on linear audio, the moderate one on all.
    bursts = [Burst(d, 40, level) for level in (3.0, 0.0, -6.0, -18.0, -30.0, -36.0) for d in KEYS]
    _check(bursts, law, _seed("dc", law, dc), dc=dc)


@pytest.mark.parametrize("law", LAWS)
def test_hard_clipped_tones(law):
    # +6 dBm0 per tone: peaks at twice full scale, a quarter of every cycle clipped.
    bursts = [Burst(d, 40, level) for level in (6.0, 4.0, 3.14) for d in KEYS]
    _check(bursts, law, _seed("clip", law))
