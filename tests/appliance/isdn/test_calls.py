"""Q.931 call control, qbox user side against qbox network side: states, timers,
B-channel selection and glare, RESTART, STATUS ENQUIRY and overlap sending."""
from __future__ import annotations

import gc
import weakref

import pytest

from appliance.isdn import codec
from appliance.isdn.backtoback import BackToBack
from appliance.isdn.call import CallState, CallStateError
from appliance.isdn.q931 import MESSAGE_TYPES
from tests.appliance.isdn.conftest import kinds

S = CallState


def _record_messages(pair: BackToBack) -> list[tuple[str, str]]:
    """Log every Q.931 message on the line as (direction, name); keeps delivering."""
    log: list[tuple[str, str]] = []

    def line(frame: bytes, to_network: bool):
        decoded = codec.decode_frame(frame)
        if decoded.info:
            msg = codec.decode_message(decoded.info)
            log.append(("U>N" if to_network else "N>U", MESSAGE_TYPES.get(msg.message_type, "?")))
        return [frame]

    pair.line = line
    return log


def _drop(pair: BackToBack, name: str, to_network: bool, count: int = 1) -> list[int]:
    """Drop the next ``count`` frames carrying message ``name`` in one direction."""
    dropped = [0]

    def line(frame: bytes, towards_network: bool):
        decoded = codec.decode_frame(frame)
        if towards_network == to_network and decoded.info and dropped[0] < count:
            if MESSAGE_TYPES.get(codec.decode_message(decoded.info).message_type) == name:
                dropped[0] += 1
                return []
        return [frame]

    pair.line = line
    return dropped


def _mute_layer3(stack) -> None:
    """The far end's data link still acknowledges, but its call control says nothing.
    (Dropping I frames would not do: LAPD recovers lost frames.)"""
    stack.calls.dl_data_indication = lambda info: None


def _auto_answer(pair: BackToBack, side: str = "network") -> None:
    stack = getattr(pair, side)

    def on_event(event):
        if event.kind == "setup":
            stack.proceed(event.call)
            stack.alert(event.call)
            stack.answer(event.call)

    setattr(pair, f"on_{side}_event", on_event)


def test_user_call_walks_u_and_n_states(pair):
    log = _record_messages(pair)
    call = pair.user.place_call("4000", calling="5551234", display="Alice")
    assert call.state_name == "U1"
    pair.pump()
    incoming = pair.network_events[-1].call
    assert (incoming.state_name, incoming.called, incoming.calling, incoming.display) == \
        ("N1", "4000", "5551234", "Alice")
    assert incoming.sending_complete and incoming.channel == call.channel == 31
    pair.network.proceed(incoming)
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("U3", "N3")
    pair.network.alert(incoming)
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("U4", "N4")
    pair.network.answer(incoming)
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("U10", "N10")
    assert kinds(pair.user_events, call) == ["proceeding", "alerting", "active"]
    pair.user.disconnect(call)
    assert call.state_name == "U11"
    pair.pump()
    assert call.state == incoming.state == S.NULL
    assert pair.user_events[-1].cause == pair.network_events[-1].cause == 16
    assert log == [("U>N", "SETUP"), ("N>U", "CALL PROCEEDING"), ("N>U", "ALERTING"), ("N>U", "CONNECT"),
                   ("U>N", "CONNECT ACKNOWLEDGE"), ("U>N", "DISCONNECT"), ("N>U", "RELEASE"),
                   ("U>N", "RELEASE COMPLETE")]


def test_a_released_call_is_freed_by_its_last_reference_not_left_to_the_collector():
    pair = BackToBack(record=False)          # the pair keeps no events, which hold the calls
    pair.start()
    _auto_answer(pair)
    call = pair.user.place_call("4000")
    pair.run(0.1)
    assert call.state_name == "U10"
    pair.user.disconnect(call)
    pair.run(0.1)
    assert call.state == S.NULL
    gone = weakref.ref(call)
    del call
    gc.disable()                            # a cycle (a state timer's callback holding its call)
    try:                                    # would keep it until the collector's next pass
        assert gone() is None
    finally:
        gc.enable()
        pair.close()


def test_network_call_walks_n_and_u_states(pair):
    call = pair.network.place_call("4000", calling="01234567")
    assert call.state_name == "N6" and call.channel == 1 and call.exclusive
    pair.pump()
    incoming = pair.user_events[-1].call
    assert incoming.state_name == "U6" and incoming.channel == 1
    pair.user.proceed(incoming)
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("N9", "U9")
    pair.user.alert(incoming)
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("N7", "U7")
    pair.user.answer(incoming)
    assert incoming.state_name == "U8"
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("N10", "U10")
    pair.network.disconnect(call, 17)
    assert call.state_name == "N12"
    pair.pump()
    assert call.state == incoming.state == S.NULL
    assert [e.cause for e in pair.user_events if e.kind in ("disconnect", "released")] == [17, 17]


def test_requests_in_the_wrong_state_are_refused(pair):
    call = pair.user.place_call("4000")
    with pytest.raises(CallStateError):
        pair.user.answer(call)
    pair.pump()


