"""The command bytes each tower family puts on the wire, checked against the vendors' tables."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.tower import TowerState, adafruit, patlite_pns, patlite_usb

modes = st.sampled_from(["off", "on", "flash"])
states = st.builds(TowerState, red=modes, amber=modes, green=modes, buzzer=st.booleans())


def test_adafruit_bytes_match_the_published_example():
    # Adafruit's example: RED_ON 0x11, YELLOW_BLINK 0x42, GREEN_OFF 0x24, BUZZER_ON 0x18.
    assert adafruit.encode(None, TowerState(red="on", amber="flash", buzzer=True)) == bytes(
        [0x11, 0x42, 0x24, 0x18])
    assert adafruit.encode(None, TowerState()) == bytes([0x28, 0x21, 0x22, 0x24])


def test_adafruit_sends_only_what_changed_sound_last_silence_first():
    before = TowerState(green="on")
    alarm = TowerState(red="flash", buzzer=True)
    assert adafruit.encode(before, alarm) == bytes([0x41, 0x24, 0x18])
    assert adafruit.encode(alarm, alarm) == b""
    assert adafruit.encode(alarm, TowerState(red="on")) == bytes([0x28, 0x11])


@given(states, states)
def test_adafruit_decoding_the_bytes_gives_the_state(previous, state):
    decoded = previous
    for byte in adafruit.encode(previous, state):
        decoded = adafruit.decode_byte(byte, decoded)
    assert decoded == state


@pytest.mark.parametrize("byte", [0x00, 0x31, 0x13, 0x1F, 0xFF])
def test_adafruit_rejects_bytes_that_are_not_commands(byte):
    assert adafruit.decode_byte(byte, TowerState()) is None


def test_lr6_report_layout():
    report = patlite_usb.encode_lr6(TowerState(red="flash", amber="on", green="off", buzzer=True))
    # version, id, buzzer continuous (limit 0), default pitch, R=pattern1|Y=on, G=off|B=keep, W=keep
    assert report == bytes([0x00, 0x00, 0x01, 0xEF, 0x21, 0x0F, 0xF0, 0x00])
    assert patlite_usb.encode_lr6(TowerState()) == bytes([0, 0, 0, 0xEF, 0x00, 0x0F, 0xF0, 0])


@given(states, states)
def test_lr6_round_trip(previous, state):
    assert patlite_usb.decode_lr6(patlite_usb.encode_lr6(state), previous) == state


def test_lr6_keep_nibbles_keep():
    current = TowerState(red="on", amber="flash", green="on", buzzer=True)
    keep_all = bytes([0, 0, 0x0F, 0xEF, 0xFF, 0xFF, 0xF0, 0])
    assert patlite_usb.decode_lr6(keep_all, current) == current
    assert patlite_usb.decode_lr6(b"\x01" + keep_all[1:], current) is None
    assert patlite_usb.decode_lr6(keep_all[:7], current) is None


def test_ne_shows_the_most_urgent_lamp():
    report = patlite_usb.encode_ne(TowerState(red="flash", amber="on", green="on", buzzer=True))
    # colour red (1) with flash pattern 1 (2); buzzer continuous at volume 10
    assert report == bytes([0, 0, 0x01, 10, 0x12, 0, 0, 0])
    assert patlite_usb.encode_ne(TowerState(green="on")) == bytes([0, 0, 0, 0, 0x21, 0, 0, 0])
    assert patlite_usb.encode_ne(TowerState()) == bytes(8)
    assert patlite_usb.decode_ne(report, TowerState()) == TowerState(red="flash", buzzer=True)


def test_pns_run_frame_layout():
    frame = patlite_pns.encode_run(TowerState(red="flash", green="on", buzzer=True))
    # "AB", 'S', spare 0, size 6 big-endian, R G B... with blue/white "no change" (9)
    assert frame == b"AB" + bytes([0x53, 0x00, 0x00, 0x06, 2, 0, 1, 9, 9, 1])
    assert patlite_pns.frame(patlite_pns.GET) == b"AB" + bytes([0x47, 0, 0, 0])


@given(states, states)
def test_pns_round_trip(previous, state):
    data = patlite_pns.encode_run(state)[patlite_pns.HEADER.size:]
    assert patlite_pns.decode_run(data, previous) == state


@pytest.mark.parametrize("data", [bytes([8, 0, 0, 0, 0, 0]), bytes([0, 0, 0, 0, 0, 10]), bytes(5)])
def test_pns_rejects_out_of_range_data(data):
    assert patlite_pns.decode_run(data, TowerState()) is None
