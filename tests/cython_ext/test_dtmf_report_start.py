"""cython_ext.dtmf report_start=True: a digit's start (end None) as soon as it passes,
before its end; off by default, and the ends stay those of the default receiver."""
from __future__ import annotations

import pytest

from cython_ext import g711, tones
from cython_ext.dtmf import DtmfDetector, MultiChannelDtmf
from tests.cython_ext.test_dtmf_share_check import CHANNELS, _span

SILENCE = 100                                                       # samples before the first digit
DIALLED = tones.silence(SILENCE) + tones.dtmf_digits("159#D0", on_ms=40, off_ms=40, level_dbm0=-12)
MIN_DURATION = 252                                                  # 31.5 ms


def _fed_in(detector: DtmfDetector, pcm: bytes, samples: int) -> list[tuple[int, object]]:
    """(samples fed when the event came out, event), feeding int16 ``pcm`` in runs of
    ``samples``."""
    out = []
    for pos in range(0, len(pcm), 2 * samples):
        out += [(pos // 2 + samples, e) for e in detector.feed(pcm[pos:pos + 2 * samples])]
    return out + [(len(pcm) // 2, e) for e in detector.flush()]


def _whole(detector: DtmfDetector, pcm: bytes) -> list:
    return detector.feed(pcm) + detector.flush()


def test_off_by_default():
    events = _whole(DtmfDetector(), DIALLED)
    assert len(events) == 6 and all(e.end is not None for e in events)
    multi = MultiChannelDtmf(1).feed(DIALLED)
    assert all(e.end is not None for _, e in multi)
    assert multi == [(0, e) for e in DtmfDetector().feed(DIALLED)]


def test_each_digit_starts_as_soon_as_it_passes_then_ends():
    timed = _fed_in(DtmfDetector(report_start=True), DIALLED, 8)         # 1 ms feeds
    events = [e for _, e in timed]
    assert [(e.digit, e.end is None) for e in events] == [
        (d, start) for d in "159#D0" for start in (True, False)]
    default = _whole(DtmfDetector(), DIALLED)
    assert events[1::2] == default
    for (fed, start), (_, end) in zip(timed[::2], timed[1::2]):
        assert start.start == end.start
        # Once the tone has lasted the minimum, within 5 ms; well before its end.
        assert MIN_DURATION <= fed - start.start <= MIN_DURATION + 40
        assert fed < end.end


def test_a_tone_too_short_has_no_start():
    short = tones.silence(SILENCE) + tones.dtmf_digits("5", on_ms=23, off_ms=60, level_dbm0=-12)
    detector = DtmfDetector(report_start=True)
    assert detector.feed(short) + detector.flush() == []


def test_flush_ends_a_started_digit():
    sounding = tones.silence(SILENCE) + tones.dtmf_digits("7", on_ms=80, off_ms=0, level_dbm0=-20)
    detector = DtmfDetector(report_start=True)
    started = detector.feed(sounding)
    assert [(e.digit, e.end) for e in started] == [("7", None)]
    ended = detector.flush()
    assert [e.digit for e in ended] == ["7"] and ended[0].start == started[0].start
    assert ended[0].end is not None


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_channels_of_a_span_start_independently(law):
    codes = g711.encode(DIALLED + tones.silence(800), law)
    quiet = g711.encode(tones.silence(len(codes)), law)
    late = quiet[:500] + codes[:-500]                               # channel 2: 62.5 ms later
    span = MultiChannelDtmf(3, law=law, report_start=True)
    found = []
    for pos in range(0, len(codes), 160):
        found += span.feed(codes[pos:pos + 160] + quiet[pos:pos + 160] + late[pos:pos + 160])
    found += span.flush()
    assert {ch for ch, _ in found} == {0, 2}
    for ch in (0, 2):
        events = [e for c, e in found if c == ch]
        assert "".join(e.digit for e in events if e.end is None) == "159#D0"
        assert [e for e in events if e.end is not None] == [
            e for c, e in _default(codes, quiet, late, law) if c == ch]


def _default(*streams_and_law):
    *streams, law = streams_and_law
    span = MultiChannelDtmf(len(streams), law=law)
    found = []
    for pos in range(0, len(streams[0]), 160):
        found += span.feed(b"".join(s[pos:pos + 160] for s in streams))
    return found + span.flush()


def test_in_noise_starts_and_ends_pair_up_and_keep_the_default_ends():
    """A start always gets its end and an end its start; the ends are the default
    receiver's, plus the ends of the few started digits a later window refused."""
    blocks = _span(3)
    default, reported = MultiChannelDtmf(CHANNELS), MultiChannelDtmf(CHANNELS, report_start=True)
    want, got = [], []
    for block in blocks:
        want += default.feed(block)
        got += reported.feed(block)
    want += default.flush()
    got += reported.flush()
    ends = [(ch, e) for ch, e in got if e.end is not None]
    assert sorted((ch, e.digit, e.start) for ch, e in got if e.end is None) == sorted(
        (ch, e.digit, e.start) for ch, e in ends)
    for ch in range(CHANNELS):
        opened = None
        for c, e in got:
            if c == ch:
                assert (opened is None) == (e.end is None)     # start, end, start, end...
                opened = e if e.end is None else None
    assert [x for x in ends if x in want] == want
    assert len(ends) - len(want) <= 0.1 * len(want)
