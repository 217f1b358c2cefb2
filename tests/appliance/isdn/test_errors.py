"""Q.931 5.8: bad messages are answered as the recommendation says, or ignored, and
counted.  Messages are built with the scapy layers and slipped to the user side over
the real data link; the answers are read back with scapy."""
from __future__ import annotations

import pytest

from appliance.isdn.call import CallState
from appliance.isdn.q921 import LAPD
from appliance.isdn.q931 import (
    Alerting, BearerCapability, CalledPartyNumber, CallingPartyNumber, CallState as CallStateIE,
    Cause, ChannelIdentification, Connect, Disconnect, Display, Q931, Release, ReleaseComplete,
    Setup, SetupAcknowledge, Shift, Status, StatusEnquiry, UnknownIE,
)


class Line:
    """What the user side sends back, dissected by scapy."""

    def __init__(self, pair) -> None:
        self.pair = pair
        self.sent: list[Q931] = []
        pair.line = self._watch

    def _watch(self, frame: bytes, to_network: bool):
        if to_network:
            pkt = LAPD(frame)
            if Q931 in pkt:
                self.sent.append(pkt[Q931])
        return [frame]

    def inject(self, message: Q931) -> list[Q931]:
        """Send ``message`` to the user side as the network; what the user answered."""
        self.sent.clear()
        self.pair.network.link.send(bytes(message))
        self.pair.pump()
        return list(self.sent)


@pytest.fixture
def line(pair):
    pair.network.calls.dl_data_indication = lambda info: None   # only the user side speaks
    return Line(pair)


def _only(answers, cls, cause=None):
    assert len(answers) == 1 and isinstance(answers[0], cls), answers
    if cause is not None:
        assert answers[0].ie(Cause).cause_value == cause, answers[0].ie(Cause)
    return answers[0]


def _setup(callref=9, ies=None):
    if ies is None:
        ies = [BearerCapability(), ChannelIdentification(channel=3), CalledPartyNumber(digits=b"4000")]
    return Setup(callref=callref, ies=ies)


def _active_call(pair, line):
    line.inject(_setup())
    call = pair.user_events[-1].call
    pair.user.answer(call)
    pair.pump()
    line.inject(Q931(bytes([0x08, 0x02, 0x00, 0x09, 0x0F])))     # CONNECT ACKNOWLEDGE
    assert call.state == CallState.ACTIVE
    return call


@pytest.mark.parametrize("raw, counter", [
    (b"\x08\x02", "l3_too_short"),                        # 5.8.2
    (b"\x41\x02\x00\x09\x05", "l3_bad_protocol"),         # 5.8.1
    (b"\x08\x03\x00\x00\x09\x05", "l3_bad_callref"),      # 5.8.3.1: 3 octets on a PRI
    (b"\x08\x00\x62", "l3_bad_callref"),                  # dummy call reference
])
def test_garbage_is_ignored_and_counted(pair, line, raw, counter):
    assert line.inject(Q931(raw) if len(raw) > 2 else raw) == []
    assert pair.user.counters[counter] == 1


def test_unknown_callref_message_gets_release_complete_81(pair, line):
    _only(line.inject(Connect(callref=77, callref_flag=1)), ReleaseComplete, 81)
    _only(line.inject(Release(callref=78, ies=[Cause()])), ReleaseComplete, 81)
    assert line.inject(ReleaseComplete(callref=79)) == []
    assert pair.user.counters["l3_unknown_callref"] == 3


def test_unknown_callref_status_enquiry_and_status(pair, line):
    status = _only(line.inject(StatusEnquiry(callref=80)), Status, 30)
    assert status.ie(CallStateIE).call_state == 0 and status.callref == 80 and status.callref_flag == 1
    _only(line.inject(Status(callref=81, ies=[Cause(cause_value=30), CallStateIE(call_state=10)])),
          ReleaseComplete, 101)
    assert line.inject(Status(callref=82, ies=[Cause(cause_value=30), CallStateIE(call_state=0)])) == []


def test_setup_with_flag_one_is_ignored(pair, line):
    assert line.inject(Setup(callref=5, callref_flag=1, ies=[BearerCapability(), ChannelIdentification()])) == []
    assert not pair.user.active_calls


def test_global_callref_other_than_restart_gets_status_81(pair, line):
    status = _only(line.inject(Connect(callref=0)), Status, 81)
    assert status.callref == 0


def test_unknown_message_type_in_a_call_gets_status_97(pair, line):
    call = _active_call(pair, line)
    status = _only(line.inject(Q931(bytes([0x08, 0x02, 0x00, 0x09, 0x25]))), Status, 97)   # SUSPEND
    assert status.ie(CallStateIE).call_state == 10 and call.state == CallState.ACTIVE
    assert pair.user.counters["l3_unknown_message"] == 1


def test_out_of_state_message_gets_status_101(pair, line):
    call = _active_call(pair, line)
    status = _only(line.inject(SetupAcknowledge(callref=9)), Status, 101)
    assert status.ie(Cause).diagnostics == bytes([0x0D])
    assert call.state == CallState.ACTIVE and pair.user.counters["l3_unexpected_message"] == 1


def test_setup_missing_bearer_capability_gets_release_complete_96(pair, line):
    answer = _only(line.inject(_setup(ies=[ChannelIdentification(channel=3)])), ReleaseComplete, 96)
    assert answer.ie(Cause).diagnostics == b"\x04"
    assert not pair.user.active_calls and pair.user.counters["l3_mandatory_missing"] == 1


