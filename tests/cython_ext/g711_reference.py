"""An independent G.711 reference built from the tables of the Recommendation.

ITU-T G.711 Table 1 (A-law) and Table 2 (mu-law) list, per segment, the range of
the uniform code it covers and its step size; decision values are the interval
edges and each decoder output is the middle of its interval.  This module
transcribes those tables and quantises by searching them (bisect), which is a
different algorithm from the kernel's bit manipulation.  Linear values here are on
the 16-bit scale: A-law's 13-bit code times 8 (the tables' ``0..4096`` magnitude
becomes ``0..32768``), mu-law's 14-bit code times 4 (``0..8159`` becomes
``0..32636``).  Negative samples use the one's-complement magnitude ``-x - 1``,
mirroring the tables about -1/2 as in ITU-T G.191.
"""
from __future__ import annotations

import bisect

__all__ = ["alaw_encode", "alaw_decode", "ulaw_encode", "ulaw_decode"]

# (first decision value, step) per segment, on the 13-bit A-law scale: segments 0 and 1
# share step 2, then each segment doubles the step and the range (G.711 Table 1).
_ALAW_SEGMENTS_13BIT = [(0, 2), (32, 2), (64, 4), (128, 8), (256, 16), (512, 32), (1024, 64),
                        (2048, 128)]
# mu-law on the 14-bit scale (G.711 Table 2): the first interval of segment 1 is the
# half-width 0..1 whose output is 0; after it, steps 2, 4, ... 256.
_ULAW_SEGMENTS_14BIT = [(1, 2), (31, 4), (95, 8), (223, 16), (479, 32), (991, 64), (2015, 128),
                        (4063, 256)]
_ULAW_TOP_14BIT = 8159


def _alaw_intervals():
    edges, outputs = [], []
    for start, step in _ALAW_SEGMENTS_13BIT:
        for q in range(16):
            low = start + q * step
            edges.append(low * 8)
            outputs.append((low * 8) + step * 4)  # middle of [low, low + step] times 8
    return edges, outputs


def _ulaw_intervals():
    edges, outputs = [0], [0]
    for segment, (start, step) in enumerate(_ULAW_SEGMENTS_14BIT):
        for q in range(16):
            if segment == 0 and q == 15:
                break  # segment 1 has the 0..1 interval plus 15 of step 2
            low = start + q * step
            edges.append(low)
            outputs.append((2 * low + step) * 2)  # middle, times 4
    assert len(edges) == 128 and edges[-1] + 256 == _ULAW_TOP_14BIT
    return edges, outputs


_ALAW_EDGES, _ALAW_OUT = _alaw_intervals()
_ULAW_EDGES, _ULAW_OUT = _ulaw_intervals()


def _magnitude(x: int) -> int:
    return x if x >= 0 else -x - 1


def alaw_encode(x: int) -> int:
    """One 16-bit sample -> A-law character (sign bit 1 for positive, even bits inverted)."""
    index = bisect.bisect_right(_ALAW_EDGES, _magnitude(x)) - 1
    return ((0x80 if x >= 0 else 0x00) | index) ^ 0x55


def alaw_decode(code: int) -> int:
    value = _ALAW_OUT[(code ^ 0x55) & 0x7F]
    return value if code & 0x80 else -value


def ulaw_encode(x: int) -> int:
    """One 16-bit sample -> mu-law character (sign bit 1 for positive, magnitude inverted)."""
    magnitude_14bit = _magnitude(x) // 4  # the 14 most significant bits
    index = min(bisect.bisect_right(_ULAW_EDGES, magnitude_14bit) - 1, 127)
    return (0x80 if x >= 0 else 0x00) | (0x7F - index)


def ulaw_decode(code: int) -> int:
    value = _ULAW_OUT[0x7F - (code & 0x7F)]
    return value if code & 0x80 else -value