def test_incoming_call_rejected_before_answer(pair):
    call = pair.user.place_call("4000")
    pair.pump()
    pair.network.disconnect(pair.network_events[-1].call, 1)   # unallocated number
    pair.pump()
    assert kinds(pair.user_events, call) == ["released"] and pair.user_events[-1].cause == 1


def test_in_band_disconnect_waits_for_the_user(pair):
    call = pair.user.place_call("4000")
    pair.pump()
    incoming = pair.network_events[-1].call
    pair.network.alert(incoming)
    pair.pump()
    # The network clears with "in-band information available": the user may listen.
    pair.network.calls._stop_timer(incoming)
    pair.network.calls._enter(incoming, S.DISCONNECT_INDICATION)
    pair.network.calls._send(incoming, codec.q931.Disconnect, [
        pair.network.calls._cause(17), codec.ie(codec.q931.ProgressIndicator, location=2, description=8)])
    pair.pump()
    assert call.state_name == "U12" and call.inband
    pair.user.release(call)
    pair.pump()
    assert call.state == S.NULL and pair.user_events[-1].cause == 17


# -- timers -----------------------------------------------------------------------------

def test_t303_repeats_setup_once_then_gives_up(pair):
    dropped = _drop(pair, "SETUP", to_network=True, count=2)
    call = pair.user.place_call("4000")
    pair.run(4.5)
    assert dropped[0] == 2 and call.state_name == "U1"
    pair.run(4)
    assert call.state == S.NULL and pair.user_events[-1].cause == 102


def test_t303_on_the_network_side_reports_no_user_responding(pair):
    _drop(pair, "SETUP", to_network=False, count=2)
    call = pair.network.place_call("4000")
    pair.run(9)
    assert call.state == S.NULL and pair.network_events[-1].cause == 18


def test_t310_clears_a_call_stuck_in_proceeding(pair):
    call = pair.user.place_call("4000")
    pair.pump()
    pair.network.proceed(pair.network_events[-1].call)
    pair.run(29)
    assert call.state_name == "U3"
    pair.run(2)
    assert call.state == S.NULL and pair.user_events[-1].cause == 102


def test_t301_clears_a_call_that_rings_forever(pair):
    call = pair.network.place_call("4000")
    pair.pump()
    pair.user.alert(pair.user_events[-1].call)
    pair.run(179)
    assert call.state_name == "N7"
    pair.run(2)
    assert call.state == S.NULL and pair.network_events[-1].cause == 19


def test_t313_clears_when_connect_is_not_acknowledged(pair):
    pair.network.place_call("4000")
    pair.pump()
    incoming = pair.user_events[-1].call
    _mute_layer3(pair.network)
    pair.user.answer(incoming)
    pair.pump()
    assert incoming.state_name == "U8"
    pair.run(3.9)
    assert incoming.state_name == "U8"
    pair.run(0.2)                                 # T313: DISCONNECT
    assert incoming.state_name == "U11" and incoming.cause == 102


def test_t305_and_t308_when_the_far_end_goes_silent(pair):
    _auto_answer(pair)
    call = pair.user.place_call("4000")
    pair.pump()
    assert call.state == S.ACTIVE
    _mute_layer3(pair.network)
    pair.user.disconnect(call)
    pair.run(29)
    assert call.state_name == "U11"
    pair.run(2)                              # T305: RELEASE
    assert call.state_name == "U19"
    pair.run(4.5)                            # T308 once: RELEASE again
    assert call.state_name == "U19" and pair.user.counters["l3_t308_expired"] == 1
    pair.run(4)                              # T308 twice: gone; the channel goes to RESTART
    assert call.state == S.NULL and pair.user.calls.channels.out_of_service == {call.channel}
    assert pair.user_events[-1].cause == 16


# -- B-channels -------------------------------------------------------------------------

def test_each_side_hunts_from_its_own_end(pair):
    out = [pair.user.place_call(str(n)) for n in range(3)]
    inc = [pair.network.place_call(str(n)) for n in range(3)]
    pair.pump()
    assert [c.channel for c in out] == [31, 30, 29]
    assert [c.channel for c in inc] == [1, 2, 3]


def test_t1_span_has_23_b_channels():
    pair = BackToBack(variant="ni2")
    pair.start()
    calls = [pair.network.place_call(str(n)) for n in range(23)]
    assert [c.channel for c in calls] == list(range(1, 24))
    with pytest.raises(CallStateError):
        pair.network.place_call("24")
    pair.close()


def test_no_free_channel_rejects_with_cause_34(pair):
    theirs = [pair.network.place_call(str(n)) for n in range(30)]   # every B-channel
    ours = pair.user.place_call("31")                               # crosses them on the line
    pair.pump()
    assert ours.state == S.NULL and pair.user_events[-1].cause == 34
    assert all(c.state == S.CALL_PRESENT for c in theirs)
    assert len(pair.user.active_calls) == 30


