"""The worst case ``qbox bench dtmf --mix`` times: every channel keying digits back
to back, at Q.24's minimum (40 ms tone, 40 ms pause) and at 100/100 ms.  Every
keyed digit must be found, once, on every channel."""
from __future__ import annotations

import json

import pytest

from appliance.benchmarks.dtmf import BLOCK, MIXES, SAMPLE_RATE, span_blocks
from cython_ext.dtmf import MultiChannelDtmf

CHANNELS = 12


@pytest.mark.parametrize("name", ["digits-min", "digits-typical"])
def test_every_keyed_digit_is_found_once(name):
    mix = MIXES[name]
    blocks, first_onsets = span_blocks(CHANNELS, seed=3, mix=mix)
    detector = MultiChannelDtmf(CHANNELS)
    found = []
    for block in blocks:
        found += detector.feed(block)
    found += detector.flush()
    # One programme holds whole periods and starts in a pause: every tone is whole.
    per_channel = mix.seconds * SAMPLE_RATE // mix.period
    assert len(blocks) * BLOCK == mix.seconds * SAMPLE_RATE
    for ch in range(CHANNELS):
        starts = [e.start for c, e in found if c == ch]
        assert len(starts) == per_channel
        for k, start in enumerate(starts):
            assert abs(start - (first_onsets[ch] + k * mix.period)) <= 40      # 5 ms


def test_bench_prints_both_digit_mixes_as_json(run_qbox):
    status, out, _ = run_qbox("bench", "dtmf", "--mix", "all-digits", "--channels", "4",
                              "--seconds", "2", "--json")
    assert status == 0
    results = json.loads(out)
    assert [r["mix"] for r in results] == ["digits-min", "digits-typical"]
    for result, per_second in zip(results, (12.5, 5)):
        assert result["keyed"] == pytest.approx(4 * 2 * per_second, abs=4)
        assert abs(result["multichannel"]["digits"] - result["keyed"]) <= 4
