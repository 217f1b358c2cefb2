"""Plain-Python signal helpers for the DSP kernel tests (independent of the kernels).

Everything here is deliberately simple, slow-but-obvious Python: it is the yardstick
the Cython kernels are measured against, so it must not share their code.
"""
from __future__ import annotations

import array
import math
import random
import sys

__all__ = [
    "FULL_SCALE_DBM0",
    "samples",
    "to_bytes",
    "rms",
    "level_dbm0",
    "tone_power",
    "white_noise",
    "mix",
]

FULL_SCALE_DBM0 = 3.14


def samples(buf: bytes) -> array.array:
    """int16 little-endian bytes -> array('h')."""
    out = array.array("h", buf)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def to_bytes(values) -> bytes:
    """Round, clip to int16 and serialise little-endian."""
    out = array.array("h", (max(-32768, min(32767, round(v))) for v in values))
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def rms(values) -> float:
    return math.sqrt(sum(v * v for v in values) / len(values)) if len(values) else 0.0


def level_dbm0(values) -> float:
    """Power of ``values`` in dBm0: a sine of peak 32767 (rms 32767/sqrt 2) is +3.14."""
    return FULL_SCALE_DBM0 + 20 * math.log10(rms(values) * math.sqrt(2) / 32767)


def tone_power(values, freq: float, sample_rate: float = 8000) -> float:
    """Level in dBm0 of the component of ``values`` at ``freq`` (single-bin DFT)."""
    n = len(values)
    w = 2 * math.pi * freq / sample_rate
    re = sum(v * math.cos(w * i) for i, v in enumerate(values))
    im = sum(v * math.sin(w * i) for i, v in enumerate(values))
    peak = 2 * math.hypot(re, im) / n
    return FULL_SCALE_DBM0 + 20 * math.log10(max(peak, 1e-9) / 32767)


def white_noise(n: int, level: float, rng: random.Random, sample_rate: float = 8000) -> list[float]:
    """Gaussian white noise (flat 0..fs/2) whose total power is ``level`` dBm0."""
    sigma = 32767 / math.sqrt(2) * 10 ** ((level - FULL_SCALE_DBM0) / 20)
    return [rng.gauss(0.0, sigma) for _ in range(n)]


def mix(*signals) -> list[float]:
    """Sample-wise sum of equal-length sequences."""
    return [sum(parts) for parts in zip(*signals, strict=True)]
