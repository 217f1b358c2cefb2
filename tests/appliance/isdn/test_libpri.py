"""qbox against libpri, the PRI stack Asterisk has run in the field for years.

libpri runs in a small C harness (libpri_peer.c) over a socketpair; both sides run on
virtual time (see tests/appliance/isdn/libpri.py).  Every scenario is played with
qbox as the user side and libpri as the network, then with the roles reversed.
"""
from __future__ import annotations

import pytest

from appliance.isdn.call import CallState, CallTimers

ROLES = ["user", "network"]

UNALLOCATED, NORMAL_CLEARING, USER_BUSY, CALL_REJECTED, DESTINATION_OUT_OF_ORDER = 1, 16, 17, 21, 27
RESPONSE_TO_STATUS_ENQUIRY = 30


def _up(libpri, role, **options):
    session = libpri(role, **options)
    session.stack.start()
    session.run(2)
    assert session.stack.link_up, f"link did not come up; see {session.log_path}"
    assert session.peer("dchan_up")
    return session


def _incoming(session, channel=1, called="1000", calling="5551234"):
    """libpri places a call towards qbox; returns (qbox call, libpri call id)."""
    peer_id = int(session.command(f"call {channel} 1 {called} {calling}")[0].split()[1])
    session.run(0.1)
    call = session.last("setup").call
    assert (call.called, call.calling, call.channel) == (called, calling, channel)
    return call, peer_id


def _answer_incoming(session, channel=1):
    call, peer_id = _incoming(session, channel)
    session.stack.alert(call)
    session.stack.answer(call)
    session.run(0.1)
    assert session.peer("ringing", id=peer_id) and session.peer("answer", id=peer_id)
    assert session.last("active").call is call and call.state == CallState.ACTIVE
    return call, peer_id


def _outgoing(session, called="2000", calling="4000"):
    """qbox places a call; libpri sees it ring.  Returns (qbox call, libpri call id)."""
    call = session.stack.place_call(called, calling=calling)
    session.run(0.1)
    ring = session.peer("ring")
    assert (ring["called"], ring["calling"], ring["channel"]) == (called, calling, call.channel)
    return call, ring["id"]


def _answer_outgoing(session):
    call, peer_id = _outgoing(session)
    for step in ("proceed", "alert", "answer"):
        session.command(f"{step} {peer_id}")
        session.run(0.1)
    assert session.kinds(call)[-2:] == ["alerting", "active"]     # "proceeding" before it or not
    assert call.state == CallState.ACTIVE
    return call, peer_id


def _qbox_clears(session, call, peer_id, cause):
    session.stack.disconnect(call, cause)
    session.run(0.1)
    assert session.peer("hangup_req", id=peer_id)["cause"] == cause
    session.command(f"hangup {peer_id} {cause}")     # what chan_dahdi does on HANGUP_REQ
    session.run(0.1)
    assert session.last("released", call).cause == cause
    assert call.state == CallState.NULL and not session.stack.active_calls


def _libpri_clears(session, call, peer_id, cause):
    session.command(f"hangup {peer_id} {cause}")
    session.run(0.1)
    assert session.last("disconnect", call).cause == cause
    assert session.last("released", call).cause == cause
    assert session.peer("hangup", id=peer_id)["cause"] == cause
    assert not session.stack.active_calls


