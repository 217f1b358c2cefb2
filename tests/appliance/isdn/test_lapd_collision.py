"""Q.921 5.5.1.3: both ends of a PRI D-channel ask for the link at about the same time.

The SABMEs cross (or one of them is lost because the far end was not listening yet).
Whatever the order, the link comes up once and stays up, each layer 3 is told once,
and a SETUP queued before or while the link was being established arrives once.
Two qbox stacks face each other on a BackToBack line; the last cases put libpri on
the other end.
"""
from __future__ import annotations

import pytest

from appliance.isdn import codec
from appliance.isdn.backtoback import BackToBack
from appliance.isdn.q931 import MESSAGE_TYPES

SIDES = ["user", "network"]
QUIET_AFTERWARDS = 60.0      # > N200 x T200, T203 and T303: anything that would go wrong has


class Primitives:
    """Records the DL-* primitives a stack's data link gives its call control."""

    def __init__(self, stack) -> None:
        self.log: list[str] = []
        self._inner = stack.link.user
        stack.link.user = self

    def _tell(self, name: str, *args) -> None:
        self.log.append(name)
        getattr(self._inner, f"dl_{name}")(*args)

    def dl_establish_indication(self): self._tell("establish_indication")
    def dl_establish_confirm(self): self._tell("establish_confirm")
    def dl_release_indication(self): self._tell("release_indication")
    def dl_release_confirm(self): self._tell("release_confirm")
    def dl_data_indication(self, info): self._inner.dl_data_indication(info)


class Wire:
    """Two qbox stacks back to back; counts what crosses the line and can drop it."""

    def __init__(self) -> None:
        self.pair = BackToBack()
        self.sent: dict[str, list[str]] = {"user": [], "network": []}
        self.cut: set[str] = set()         # sides whose frames are lost on the way
        self.primitives = {side: Primitives(self.stack(side)) for side in SIDES}
        self.pair.line = self._line
        self.pair.on_user_event = self._alerter(self.pair.user)       # a SETUP is answered
        self.pair.on_network_event = self._alerter(self.pair.network)  # (else T303 sends it again)

    @staticmethod
    def _alerter(stack):
        def on_event(event) -> None:
            if event.kind == "setup":
                stack.alert(event.call)
        return on_event

    def stack(self, side: str):
        return getattr(self.pair, side)

    def _line(self, frame: bytes, to_network: bool) -> list[bytes]:
        side = "user" if to_network else "network"
        decoded = codec.decode_frame(frame)
        if decoded.info:
            name = MESSAGE_TYPES.get(codec.decode_message(decoded.info).message_type, "?")
        else:
            name = decoded.kind.__name__
        self.sent[side].append(name)
        return [] if side in self.cut else [frame]

    def count(self, side: str, name: str) -> int:
        return self.sent[side].count(name)

    def close(self) -> None:
        self.pair.close()


@pytest.fixture
def wire():
    w = Wire()
    yield w
    w.close()


def other(side: str) -> str:
    return "network" if side == "user" else "user"


def _assert_up_once(wire: Wire, told: dict[str, str]) -> None:
    """Both links up, each layer 3 told exactly once (and how), nothing torn down."""
    for side in SIDES:
        stack = wire.stack(side)
        assert stack.link_up, f"{side}: link is {stack.link_state.name}"
        assert wire.primitives[side].log == [told[side]], (side, wire.primitives[side].log)
        assert stack.counters["l2_established"] == 1, (side, dict(stack.counters))
        assert [e.kind for e in getattr(wire.pair, f"{side}_events") if e.kind.startswith("link")] == ["link_up"]


def _setup_arrives_once(wire: Wire, caller_side: str, call) -> None:
    callee = other(caller_side)
    setups = [e for e in getattr(wire.pair, f"{callee}_events") if e.kind == "setup"]
    assert len(setups) == 1, [e.kind for e in getattr(wire.pair, f"{callee}_events")]
    assert wire.count(caller_side, "SETUP") == 1          # sent once: no T303 or LAPD resend needed
    assert setups[0].call.called == "4000"
    assert setups[0].call.state == wire.stack(callee).calls.S_IN_ALERTING
    assert call.state == wire.stack(caller_side).calls.S_OUT_ALERTING   # the callee's ALERTING came back


# -- two qbox stacks ------------------------------------------------------------------------

