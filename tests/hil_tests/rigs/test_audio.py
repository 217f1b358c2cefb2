"""The bots' audio: DTMF that a receiver reads back, talk tones, the end of a prompt."""
from __future__ import annotations

import pytest

from cython_ext import g711, tones
from cython_ext.dtmf import DtmfDetector
from drivers.dahdi.interface import BLOCK_SAMPLES, IDLE_CODE
from hil_tests.rigs.audio import DtmfStyle, PromptEar, dtmf_audio, loud_samples, tone_block


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_keyed_digits_are_whole_blocks_and_read_back(law):
    pieces = list(dtmf_audio("2468#*0", law))
    assert [d for d, _ in pieces] == list("2468#*0")
    assert all(len(audio) % BLOCK_SAMPLES == 0 for _, audio in pieces)
    detector = DtmfDetector(law=law)
    heard = [e.digit for _, audio in pieces for e in detector.feed(audio)] + [e.digit for e in detector.flush()]
    assert "".join(heard) == "2468#*0"


def test_dtmf_style_refuses_what_no_receiver_must_accept():
    with pytest.raises(ValueError, match="40 ms"):
        DtmfStyle(on_ms=30)


def test_tone_block_repeats_seamlessly_and_is_not_dtmf():
    block = tone_block(400.0, -30.0, "alaw")
    assert len(block) == BLOCK_SAMPLES
    detector = DtmfDetector(law="alaw")
    assert detector.feed(block * 100) == [] and detector.flush() == []
    pcm = memoryview(g711.decode(block * 2, "alaw")).cast("h")
    assert pcm[0] == pcm[BLOCK_SAMPLES] and pcm[1] == pcm[BLOCK_SAMPLES + 1]
    with pytest.raises(ValueError, match="multiple of 50"):
        tone_block(425.0, -30.0, "alaw")


def test_loud_samples_tell_a_tone_from_silence():
    assert loud_samples(bytes([IDLE_CODE["ulaw"]]) * 160, "ulaw") == 0
    loud = g711.encode(tones.sine_mix([1000], -20, 160), "ulaw")
    assert loud_samples(loud, "ulaw") > 100


def _blocks(audio: bytes) -> list[bytes]:
    return [audio[i:i + BLOCK_SAMPLES] for i in range(0, len(audio), BLOCK_SAMPLES)]


def test_prompt_ear_waits_for_sound_then_a_quiet_gap():
    quiet = bytes([IDLE_CODE["alaw"]]) * BLOCK_SAMPLES
    speech = _blocks(g711.encode(tones.sine_mix([500], -15, 8000), "alaw"))     # 1 s
    ear = PromptEar("alaw", gap=0.4, patience=10)
    # silence before the prompt starts does not end it
    assert not any(ear.feed(quiet) for _ in range(50))
    assert not any(ear.feed(b) for b in speech)
    # a short pause inside the prompt does not end it either
    assert not any(ear.feed(quiet) for _ in range(10))
    assert not any(ear.feed(b) for b in speech)
    results = [ear.feed(quiet) for _ in range(20)]
    assert results.index(True) == 19            # the 20th quiet block: 0.4 s of quiet


def test_prompt_ear_gives_up_after_its_patience():
    ear = PromptEar("alaw", gap=0.6, patience=1.0)
    loud = g711.encode(tones.sine_mix([500], -15, 160), "alaw")
    results = [ear.feed(loud) for _ in range(50)]
    assert results.index(True) == 49 and ear.heard


def test_prompt_ear_barges_in_that_long_after_the_prompt_begins():
    quiet = bytes([IDLE_CODE["alaw"]]) * BLOCK_SAMPLES
    speech = _blocks(g711.encode(tones.sine_mix([500], -15, 8000), "alaw"))     # 1 s
    ear = PromptEar("alaw", gap=0.6, patience=10, barge_in=0.3)
    assert not any(ear.feed(quiet) for _ in range(25))       # nothing heard yet: no barging in
    results = [ear.feed(b) for b in speech]
    # sound counts from the 2nd loud block (sound_blocks=2); 0.3 s = 15 blocks after that
    assert results.index(True) == 1 + 15


def test_traffic_profile_refuses_a_negative_barge_in():
    from hil_tests.rigs.profile import TrafficProfile
    with pytest.raises(ValueError, match="barge_in"):
        TrafficProfile(barge_in=-1)
