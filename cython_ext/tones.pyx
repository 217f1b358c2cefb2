# cython: language_level=3
"""Tone generation kernel: sums of sines, cadenced sequences and DTMF digit strings.

Every function returns ``bytes`` of signed 16-bit little-endian samples (the
layout DAHDI, WAV and ``qbox dtmf`` use).  Levels are in dBm0 *per tone*, per
ITU-T G.711: a full-scale sine (peak 32767) is +3.14 dBm0, so 0 dBm0 is a sine
of peak 32767 * 10**(-3.14/20), about 22 826.  Samples are rounded to nearest
and clipped to the int16 range, so a mix whose peaks exceed full scale clips
exactly as a real codec would.

Contracts (stable; other parts build on them):

* ``sine_mix(freqs, level_dbm0, n_samples, sample_rate=8000, phases=None)``
* ``cadence(segments, level_dbm0, repeat=1, sample_rate=8000)``; a segment is
  ``(freqs, duration_ms)``, an empty ``freqs`` is silence.
* ``dtmf_digits(digits, on_ms, off_ms, level_dbm0, twist_db=0, sample_rate=8000)``
"""
import sys

from cpython cimport array
from libc.math cimport M_PI, lround, pow, sin

import array

__all__ = [
    "FULL_SCALE_DBM0",
    "DTMF_LOW",
    "DTMF_HIGH",
    "DTMF_KEYS",
    "amplitude",
    "sine_mix",
    "cadence",
    "silence",
    "dtmf_pair",
    "dtmf_digits",
]

#: Level of a full-scale (peak 32767) sine in dBm0, per G.711.
FULL_SCALE_DBM0 = 3.14
#: DTMF row (low group) and column (high group) frequencies in Hz, ITU-T Q.23.
DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
#: Keypad layout: DTMF_KEYS[row][column].
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")

cdef double _PEAK = 32767.0
cdef array.array _INT16_TEMPLATE = array.array("h")


cpdef double amplitude(double level_dbm0):
    """Peak amplitude (in int16 units) of one sine at ``level_dbm0``."""
    return _PEAK * pow(10.0, (level_dbm0 - FULL_SCALE_DBM0) / 20.0)


def _levels(freqs, level_dbm0):
    """One level per frequency: ``level_dbm0`` is a number or a sequence of them."""
    if isinstance(level_dbm0, (int, float)):
        return [float(level_dbm0)] * len(freqs)
    levels = [float(level) for level in level_dbm0]
    if len(levels) != len(freqs):
        raise ValueError(f"{len(freqs)} frequencies but {len(levels)} levels")
    return levels


cdef void _add_sines(double[::1] acc, Py_ssize_t start, Py_ssize_t n,
                     freqs, levels, phases, double sample_rate):
    """acc[start:start+n] += sum of sines (phase counted from acc index ``start``)."""
    cdef Py_ssize_t i, k
    cdef double amp, omega, phase
    for k in range(len(freqs)):
        amp = amplitude(levels[k])
        omega = 2.0 * M_PI * float(freqs[k]) / sample_rate
        phase = 0.0 if phases is None else float(phases[k])
        for i in range(n):
            acc[start + i] += amp * sin(omega * i + phase)


cdef bytes _to_int16_bytes(double[::1] acc):
    """Round to nearest, clip to int16, serialise little-endian."""
    cdef Py_ssize_t i, n = acc.shape[0]
    cdef array.array out = array.clone(_INT16_TEMPLATE, n, zero=False)
    cdef short[::1] view = out
    cdef long v
    for i in range(n):
        v = lround(acc[i])
        if v > 32767:
            v = 32767
        elif v < -32768:
            v = -32768
        view[i] = <short>v
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


cdef double[::1] _zeros(Py_ssize_t n):
    return array.clone(array.array("d"), n, zero=True)


def silence(Py_ssize_t n_samples):
    """``n_samples`` of digital silence."""
    if n_samples < 0:
        raise ValueError("n_samples must be >= 0")
    return bytes(2 * n_samples)


def sine_mix(freqs, level_dbm0, Py_ssize_t n_samples, double sample_rate=8000,
             phases=None):
    """Sum of sines, each at ``level_dbm0`` dBm0 (a number, or one per frequency).

    ``phases`` (radians, one per frequency) defaults to all zero.  Returns
    ``n_samples`` int16 little-endian samples as bytes.
    """
    if n_samples < 0:
        raise ValueError("n_samples must be >= 0")
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    freqs = [float(f) for f in freqs]
    levels = _levels(freqs, level_dbm0)
    if phases is not None and len(phases) != len(freqs):
        raise ValueError(f"{len(freqs)} frequencies but {len(phases)} phases")
    acc = _zeros(n_samples)
    _add_sines(acc, 0, n_samples, freqs, levels, phases, sample_rate)
    return _to_int16_bytes(acc)


def _ms_to_samples(double duration_ms, double sample_rate):
    if duration_ms < 0:
        raise ValueError(f"negative duration {duration_ms} ms")
    return int(round(duration_ms * sample_rate / 1000.0))


def cadence(segments, level_dbm0, int repeat=1, double sample_rate=8000):
    """A cadenced tone: ``segments`` of ``(freqs, duration_ms)`` played ``repeat`` times.

    An empty ``freqs`` is silence.  ``level_dbm0`` applies to every tone of every
    segment (a number, or a sequence matching each segment's ``freqs``).  Each
    segment starts at phase zero, as a cadence switched on and off does.
    """
    if repeat < 0:
        raise ValueError("repeat must be >= 0")
    plan = []
    cdef Py_ssize_t total = 0
    for freqs, duration_ms in segments:
        freqs = [float(f) for f in freqs]
        n = _ms_to_samples(duration_ms, sample_rate)
        plan.append((freqs, n))
        total += n
    acc = _zeros(total)
    cdef Py_ssize_t start = 0
    for freqs, n in plan:
        if freqs:
            _add_sines(acc, start, n, freqs, _levels(freqs, level_dbm0), None, sample_rate)
        start += n
    return _to_int16_bytes(acc) * repeat


def dtmf_pair(str digit):
    """``(low_hz, high_hz)`` of one DTMF key (``0-9 * # A-D``, case-insensitive)."""
    key = digit.upper()
    for row, keys in enumerate(DTMF_KEYS):
        column = keys.find(key)
        if len(key) == 1 and column >= 0:
            return DTMF_LOW[row], DTMF_HIGH[column]
    raise ValueError(f"not a DTMF digit: {digit!r}")


def dtmf_digits(str digits, double on_ms, double off_ms, double level_dbm0,
                double twist_db=0.0, double sample_rate=8000):
    """DTMF dialling: each digit ``on_ms`` of tone then ``off_ms`` of silence.

    The low-group tone is at ``level_dbm0``; the high-group tone at
    ``level_dbm0 - twist_db``, so a positive ``twist_db`` is standard twist (high
    group weaker) and a negative one reverse twist.
    """
    pairs = [dtmf_pair(d) for d in digits]
    cdef Py_ssize_t n_on = _ms_to_samples(on_ms, sample_rate)
    cdef Py_ssize_t n_off = _ms_to_samples(off_ms, sample_rate)
    cdef Py_ssize_t step = n_on + n_off
    acc = _zeros(step * len(pairs))
    levels = [level_dbm0, level_dbm0 - twist_db]
    for i, pair in enumerate(pairs):
        _add_sines(acc, i * step, n_on, pair, levels, None, sample_rate)
    return _to_int16_bytes(acc)