@pytest.mark.parametrize("role", ROLES)
def test_incoming_call_answered_by_qbox_and_cleared_by_libpri(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _answer_incoming(session)
    _libpri_clears(session, call, peer_id, NORMAL_CLEARING)


@pytest.mark.parametrize("role", ROLES)
def test_incoming_call_answered_and_cleared_by_qbox(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _answer_incoming(session, channel=5)
    _qbox_clears(session, call, peer_id, NORMAL_CLEARING)


@pytest.mark.parametrize("role", ROLES)
def test_outgoing_call_answered_by_libpri_and_cleared_by_qbox(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _answer_outgoing(session)
    _qbox_clears(session, call, peer_id, NORMAL_CLEARING)


@pytest.mark.parametrize("role", ROLES)
def test_outgoing_call_answered_and_cleared_by_libpri(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _answer_outgoing(session)
    _libpri_clears(session, call, peer_id, NORMAL_CLEARING)


@pytest.mark.parametrize("role", ROLES)
def test_libpri_refuses_qbox_call_as_busy(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _outgoing(session)
    session.command(f"proceed {peer_id}")
    session.command(f"hangup {peer_id} {USER_BUSY}")     # DISCONNECT, cause 17
    session.run(0.5)
    assert session.last("disconnect", call).cause == USER_BUSY
    assert session.last("released", call).cause == USER_BUSY
    assert not session.stack.active_calls


@pytest.mark.parametrize("role", ROLES)
def test_libpri_rejects_qbox_call_at_once(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _outgoing(session)
    session.command(f"hangup {peer_id} {UNALLOCATED}")   # RELEASE COMPLETE, cause 1
    session.run(0.5)
    assert session.kinds(call) == ["released"]
    assert session.last("released", call).cause == UNALLOCATED
    assert not session.stack.active_calls


@pytest.mark.parametrize("role", ROLES)
def test_qbox_rejects_libpri_call(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _incoming(session)
    session.stack.disconnect(call, CALL_REJECTED)
    session.run(0.5)
    assert session.peer("hangup", id=peer_id)["cause"] == CALL_REJECTED
    assert session.last("released", call).cause == CALL_REJECTED


@pytest.mark.parametrize("role", ROLES)
def test_status_enquiry_on_an_active_call(libpri, role):
    session = _up(libpri, role)
    call, peer_id = _answer_incoming(session)
    session.stack.status_enquiry(call)
    session.run(0.5)
    status = session.last("status", call)
    assert (status.state, status.cause) == (10, RESPONSE_TO_STATUS_ENQUIRY)
    assert call.state == CallState.ACTIVE


@pytest.mark.parametrize("role", ROLES)
def test_restart_both_ways(libpri, role):
    session = _up(libpri, role)
    call, _ = _answer_incoming(session, channel=3)
    session.stack.restart(3)                            # qbox restarts the call's channel
    session.run(0.5)
    assert session.peer("restart", channel=3)
    assert session.last("restart_acknowledge").channels == (3,)
    assert call.state == CallState.NULL and session.last("released", call)
    session.stack.restart()                             # ... and the whole interface
    session.run(0.5)
    assert session.last("restart_acknowledge").channels == ()
    other, _ = _answer_incoming(session, channel=5)
    session.command("reset 5")                          # libpri restarts a channel in use
    session.run(0.5)
    assert session.last("restart").channels == (5,)
    assert other.state == CallState.NULL
    assert session.peer("restart_ack", channel=5)


@pytest.mark.parametrize("role", ROLES)
def test_ni2_calls_on_a_t1(libpri, role):
    session = _up(libpri, role, variant="ni2")
    call, peer_id = _answer_outgoing(session)
    assert session.peer("ring")["layer1"] == 0x22          # PRI_LAYER_1_ULAW
    assert call.channel == (1 if role == "network" else 23)  # hunt order per side, T1
    _qbox_clears(session, call, peer_id, NORMAL_CLEARING)
    call, peer_id = _answer_incoming(session, channel=23)
    _libpri_clears(session, call, peer_id, NORMAL_CLEARING)


# -- layer 2 cut and re-established with calls up (Q.931 5.8.9) -------------------------

T309 = 30.0


def _cut_session(libpri, role):
    return _up(libpri, role, timers=CallTimers.for_side(role == "network", t309=T309),
               peer_timers={"T309": int(T309 * 1000)})


@pytest.mark.parametrize("role", ROLES)
def test_link_cut_shorter_than_t309_keeps_active_calls(libpri, role):
    session = _cut_session(libpri, role)
    active, active_id = _answer_incoming(session, channel=1)
    ringing, ringing_id = _incoming(session, channel=2)
    session.stack.alert(ringing)
    session.run(0.1)
    session.cut = True
    session.run(20)                                     # T203 + N200 x T200 twice: link declared down
    assert "link_down" in session.kinds()
    assert session.last("released", ringing).cause == DESTINATION_OUT_OF_ORDER
    assert session.peer("hangup", id=ringing_id)["cause"] == DESTINATION_OUT_OF_ORDER
    assert active.state == CallState.ACTIVE and active.t309.running
    session.cut = False
    session.run(5)                                      # back before T309 runs out
    assert session.stack.link_up and session.kinds()[-1] != "link_down"
    assert active.state == CallState.ACTIVE and not active.t309.running
    assert not any(e["event"] == "hangup" and e["id"] == active_id for e in session.peer_events)
    _libpri_clears(session, active, active_id, NORMAL_CLEARING)


@pytest.mark.parametrize("role", ROLES)
def test_link_cut_longer_than_t309_clears_active_calls(libpri, role):
    session = _cut_session(libpri, role)
    active, active_id = _answer_incoming(session, channel=1)
    session.cut = True
    session.run(20 + T309 + 1)
    assert session.last("released", active).cause == DESTINATION_OUT_OF_ORDER
    assert session.peer("hangup", id=active_id)["cause"] == DESTINATION_OUT_OF_ORDER
    session.cut = False
    session.run(5)
    assert session.stack.link_up
    call, peer_id = _answer_incoming(session, channel=1)   # the channel is usable again
    _qbox_clears(session, call, peer_id, NORMAL_CLEARING)