def test_setup_for_a_busy_channel_is_answered_elsewhere(pair):
    _auto_answer(pair)
    first = pair.user.place_call("1", channel=9)
    pair.pump()
    pair.user.calls.channels.free(9, first)     # the user "forgets" 9 is taken
    second = pair.user.place_call("2", channel=9)
    pair.pump()
    assert first.channel == 9 and second.channel not in (9, None) and second.state == S.ACTIVE


def test_glare_network_keeps_the_channel_user_gets_another(pair):
    _auto_answer(pair, "network")
    ours = pair.user.place_call("4000", channel=5)             # preferred 5
    theirs = pair.network.place_call("5000", channel=5)        # exclusive 5
    pair.pump()
    incoming = next(e.call for e in pair.user_events if e.kind == "setup")
    assert incoming.channel == 5 and theirs.channel == 5
    assert ours.channel not in (None, 5) and ours.state == S.ACTIVE
    assert pair.user.counters["l3_glare"] == 1


def test_glare_with_an_exclusive_request_loses_with_cause_44(pair):
    ours = pair.user.place_call("4000", channel=5, exclusive=True)
    theirs = pair.network.place_call("5000", channel=5)
    pair.pump()
    assert ours.state == S.NULL and pair.user_events[-1].cause == 44
    assert theirs.state == S.CALL_PRESENT


# -- RESTART, STATUS ENQUIRY, overlap ---------------------------------------------------

def test_restart_of_a_channel_clears_its_call(pair):
    _auto_answer(pair)
    call = pair.user.place_call("4000")
    pair.pump()
    pair.network.restart(call.channel)
    pair.pump()
    assert call.state == S.NULL
    assert pair.user_events[-1].kind == "restart" and pair.user_events[-1].channels == (call.channel,)
    assert pair.network_events[-1].kind == "restart_acknowledge"
    assert not pair.network.calls.channels.out_of_service


def test_restart_of_the_interface(pair):
    _auto_answer(pair)
    calls = [pair.user.place_call(str(n)) for n in range(3)]
    pair.pump()
    pair.user.restart()
    assert len(pair.user.calls.channels.out_of_service) == 30
    pair.pump()
    assert all(c.state == S.NULL for c in calls) and not pair.network.active_calls
    assert pair.network_events[-1].channels == () and not pair.user.calls.channels.out_of_service


def test_unacknowledged_restart_is_repeated_under_t316(pair):
    log = _record_messages(pair)
    _mute_layer3(pair.network)
    pair.user.restart(7)
    pair.run(250)
    assert log == [("U>N", "RESTART")] * 3     # sent, then again at each T316 expiry
    assert pair.user.calls.channels.out_of_service == {7}
    pair.run(120)                              # T316 a third time: the channel is given back
    assert not pair.user.calls.channels.out_of_service


def test_status_enquiry_compares_states(pair):
    _auto_answer(pair)
    call = pair.user.place_call("4000")
    pair.pump()
    pair.user.status_enquiry(call)
    pair.pump()
    status = pair.user_events[-1]
    assert (status.kind, status.state, status.cause) == ("status", 10, 30)
    assert call.state == S.ACTIVE


def test_unanswered_status_enquiry_clears_the_call(pair):
    _auto_answer(pair)
    call = pair.user.place_call("4000")
    pair.pump()
    _mute_layer3(pair.network)
    pair.user.status_enquiry(call)
    pair.run(4.1)
    assert call.state == S.ACTIVE                 # T322 once: asked again
    pair.run(4)
    assert call.state_name == "U11" and call.cause == 41


def test_incompatible_state_clears_with_cause_101(pair):
    call = pair.user.place_call("4000")
    pair.pump()
    incoming = pair.network_events[-1].call
    pair.network.alert(incoming)
    pair.pump()
    assert call.state_name == "U4"
    incoming.state = S.CALL_RECEIVED         # the network thinks it placed the call (N7)
    pair.user.status_enquiry(call)
    pair.pump()
    assert call.state == S.NULL and call.cause == 101


def test_overlap_sending(pair):
    call = pair.user.place_call("40", sending_complete=False)
    pair.pump()
    incoming = pair.network_events[-1].call
    assert not incoming.sending_complete
    pair.network.setup_acknowledge(incoming)
    pair.pump()
    assert (call.state_name, incoming.state_name) == ("U2", "N2")
    assert pair.user_events[-1].kind == "setup_acknowledge"
    pair.user.send_information(call, "00", complete=True)
    pair.pump()
    info = pair.network_events[-1]
    assert (info.kind, info.digits, incoming.called, incoming.sending_complete) == ("information", "00", "4000", True)
    pair.network.proceed(incoming)
    pair.pump()
    assert call.state_name == "U3"


def test_facility_is_passed_through(pair):
    _auto_answer(pair)
    call = pair.user.place_call("4000")
    pair.pump()
    pair.network.facility(pair.network.active_calls[0], b"\x91\xa1\x03\x02\x01\x01")
    pair.pump()
    assert pair.user_events[-1].kind == "facility" and pair.user_events[-1].data == b"\x91\xa1\x03\x02\x01\x01"
    assert call.state == S.ACTIVE
