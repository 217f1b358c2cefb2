"""Seeded DTMF test signals with their ground truth, for the receiver's conformance tests.

A *stream* is a run of bursts separated by silence (or noise) with random phases
and random sub-block alignment, encoded as the receiver will see it.  Every burst
is described by a :class:`Burst`; :func:`stream` returns the audio and the list of
``(digit, start, end)`` the receiver should report.
"""
from __future__ import annotations

import array
import math
import random
import sys
from dataclasses import dataclass

from cython_ext import g711, tones

__all__ = ["Burst", "Stream", "stream", "detect", "KEYS"]

KEYS = "123A456B789C*0#D"
RATE = 8000


@dataclass(frozen=True)
class Burst:
    """One DTMF tone: ``on_ms`` long, low group at ``level`` dBm0, high group at
    ``level - twist_db``; frequencies off nominal by ``low_pct``/``high_pct``.

    ``dropout_ms`` silences the middle of the burst; ``phase_jump`` restarts the
    tones with new random phases after it (a re-keyed generator) instead of
    keeping them running.
    """

    digit: str
    on_ms: float
    level: float
    twist_db: float = 0.0
    low_pct: float = 0.0
    high_pct: float = 0.0
    dropout_ms: float = 0.0
    phase_jump: bool = False


@dataclass
class Stream:
    pcm: array.array          # int16 samples before any companding
    truth: list               # (digit, start, end) per burst, samples


def _ms(ms: float) -> int:
    return int(round(ms * RATE / 1000))


def _tone(burst: Burst, n: int, rng: random.Random) -> array.array:
    low, high = tones.dtmf_pair(burst.digit)
    freqs = [low * (1 + burst.low_pct / 100), high * (1 + burst.high_pct / 100)]
    phases = [rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)]
    return _pcm(tones.sine_mix(freqs, [burst.level, burst.level - burst.twist_db], n, phases=phases))


def _pcm(buf: bytes) -> array.array:
    out = array.array("h", buf)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _burst(burst: Burst, rng: random.Random) -> array.array:
    n = _ms(burst.on_ms)
    if not burst.dropout_ms:
        return _tone(burst, n, rng)
    gap = _ms(burst.dropout_ms)
    first = (n - gap) // 2
    if burst.phase_jump:
        return _tone(burst, first, rng) + array.array("h", bytes(2 * gap)) + _tone(burst, n - gap - first, rng)
    pcm = _tone(burst, n, rng)
    pcm[first:first + gap] = array.array("h", bytes(2 * gap))
    return pcm


def stream(bursts, rng: random.Random, gap_ms=(60.0, 90.0), snr_db: float | None = None,
           dc: int = 0) -> Stream:
    """Bursts separated by random gaps in ``gap_ms`` (a (low, high) range or a number).

    ``snr_db`` adds white Gaussian noise (0-4 kHz) whose total power is that far
    below the low-group tone level of each burst, over the burst and the gap after
    it; ``dc`` adds a constant.  The sum is clipped to int16 as a codec would.
    """
    pcm = array.array("h", bytes(2 * rng.randrange(0, 64)))
    truth = []
    noise_sigma = []
    for burst in bursts:
        start = len(pcm)
        pcm.extend(_burst(burst, rng))
        truth.append((burst.digit, start, len(pcm)))
        gap = gap_ms if isinstance(gap_ms, (int, float)) else rng.uniform(*gap_ms)
        pcm.extend(array.array("h", bytes(2 * _ms(gap))))
        if snr_db is not None:
            sigma = tones.amplitude(burst.level - snr_db) / math.sqrt(2)
            noise_sigma.append((start, len(pcm), sigma))
    if snr_db is None and not dc:
        return Stream(pcm, truth)
    values = [float(v + dc) for v in pcm]
    for first, last, sigma in noise_sigma:
        for i in range(first, last):
            values[i] += rng.gauss(0.0, sigma)
    out = array.array("h", (max(-32768, min(32767, round(v))) for v in values))
    return Stream(out, truth)


def detect(pcm: array.array, law: str | None, rng: random.Random, **thresholds):
    """Run a fresh DtmfDetector over ``pcm`` (G.711-companded first when ``law`` is
    given, and fed as G.711 bytes), in random-sized chunks; returns the events."""
    from cython_ext.dtmf import DtmfDetector

    data = pcm.tobytes() if law is None else g711.encode(pcm, law)
    width = 1 if law else 2
    detector = DtmfDetector(law=law, **thresholds)
    events, pos = [], 0
    while pos < len(data):
        size = rng.randrange(1, 1200) * width
        events += detector.feed(data[pos:pos + size])
        pos += size
    return events + detector.flush()