def test_setup_with_a_broken_bearer_capability_gets_100(pair, line):
    broken = BearerCapability(len=1)          # octet 4 cut off
    _only(line.inject(_setup(ies=[broken, ChannelIdentification(channel=3)])), ReleaseComplete, 100)


def test_mandatory_element_out_of_sequence_counts_as_missing(pair, line):
    out_of_order = [ChannelIdentification(channel=3), BearerCapability()]   # 0x18 before 0x04
    _only(line.inject(_setup(ies=out_of_order)), ReleaseComplete, 96)
    assert pair.user.counters["l3_ie_out_of_sequence"] == 1


def test_optional_element_out_of_sequence_is_ignored_and_reported(pair, line):
    answers = line.inject(_setup(ies=[BearerCapability(), ChannelIdentification(channel=3),
                                      CalledPartyNumber(digits=b"4000"), Display(text=b"late")]))
    call = pair.user_events[-1].call
    assert call.state == CallState.CALL_PRESENT and call.display == ""
    _only(answers, Status, 99)


def test_unrecognized_element(pair, line):
    # not comprehension-required (0x5x): the call goes on, STATUS 99 names the element
    answers = line.inject(_setup(ies=[BearerCapability(), ChannelIdentification(channel=3),
                                      UnknownIE(id=0x5B, data=b"?"), CalledPartyNumber(digits=b"1")]))
    assert _only(answers, Status, 99).ie(Cause).diagnostics == b"\x5b"
    assert pair.user_events[-1].kind == "setup"
    # comprehension required (0x0x): as if a mandatory element were missing
    answers = line.inject(_setup(callref=10, ies=[UnknownIE(id=0x01, data=b"?"), BearerCapability(),
                                                  ChannelIdentification(channel=4)]))
    _only(answers, ReleaseComplete, 96)


def test_elements_of_other_codesets_are_not_judged(pair, line):
    # 4.5.3: a non-locking shift covers the next element only; after a locking one, all
    # elements are the network's own, even comprehension-required ones
    answers = line.inject(_setup(ies=[BearerCapability(), ChannelIdentification(channel=3),
                                      CalledPartyNumber(digits=b"1"),
                                      Shift(codeset=5, non_locking=1), UnknownIE(id=0x01, data=b"?"),
                                      UnknownIE(id=0x7B, data=b"?"),
                                      Shift(codeset=6), UnknownIE(id=0x02, data=b"?")]))
    assert _only(answers, Status, 99).ie(Cause).diagnostics == b"\x7b"   # the one back in codeset 0
    assert pair.user_events[-1].kind == "setup"


def test_duplicated_element_uses_the_first(pair, line):
    line.inject(_setup(ies=[BearerCapability(), ChannelIdentification(channel=3),
                            CalledPartyNumber(digits=b"1"), CalledPartyNumber(digits=b"2")]))
    assert pair.user_events[-1].call.called == "1" and pair.user.counters["l3_ie_duplicated"] == 1


def test_bad_optional_element_is_reported_with_100(pair, line):
    answers = line.inject(_setup(ies=[BearerCapability(), ChannelIdentification(channel=3),
                                      CallingPartyNumber(digits=b"\xff\xfe"), CalledPartyNumber(digits=b"1")]))
    assert _only(answers, Status, 100).ie(Cause).diagnostics == b"\x6c"
    assert pair.user_events[-1].call.calling == ""


def test_channel_that_does_not_exist_gets_82(pair, line):
    _only(line.inject(_setup(ies=[BearerCapability(), ChannelIdentification(channel=16)])), ReleaseComplete, 82)


def test_busy_exclusive_channel_gets_44_and_preferred_moves(pair, line):
    line.inject(_setup(callref=9))
    _only(line.inject(_setup(callref=10)), ReleaseComplete, 44)
    answers = line.inject(_setup(callref=11, ies=[BearerCapability(), ChannelIdentification(exclusive=0, channel=3)]))
    assert answers == [] and pair.user_events[-1].call.channel != 3


def test_data_call_is_refused_with_65(pair, line):
    _only(line.inject(_setup(ies=[BearerCapability(transfer_capability=0x08), ChannelIdentification(channel=3)])),
          ReleaseComplete, 65)


def test_disconnect_without_cause_is_released_with_96(pair, line):
    call = _active_call(pair, line)
    answer = _only(line.inject(Disconnect(callref=9)), Release, 96)
    assert answer.callref == 9 and call.state == CallState.RELEASE_REQUEST


def test_status_reporting_null_clears_the_call(pair, line):
    call = _active_call(pair, line)
    assert line.inject(Status(callref=9, ies=[Cause(cause_value=81), CallStateIE(call_state=0)])) == []
    assert call.state == CallState.NULL and pair.user_events[-1].kind == "released"


def test_malformed_status_is_not_answered(pair, line):
    call = _active_call(pair, line)
    assert line.inject(Status(callref=9, ies=[Cause(cause_value=30)])) == []
    assert call.state == CallState.ACTIVE


def test_repeated_setup_is_ignored(pair, line):
    line.inject(_setup())
    assert line.inject(_setup()) == [] and pair.user.counters["l3_duplicate_setup"] == 1
    assert len(pair.user.active_calls) == 1


def test_alerting_for_a_call_we_never_placed_gets_81(pair, line):
    _only(line.inject(Alerting(callref=3, callref_flag=1)), ReleaseComplete, 81)
