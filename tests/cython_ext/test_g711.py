"""cython_ext.g711 against an independent table-driven reference, exhaustively."""
from __future__ import annotations

import array

import pytest

from cython_ext import g711
from tests.cython_ext import g711_reference as ref

ALL_INPUTS = array.array("h", range(-32768, 32768))
ALL_CODES = bytes(range(256))


def test_alaw_decode_all_256_codes():
    assert list(array.array("h", g711.alaw_decode(ALL_CODES))) == [ref.alaw_decode(c) for c in range(256)]


def test_ulaw_decode_all_256_codes():
    assert list(array.array("h", g711.ulaw_decode(ALL_CODES))) == [ref.ulaw_decode(c) for c in range(256)]


def test_alaw_encode_all_65536_inputs():
    assert list(g711.alaw_encode(ALL_INPUTS)) == [ref.alaw_encode(x) for x in ALL_INPUTS]


def test_ulaw_encode_all_65536_inputs():
    assert list(g711.ulaw_encode(ALL_INPUTS)) == [ref.ulaw_encode(x) for x in ALL_INPUTS]


@pytest.mark.parametrize("law", g711.LAWS)
def test_decoded_values_encode_back_to_their_code(law):
    codes = bytes(range(256))
    again = g711.encode(g711.decode(codes, law), law)
    if law == "ulaw":  # -0 (0x7F) decodes to 0, which encodes as +0 (0xFF)
        assert again == codes.replace(b"\x7f", b"\xff")
    else:
        assert again == codes


def test_well_known_points():
    # A-law: the smallest positive input is 0xD5, full scale 0xAA; mu-law: 0xFF and 0x80.
    assert g711.alaw_encode(array.array("h", [0, 32767, -32768])) == bytes([0xD5, 0xAA, 0x2A])
    assert g711.ulaw_encode(array.array("h", [0, 32767, -32768])) == bytes([0xFF, 0x80, 0x00])
    assert max(g711.decode_table("alaw")) == 32256 and max(g711.decode_table("ulaw")) == 32124


def test_any_buffer_and_errors():
    pcm = array.array("h", [1000, -1000])
    assert g711.ulaw_encode(pcm.tobytes()) == g711.ulaw_encode(bytearray(pcm.tobytes())) \
        == g711.ulaw_encode(memoryview(pcm)) == g711.ulaw_encode(pcm)
    with pytest.raises(ValueError, match="whole 16-bit samples"):
        g711.alaw_encode(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="unknown G.711 law"):
        g711.encode(pcm, "glaw")
    assert g711.alaw_encode(b"") == b"" and g711.alaw_decode(b"") == b""
