"""appliance.tones: call-progress plans parsed and rendered with the right cadence."""
from __future__ import annotations

import pytest

from appliance import tones
from tests.cython_ext.signals import samples, tone_power


def _on_off(audio: bytes, block: int = 400) -> str:
    """'1' for each 50 ms block holding signal, '0' for a silent one."""
    pcm = samples(audio)
    return "".join("1" if any(pcm[i:i + block]) else "0" for i in range(0, len(pcm), block))


def test_parse_asterisk_notation():
    assert tones.parse_tone("480+620/500,0/500") == [
        tones.ToneSegment((480.0, 620.0), 500.0), tones.ToneSegment((), 500.0)]
    assert tones.parse_tone("!440/300,0") == [
        tones.ToneSegment((440.0,), 300.0, once=True), tones.ToneSegment((), None)]
    with pytest.raises(ValueError, match="bad tone part 'x/5'"):
        tones.parse_tone("440/100,x/5")


@pytest.mark.parametrize("country", ["cn", "itu", "eu", "us"])
@pytest.mark.parametrize("tone", ["dial", "ringback", "busy", "congestion", "callwaiting"])
def test_every_plan_renders(country, tone):
    audio = tones.render(country, tone, 1000)
    assert len(audio) == 16000
    assert any(samples(audio))


def test_us_busy_cadence_and_level():
    audio = tones.render("us", "busy", 2000)
    assert _on_off(audio) == ("1" * 10 + "0" * 10) * 2
    pcm = samples(audio)
    assert tone_power(pcm[:4000], 480) == pytest.approx(-24, abs=0.2)
    assert tone_power(pcm[:4000], 620) == pytest.approx(-24, abs=0.2)


def test_cn_ringback_is_450hz_one_second_in_five():
    audio = tones.render("cn", "ringback", 10000, level_dbm0=-12)
    assert _on_off(audio) == ("1" * 20 + "0" * 80) * 2
    assert tone_power(samples(audio)[:8000], 450) == pytest.approx(-12, abs=0.2)


def test_dial_tone_is_continuous():
    assert _on_off(tones.render("itu", "dial", 3000)) == "1" * 60


def test_unknown_country_or_tone():
    with pytest.raises(KeyError, match="known: cn, eu, itu, us"):
        tones.render("xx", "dial", 100)
    with pytest.raises(KeyError, match="no tone 'howler'"):
        tones.render("us", "howler", 100)
