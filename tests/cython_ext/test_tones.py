"""cython_ext.tones: levels, frequencies, cadences and DTMF pairs measured independently."""
from __future__ import annotations

import math

import pytest

from cython_ext import tones
from tests.cython_ext.signals import level_dbm0, samples, tone_power


@pytest.mark.parametrize("level", [3.0, 0.0, -10.0, -36.0])
def test_sine_level_is_dbm0_per_g711(level):
    out = samples(tones.sine_mix([1004], level, 8000))
    assert level_dbm0(out) == pytest.approx(level, abs=0.05)


def test_full_scale_sine_peaks_at_32767():
    out = samples(tones.sine_mix([2000], tones.FULL_SCALE_DBM0, 8))
    # 2 kHz at 8 kHz: samples at 0, 90, 180, 270 degrees.
    assert list(out[:4]) == [0, 32767, 0, -32767]


def test_each_frequency_of_a_mix_at_its_own_level():
    out = samples(tones.sine_mix([697, 1209], [-6.0, -12.0], 800))
    assert tone_power(out, 697) == pytest.approx(-6.0, abs=0.1)
    assert tone_power(out, 1209) == pytest.approx(-12.0, abs=0.1)
    assert tone_power(out, 1000) < -40


def test_mix_that_exceeds_full_scale_is_clipped_not_wrapped():
    out = samples(tones.sine_mix([1000, 1000], [3.14, 3.14], 80))
    assert max(out) == 32767 and min(out) == -32768


def test_phases_shift_the_start():
    out = samples(tones.sine_mix([1000], 0.0, 4, phases=[math.pi / 2]))
    assert out[0] == round(tones.amplitude(0.0))


def test_cadence_lengths_and_silence():
    # US busy: 480+620 Hz, 0.5 s on, 0.5 s off, twice.
    out = samples(tones.cadence([([480, 620], 500), ([], 500)], -24, repeat=2))
    assert len(out) == 16000
    for start in (0, 8000):
        assert tone_power(out[start:start + 4000], 480) == pytest.approx(-24, abs=0.2)
        assert not any(out[start + 4000:start + 8000])


def test_dtmf_digits_pairs_twist_and_gaps():
    out = samples(tones.dtmf_digits("5D", on_ms=50, off_ms=40, level_dbm0=-10, twist_db=4))
    assert len(out) == 2 * 720
    first, second = out[:400], out[720:1120]
    assert tone_power(first, 770) == pytest.approx(-10, abs=0.2)
    assert tone_power(first, 1336) == pytest.approx(-14, abs=0.2)
    assert tone_power(second, 941) == pytest.approx(-10, abs=0.2)
    assert tone_power(second, 1633) == pytest.approx(-14, abs=0.2)
    assert not any(out[400:720]) and not any(out[1120:])


def test_keypad_pairs():
    assert tones.dtmf_pair("1") == (697.0, 1209.0)
    assert tones.dtmf_pair("0") == (941.0, 1336.0)
    assert tones.dtmf_pair("#") == (941.0, 1477.0)
    assert tones.dtmf_pair("a") == (697.0, 1633.0)
    with pytest.raises(ValueError, match="not a DTMF digit"):
        tones.dtmf_pair("E")


def test_bad_arguments():
    with pytest.raises(ValueError):
        tones.sine_mix([1000, 2000], [0.0], 10)
    with pytest.raises(ValueError):
        tones.sine_mix([1000], 0.0, -1)
    with pytest.raises(ValueError):
        tones.cadence([([1000], -5)], 0.0)