def test_sabmes_crossing_on_the_line_bring_the_link_up_once(wire):
    wire.pair.user.start()
    wire.pair.network.start()                  # both SABMEs are on the line before either arrives
    wire.pair.run(QUIET_AFTERWARDS)
    _assert_up_once(wire, {"user": "establish_confirm", "network": "establish_confirm"})
    for side in SIDES:                         # one SABME each, answered once each, never again
        assert wire.count(side, "SABME") == 1 and wire.count(side, "UA") == 1, wire.sent[side]
        assert wire.stack(side).counters["l2_mdl_errors"] == 0


@pytest.mark.parametrize("first", SIDES)
def test_peer_sabme_arriving_before_our_start_is_not_reset(wire, first):
    """One end starts; the other answers its SABME from TEI-assigned, then starts too."""
    wire.stack(first).start()
    wire.pair.pump()
    late = other(first)
    wire.stack(late).start()                   # already up: no second SABME, no reset
    call = wire.stack(late).place_call("4000")
    wire.pair.run(QUIET_AFTERWARDS)
    _assert_up_once(wire, {first: "establish_confirm", late: "establish_indication"})
    assert wire.count(late, "SABME") == 0 and wire.count(first, "SABME") == 1
    _setup_arrives_once(wire, late, call)


@pytest.mark.parametrize("lost", SIDES)
@pytest.mark.parametrize("caller_side", SIDES)
def test_lost_sabme_then_crossing_keeps_the_setup(wire, lost, caller_side):
    """The qemu case: one end's SABME went out before the other listened (lost); the other's
    SABME then reaches it while it still awaits a UA.  It answers, and from then on the link
    is up on both ends: its own SABME is not repeated, so the far end (already up and
    sending a SETUP) is not reset and loses nothing."""
    wire.cut.add(lost)
    wire.stack(lost).start()
    wire.pair.pump()
    wire.cut.clear()
    wire.stack(other(lost)).start()
    wire.pair.pump()
    call = wire.stack(caller_side).place_call("4000")   # right after the link came up
    wire.pair.run(QUIET_AFTERWARDS)
    _assert_up_once(wire, {"user": "establish_confirm", "network": "establish_confirm"})
    assert wire.count(lost, "SABME") == 1 and wire.count(other(lost), "SABME") == 1
    _setup_arrives_once(wire, caller_side, call)


@pytest.mark.parametrize("caller_side", SIDES)
def test_setup_queued_before_the_link_crosses_the_peer_sabme(wire, caller_side):
    """Layer 3 sends a SETUP on a link that is down: the data link keeps it and asks for the
    link; the peer's SABME crosses that request; the SETUP goes out once, when the link is up."""
    call = wire.stack(caller_side).place_call("4000")    # link down: SABME, SETUP queued
    wire.stack(other(caller_side)).start()
    wire.pair.run(QUIET_AFTERWARDS)
    _assert_up_once(wire, {caller_side: "establish_confirm", other(caller_side): "establish_confirm"})
    _setup_arrives_once(wire, caller_side, call)


@pytest.mark.parametrize("caller_side", SIDES)
def test_setup_queued_while_awaiting_establishment(wire, caller_side):
    """Both SABMEs are in flight when layer 3 sends: the SETUP waits for the link."""
    wire.pair.user.start()
    wire.pair.network.start()
    call = wire.stack(caller_side).place_call("4000")
    wire.pair.run(QUIET_AFTERWARDS)
    _assert_up_once(wire, {"user": "establish_confirm", "network": "establish_confirm"})
    _setup_arrives_once(wire, caller_side, call)


# -- against libpri ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", SIDES)
def test_libpri_sabme_crossing_our_lost_sabme_keeps_its_setup(libpri, role):
    """libpri sends its SABME as soon as it starts; ours is lost, so libpri's reaches us while
    we await a UA.  We answer and the link is up: libpri's SETUP, sent at once, arrives once,
    and libpri never sees the link go down."""
    session = libpri(role)
    session.on_event = lambda event: event.kind == "setup" and session.stack.alert(event.call)
    session.cut = True
    session.stack.start()                      # our SABME is lost on the line
    session.cut = False
    session.run(0)                             # libpri's SABME (sent at start) reaches us
    assert session.stack.link_up and session.peer("dchan_up")
    session.command("call 1 1 4000 5551234")
    session.run(QUIET_AFTERWARDS)
    assert session.kinds().count("setup") == 1, session.kinds()
    assert session.kinds().count("link_up") == 1 and "link_down" not in session.kinds()
    assert session.last("setup").call.state == session.stack.calls.S_IN_ALERTING and session.peer("ringing")
    assert session.stack.counters["l2_established"] == 1
    assert [e["event"] for e in session.peer_events].count("dchan_up") == 1
    assert not any(e["event"] in ("dchan_down", "hangup") for e in session.peer_events), session.peer_events
