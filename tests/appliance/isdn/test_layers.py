"""The scapy layers: building, dissecting and the dispatch between classes."""
from __future__ import annotations

import pytest

from appliance.isdn import q921, q931
from appliance.isdn.q921 import DISC, DM, FRMR, LAPD, SABME, UA, UI, LAPDInformation, LAPDSupervisory
from appliance.isdn.q931 import (
    BearerCapability, CalledPartyNumber, CallingPartyNumber, Cause, ChannelIdentification, Display,
    DisplayWithType, Q931, SendingComplete, Setup, Shift, UnknownIE,
)


@pytest.mark.parametrize("cls, control", [
    (SABME, 0x7F), (UA, 0x73), (DISC, 0x53), (DM, 0x1F), (UI, 0x13),
])
def test_unnumbered_frames_have_their_q921_control_octets(cls, control):
    raw = bytes(LAPD(cr=1) / cls(pf=1))
    assert raw == bytes([0x02, 0x01, control])
    assert type(LAPD(raw).payload) is cls


def test_address_field_follows_figure_5():
    frame = LAPD(bytes([0x02, 0x01, 0x7F]))
    assert (frame.sapi, frame.cr, frame.ea0, frame.tei, frame.ea1) == (0, 1, 0, 0, 1)


def test_i_frame_carries_q931_and_sequence_numbers():
    raw = bytes(LAPD() / LAPDInformation(ns=5, nr=127, p=1) / Setup(callref=0x1234, ies=[BearerCapability()]))
    assert raw[:4] == bytes([0x00, 0x01, 0x0A, 0xFF])
    frame = LAPD(raw)
    assert frame[LAPDInformation].ns == 5 and frame[LAPDInformation].nr == 127
    assert isinstance(frame[Q931], Setup) and frame[Q931].callref == 0x1234


def test_supervisory_frames():
    raw = bytes(LAPD() / LAPDSupervisory(function=q921.S_REJ, nr=9, pf=1))
    assert raw[2:] == bytes([0x09, 0x13])
    assert LAPD(raw)[LAPDSupervisory].function == q921.S_REJ


def test_frmr_information_field():
    raw = bytes(LAPD() / FRMR(rejected_control=0x0203, vs=4, vr=5, z=1))
    frame = LAPD(raw)[FRMR]
    assert (frame.rejected_control, frame.vs, frame.vr, frame.z) == (0x0203, 4, 5, 1)


def test_message_dispatch_by_type_and_callref_flag():
    raw = bytes(q931.Release(callref=7, callref_flag=1, ies=[Cause(cause_value=17, location=2)]))
    assert raw == bytes([0x08, 0x02, 0x80, 0x07, 0x4D, 0x08, 0x02, 0x82, 0x91])
    msg = Q931(raw)
    assert isinstance(msg, q931.Release) and msg.callref_flag == 1
    assert msg.ie(Cause).cause_value == 17


def test_one_octet_call_reference_and_dummy():
    assert bytes(q931.StatusEnquiry(callref_len=1, callref=5)) == bytes([0x08, 0x01, 0x05, 0x75])
    dummy = Q931(bytes([0x08, 0x00, 0x62]))
    assert dummy.callref_len == 0 and dummy.message_type == 0x62


def test_setup_elements_round_trip():
    setup = Setup(callref=1, ies=[
        SendingComplete(), BearerCapability(layer1_protocol=2),
        ChannelIdentification(exclusive=0, channel=17),
        CallingPartyNumber(type_of_number=2, presentation=1, screening=3, digits=b"5551234567"),
        CalledPartyNumber(digits=b"4000")])
    again = Q931(bytes(setup))
    assert again.ie(BearerCapability).layer1_protocol == 2
    chan = again.ie(ChannelIdentification)
    assert (chan.exclusive, chan.channel, chan.interface_type) == (0, 17, 1)
    calling = again.ie(CallingPartyNumber)
    assert (calling.type_of_number, calling.presentation, calling.screening, calling.digits) == \
        (2, 1, 3, b"5551234567")
    assert again.ie(CalledPartyNumber).digits == b"4000"
    assert bytes(again) == bytes(setup)


def test_calling_number_without_octet_3a():
    ie = CallingPartyNumber(bytes([0x6C, 0x04, 0x81, 0x31, 0x32, 0x33]))
    assert ie.ext3 == 1 and ie.presentation is None and ie.digits == b"123"


def test_display_variants_are_told_apart_by_the_first_octet():
    plain, typed = q931.ie_class(b"\x28\x03Bob"), q931.ie_class(b"\x28\x04\xb1Bob")
    assert plain is Display and typed is DisplayWithType
    assert DisplayWithType(b"\x28\x04\xb1Bob").text == b"Bob"


def test_truncated_element_is_marked_and_does_not_swallow_the_next():
    # DISCONNECT whose Cause has only octet 3 (its cause value octet 4 is missing),
    # then a called number: the cause must not read the called number's octets.
    raw = bytes([0x08, 0x02, 0x80, 0x05, 0x45]) + bytes([0x08, 0x01, 0x80]) + bytes([0x70, 0x02, 0x80, 0x31])
    msg = Q931(raw)
    assert [type(e) for e in msg.ies] == [Cause, CalledPartyNumber]
    assert msg.ies[0].malformed and not msg.ies[1].malformed


def test_elements_after_a_shift_are_kept_as_unknown():
    raw = bytes(Setup(ies=[Shift(codeset=6, non_locking=1), UnknownIE(id=0x04, data=b"xy"),
                           CalledPartyNumber(digits=b"1")]))
    classes = [type(e) for e in Q931(raw).ies]
    assert classes == [Shift, UnknownIE, CalledPartyNumber]   # 0x04 in codeset 6 is not bearer capability
