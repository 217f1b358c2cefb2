"""cython_ext.dtmf decides a digit's energy share from a fast form of the exact
measure and asks the reference form near its thresholds: the events must be the
reference's, digit for digit and sample for sample."""
from __future__ import annotations

import array
import random
import sys

import pytest

from cython_ext.dtmf import MultiChannelDtmf
from tests.cython_ext.dtmf_signals import KEYS, Burst, stream

CHANNELS = 6
BLOCK = 160


def _random_burst(rng: random.Random) -> Burst:
    return Burst(rng.choice(KEYS), on_ms=rng.uniform(25, 120), level=rng.uniform(-40, 0),
                 twist_db=rng.uniform(-6, 10), low_pct=rng.uniform(-3, 3), high_pct=rng.uniform(-3, 3),
                 dropout_ms=rng.choice([0, 0, 0, 5, 10, 15]), phase_jump=rng.random() < 0.5)


def _span(seed: int) -> list[bytes]:
    """Channel-major 20 ms blocks: each channel a run of random bursts in noise at
    5 to 30 dB SNR, the range where the share test decides between pass and fail."""
    rng = random.Random(f"dtmf-share-check:{seed}")
    streams = []
    for _ in range(CHANNELS):
        bursts = [_random_burst(rng) for _ in range(40)]
        streams.append(stream(bursts, rng, gap_ms=(15, 80), snr_db=rng.uniform(5, 30)).pcm)
    n = max(len(s) for s in streams)
    n += -n % BLOCK
    for s in streams:
        s.extend(array.array("h", bytes(2 * (n - len(s)))))
        if sys.byteorder == "big":
            s.byteswap()
    return [b"".join(s[i:i + BLOCK].tobytes() for s in streams) for i in range(0, n, BLOCK)]


def _events(blocks: list[bytes], mode: str, **thresholds) -> list:
    detector = MultiChannelDtmf(CHANNELS, **thresholds)
    detector._set_share_check(mode)
    events = []
    for block in blocks:
        events += detector.feed(block)
    return events + detector.flush()


@pytest.mark.parametrize("seed", [1, 2])
def test_checked_and_fast_share_give_the_reference_events(seed):
    blocks = _span(seed)
    reference = _events(blocks, "reference")
    assert _events(blocks, "checked") == reference
    assert _events(blocks, "fast") == reference
    # The mix reaches the share test: without it, more digits pass.
    assert len(_events(blocks, "reference", energy_fraction=0.2)) > len(reference) >= 40


def test_unknown_share_mode_is_refused():
    with pytest.raises(KeyError):
        MultiChannelDtmf(1)._set_share_check("approximate")
