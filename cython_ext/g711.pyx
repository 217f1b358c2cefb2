# cython: language_level=3
"""G.711 A-law and mu-law companding of whole buffers, bit-exact with ITU-T G.711.

Linear audio is signed 16-bit, native byte order (little-endian on every qbox
target), in any buffer-protocol object (bytes, bytearray, ``array('h')``,
memoryview).  Companded audio is one byte per sample.  The quantiser follows the
ITU-T G.191 reference (``g711.c``): A-law uses the 13 most significant bits,
mu-law the 14 most significant, negative samples are taken as their one's
complement (the tables are mirrored about -1/2) and decoded values sit in the
middle of their quantisation interval.  No zero-code suppression is applied.

All conversions are table look-ups built once at import: 64 KiB per law for
encoding (indexed by the 16-bit sample), 256 entries for decoding.
"""

from cpython cimport array
from libc.stdint cimport int16_t, uint8_t, uint16_t

import array

__all__ = [
    "LAWS",
    "alaw_encode",
    "alaw_decode",
    "ulaw_encode",
    "ulaw_decode",
    "encode",
    "decode",
    "decode_table",
]

#: Names accepted by :func:`encode`, :func:`decode` and ``law=`` elsewhere.
LAWS = ("alaw", "ulaw")

cdef uint8_t _ALAW_ENC[65536]
cdef uint8_t _ULAW_ENC[65536]
cdef int16_t _ALAW_DEC[256]
cdef int16_t _ULAW_DEC[256]

cdef uint8_t _alaw_compress(int x):
    """One sample, G.191 style: 12-bit magnitude, segment search, even bits toggled."""
    cdef int ix = (~x if x < 0 else x) >> 4
    cdef int exponent
    if ix > 15:
        exponent = 1
        while ix > 31:
            ix >>= 1
            exponent += 1
        ix = ix - 16 + (exponent << 4)
    if x >= 0:
        ix |= 0x80
    return <uint8_t>(ix ^ 0x55)

cdef int16_t _alaw_expand(int code):
    cdef int ix = (code ^ 0x55) & 0x7F
    cdef int exponent = ix >> 4
    cdef int mantissa = ix & 0x0F
    if exponent > 0:
        mantissa += 16
    mantissa = (mantissa << 4) + 8
    if exponent > 1:
        mantissa <<= exponent - 1
    return <int16_t>(mantissa if code > 127 else -mantissa)

cdef uint8_t _ulaw_compress(int x):
    """One sample, G.191 style: 14-bit magnitude biased by 33, all bits inverted."""
    cdef int absno = ((~x if x < 0 else x) >> 2) + 33
    cdef int segment = 1, i
    if absno > 0x1FFF:
        absno = 0x1FFF
    i = absno >> 6
    while i:
        segment += 1
        i >>= 1
    cdef int code = ((8 - segment) << 4) | (15 - ((absno >> segment) & 0x0F))
    if x >= 0:
        code |= 0x80
    return <uint8_t>code

cdef int16_t _ulaw_expand(int code):
    cdef int sign = -1 if code < 0x80 else 1
    cdef int inverted = ~code
    cdef int exponent = (inverted >> 4) & 0x07
    cdef int mantissa = inverted & 0x0F
    cdef int step = 4 << (exponent + 1)
    return <int16_t>(sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33))

cdef void _build_tables():
    cdef int x, code
    for x in range(-32768, 32768):
        _ALAW_ENC[<uint16_t>x] = _alaw_compress(x)
        _ULAW_ENC[<uint16_t>x] = _ulaw_compress(x)
    for code in range(256):
        _ALAW_DEC[code] = _alaw_expand(code)
        _ULAW_DEC[code] = _ulaw_expand(code)

_build_tables()

cdef const int16_t[::1] _linear_view(object buf):
    """A read-only int16 view of ``buf`` (raises ValueError for an odd byte count)."""
    view = memoryview(buf)
    if view.format != "h" or view.ndim != 1 or not view.c_contiguous:
        view = view.cast("B")
        if len(view) % 2:
            raise ValueError(f"linear audio must be whole 16-bit samples, got {len(view)} bytes")
        view = view.cast("h")
    return view

cdef bytes _encode(object buf, const uint8_t* table):
    cdef const int16_t[::1] pcm = _linear_view(buf)
    cdef Py_ssize_t i, n = pcm.shape[0]
    cdef bytearray out = bytearray(n)
    cdef uint8_t* dst = out
    with nogil:
        for i in range(n):
            dst[i] = table[<uint16_t>pcm[i]]
    return bytes(out)

cdef bytes _decode(object buf, const int16_t* table):
    cdef const uint8_t[::1] codes = memoryview(buf).cast("B")
    cdef Py_ssize_t i, n = codes.shape[0]
    cdef array.array out = array.clone(array.array("h"), n, zero=False)
    cdef int16_t* dst = <int16_t*>out.data.as_shorts
    with nogil:
        for i in range(n):
            dst[i] = table[codes[i]]
    return out.tobytes()

def alaw_encode(buf):
    """int16 samples -> A-law bytes (one per sample)."""
    return _encode(buf, _ALAW_ENC)

def ulaw_encode(buf):
    """int16 samples -> mu-law bytes (one per sample)."""
    return _encode(buf, _ULAW_ENC)

def alaw_decode(buf):
    """A-law bytes -> int16 samples (native byte order) as bytes."""
    return _decode(buf, _ALAW_DEC)

def ulaw_decode(buf):
    """mu-law bytes -> int16 samples (native byte order) as bytes."""
    return _decode(buf, _ULAW_DEC)

def _law(str law):
    if law not in LAWS:
        raise ValueError(f"unknown G.711 law {law!r}: use one of {', '.join(LAWS)}")
    return law

def encode(buf, str law):
    """int16 samples -> ``law`` ("alaw" or "ulaw") bytes."""
    return alaw_encode(buf) if _law(law) == "alaw" else ulaw_encode(buf)

def decode(buf, str law):
    """``law`` ("alaw" or "ulaw") bytes -> int16 samples as bytes."""
    return alaw_decode(buf) if _law(law) == "alaw" else ulaw_decode(buf)

def decode_table(str law):
    """The 256 decoded values of ``law`` as a tuple of ints, indexed by code."""
    cdef const int16_t* table = _ULAW_DEC
    if _law(law) == "alaw":
        table = _ALAW_DEC
    return tuple(table[code] for code in range(256))
