"""cython_ext.dtmf: the API contract (events, buffers, chunking, flush, law=, channels)."""
from __future__ import annotations

import array
import random

import pytest

from cython_ext import g711, tones
from cython_ext.dtmf import THRESHOLDS, DtmfDetector, DtmfEvent, MultiChannelDtmf

DIALLED = tones.silence(100) + tones.dtmf_digits("159#D0", on_ms=60, off_ms=60, level_dbm0=-12)


def _run(detector, data, chunk=None):
    if chunk is None:
        return detector.feed(data) + detector.flush()
    events = []
    for pos in range(0, len(data), chunk):
        events += detector.feed(data[pos:pos + chunk])
    return events + detector.flush()


def test_events_carry_digit_start_and_end():
    events = _run(DtmfDetector(), DIALLED)
    assert "".join(e.digit for e in events) == "159#D0"
    assert isinstance(events[0], DtmfEvent)
    for i, event in enumerate(events):
        start = 100 + i * 960                      # 60 ms on + 60 ms off, at 8 kHz
        assert abs(event.start - start) <= 8 and abs(event.end - (start + 480)) <= 8


@pytest.mark.parametrize("chunk", [1, 7, 31, 160, 1001])
def test_any_chunking_gives_the_same_events(chunk):
    assert _run(DtmfDetector(), DIALLED, chunk=2 * chunk) == _run(DtmfDetector(), DIALLED)


def test_any_buffer_type():
    pcm = array.array("h", DIALLED)
    want = _run(DtmfDetector(), DIALLED)
    for buf in (bytearray(DIALLED), pcm, memoryview(pcm), memoryview(DIALLED)):
        assert _run(DtmfDetector(), buf) == want


def test_flush_reports_a_digit_still_sounding_and_starts_a_new_stream():
    detector = DtmfDetector()
    tone = tones.dtmf_digits("7", on_ms=80, off_ms=0, level_dbm0=-10)
    assert detector.feed(tone) == []               # not ended yet: nothing reported
    (event,) = detector.flush()
    assert event.digit == "7" and event.start == 0 and abs(event.end - 640) <= 8
    assert detector.flush() == []
    (again,) = detector.feed(tone + tones.silence(400))
    assert again.start == 0                        # sample indices restart after flush


def test_digit_reported_as_soon_as_it_ends():
    detector = DtmfDetector()
    assert detector.feed(tones.dtmf_digits("4", on_ms=50, off_ms=0, level_dbm0=-10)) == []
    events = detector.feed(tones.silence(240))     # 30 ms of silence: the split gap passed
    assert [e.digit for e in events] == ["4"]


@pytest.mark.parametrize("law", g711.LAWS)
def test_g711_bytes_fed_directly(law):
    codes = g711.encode(DIALLED, law)
    direct = _run(DtmfDetector(law=law), codes)
    decoded = _run(DtmfDetector(), g711.decode(codes, law))
    assert direct == decoded and "".join(e.digit for e in direct) == "159#D0"


def test_thresholds_are_keywords():
    fifty = tones.dtmf_digits("3", on_ms=50, off_ms=50, level_dbm0=-10)
    assert _run(DtmfDetector(min_duration_ms=60), fifty) == []
    assert [e.digit for e in _run(DtmfDetector(min_duration_ms=45), fifty)] == ["3"]
    quiet = tones.dtmf_digits("3", on_ms=50, off_ms=50, level_dbm0=-40)
    assert _run(DtmfDetector(min_level_dbm0=-36), quiet) == []
    assert set(THRESHOLDS) >= {"min_level_dbm0", "freq_tolerance_pct", "min_duration_ms"}
    with pytest.raises(TypeError, match="unknown threshold"):
        DtmfDetector(min_levle_dbm0=-30)


def test_other_sample_rates():
    at_16k = tones.dtmf_digits("2580", on_ms=50, off_ms=50, level_dbm0=-15, sample_rate=16000)
    events = _run(DtmfDetector(sample_rate=16000), at_16k)
    assert "".join(e.digit for e in events) == "2580"
    assert abs(events[1].start - 1600) <= 16       # in samples at 16 kHz


def test_bad_input():
    with pytest.raises(ValueError, match="whole samples"):
        DtmfDetector().feed(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="unknown G.711 law"):
        DtmfDetector(law="glaw")
    with pytest.raises(ValueError, match="channels"):
        MultiChannelDtmf(0)
    with pytest.raises(ValueError, match="equal channel runs"):
        MultiChannelDtmf(3).feed(bytes(2 * 160 * 3 + 2))


def _span_blocks(streams: list[bytes], block: int, width: int = 2) -> list[bytes]:
    """Channel-major blocks of ``block`` samples from equal-length per-channel streams."""
    step = block * width
    return [b"".join(s[pos:pos + step] for s in streams) for pos in range(0, len(streams[0]), step)]


@pytest.mark.parametrize("block", [160, 37])
@pytest.mark.parametrize("law", [None, "alaw"])
def test_multichannel_matches_one_detector_per_channel(block, law):
    rng = random.Random(f"multichannel:{block}:{law}")
    streams = []
    for _ in range(12):
        digits = "".join(rng.choice("0123456789*#ABCD") for _ in range(rng.randint(0, 5)))
        pcm = tones.silence(rng.randrange(400)) + tones.dtmf_digits(
            digits, rng.uniform(40, 90), rng.uniform(45, 90), rng.uniform(-30, -3))
        streams.append(pcm.ljust(2 * 8000, b"\0")[:2 * 8000])
    if law:
        streams = [g711.encode(s, law) for s in streams]
    span = MultiChannelDtmf(len(streams), law=law)
    got = []
    for buf in _span_blocks(streams, block, width=1 if law else 2):
        got += span.feed(buf)
    got += span.flush()
    want = [(ch, e) for ch, s in enumerate(streams) for e in _run(DtmfDetector(law=law), s)]
    assert sorted(got) == sorted(want)
    assert len(want) > 12
