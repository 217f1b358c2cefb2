"""Q.921 LAPD: establishment, acknowledged transfer and recovery from lost,
duplicated and out-of-sequence frames, window, busy, errors and timers."""
from __future__ import annotations

from collections import Counter

from appliance.isdn import q921
from appliance.isdn.call import CallState
from appliance.isdn.lapd import DataLink, LinkParameters, LinkState
from appliance.isdn.q921 import DISC, DM, FRMR, LAPD, SABME, UA, LAPDInformation, LAPDSupervisory
from drivers.clock import ManualClock


class Layer3:
    """Records what the data link tells layer 3."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.data: list[bytes] = []

    def dl_establish_indication(self): self.log.append("establish_indication")
    def dl_establish_confirm(self): self.log.append("establish_confirm")
    def dl_release_indication(self): self.log.append("release_indication")
    def dl_release_confirm(self): self.log.append("release_confirm")
    def dl_data_indication(self, info): self.data.append(info)


class Peer:
    """A DataLink (user side) with a hand-driven network peer: the test plays the peer."""

    def __init__(self, **params) -> None:
        self.clock = ManualClock()
        self.out: list[bytes] = []
        self.layer3 = Layer3()
        self.counters = Counter()
        self.link = DataLink(False, self.out.append, self.clock, self.layer3, LinkParameters(**params),
                             self.counters)

    def frames(self) -> list[LAPD]:
        sent, self.out[:] = [LAPD(f) for f in self.out], []
        return sent

    def give(self, packet) -> None:
        self.link.receive(bytes(packet))

    def established(self) -> "Peer":
        self.link.establish()
        self.frames()
        self.give(LAPD(cr=0) / UA(pf=1))     # network response: C/R 0
        assert self.link.state == LinkState.MULTIPLE_FRAME_ESTABLISHED
        return self

    def i_frame(self, ns, nr, info=b"\x08\x02\x00\x01\x7b", p=0):
        return LAPD(cr=1) / LAPDInformation(ns=ns, nr=nr, p=p) / info     # network command: C/R 1


def test_establishment_and_release():
    peer = Peer()
    peer.link.establish()
    (sabme,) = peer.frames()
    assert isinstance(sabme.payload, SABME) and sabme.cr == 0 and sabme.payload.pf == 1
    peer.give(LAPD(cr=0) / UA(pf=1))
    assert peer.link.state == LinkState.MULTIPLE_FRAME_ESTABLISHED
    assert peer.layer3.log == ["establish_confirm"]
    peer.link.release()
    (disc,) = peer.frames()
    assert isinstance(disc.payload, DISC)
    peer.give(LAPD(cr=0) / UA(pf=1))
    assert peer.link.state == LinkState.TEI_ASSIGNED and peer.layer3.log[-1] == "release_confirm"


def test_peer_established_link_and_sabme_retries():
    peer = Peer()
    peer.give(LAPD(cr=1) / SABME(pf=1))
    (ua,) = peer.frames()
    assert isinstance(ua.payload, UA) and ua.cr == 1 and ua.payload.pf == 1
    assert peer.layer3.log == ["establish_indication"]
    other = Peer()
    other.link.establish()
    other.clock.advance(3.5)           # T200 three times: SABME repeated N200 times
    assert [type(f.payload) for f in other.frames()] == [SABME] * 4
    other.clock.advance(1)
    assert other.link.state == LinkState.TEI_ASSIGNED and other.layer3.log == ["release_indication"]


def test_i_frames_are_numbered_and_acknowledged():
    peer = Peer().established()
    for n in range(3):
        peer.link.send(bytes([n]))
    sent = peer.frames()
    assert [(f[LAPDInformation].ns, f[LAPDInformation].nr, f.cr) for f in sent] == [(0, 0, 0), (1, 0, 0), (2, 0, 0)]
    peer.give(peer.i_frame(0, 3))
    (rr,) = peer.frames()
    assert rr[LAPDSupervisory].function == q921.S_RR and rr[LAPDSupervisory].nr == 1 and rr.cr == 1
    assert peer.link.va == 3 and not peer.link.t200.running and peer.link.t203.running


def test_lost_frame_is_rejected_and_recovered():
    peer = Peer().established()
    peer.give(peer.i_frame(0, 0, b"a"))
    peer.give(peer.i_frame(2, 0, b"c"))                 # N(S)=1 lost on the line
    peer.give(peer.i_frame(3, 0, b"d"))                 # still out of sequence: no second REJ
    frames = peer.frames()
    rej = [f for f in frames if LAPDSupervisory in f and f[LAPDSupervisory].function == q921.S_REJ]
    assert len(rej) == 1 and rej[0][LAPDSupervisory].nr == 1
    peer.give(peer.i_frame(1, 0, b"b"))                 # the network goes back to N(R)
    peer.give(peer.i_frame(2, 0, b"c"))
    peer.give(peer.i_frame(3, 0, b"d"))
    assert peer.layer3.data == [b"a", b"b", b"c", b"d"]
    assert peer.counters["l2_rej_sent"] == 1 and peer.counters["l2_out_of_sequence"] == 2


def test_duplicated_frame_is_not_delivered_twice():
    peer = Peer().established()
    frame = peer.i_frame(0, 0, b"x")
    peer.give(frame)
    peer.give(frame)
    peer.give(peer.i_frame(1, 0, b"y"))
    assert peer.layer3.data == [b"x", b"y"]


def test_our_lost_frame_is_sent_again_after_rej():
    peer = Peer().established()
    for info in (b"1", b"2", b"3"):
        peer.link.send(info)
    peer.frames()
    peer.give(LAPD(cr=0) / LAPDSupervisory(function=q921.S_REJ, nr=1))   # "got 0, send from 1"
    again = peer.frames()
    assert [(f[LAPDInformation].ns, bytes(f[LAPDInformation].payload)) for f in again] == [(1, b"2"), (2, b"3")]
    assert peer.counters["l2_retransmitted"] == 2


def test_timer_recovery_polls_and_retransmits():
    peer = Peer().established()
    peer.link.send(b"lost")
    peer.frames()
    peer.clock.advance(1.0)                              # T200: poll with RR P=1
    (poll,) = peer.frames()
    assert poll[LAPDSupervisory].function == q921.S_RR and poll[LAPDSupervisory].pf == 1 and poll.cr == 0
    assert peer.link.state == LinkState.TIMER_RECOVERY
    peer.give(LAPD(cr=0) / LAPDSupervisory(function=q921.S_RR, nr=0, pf=1))   # "I have nothing"
    (again,) = peer.frames()
    assert bytes(again[LAPDInformation].payload) == b"lost"
    assert peer.link.state == LinkState.MULTIPLE_FRAME_ESTABLISHED


def test_silent_peer_brings_the_link_down():
    peer = Peer().established()
    peer.clock.advance(10.0)                             # T203: poll
    peer.clock.advance(4.0)                              # N200 more polls under T200, then re-establish
    assert peer.link.state == LinkState.AWAITING_ESTABLISHMENT
    peer.clock.advance(4.0)                              # SABME x N200: release
    assert peer.link.state == LinkState.TEI_ASSIGNED and peer.layer3.log[-1] == "release_indication"
    assert peer.counters["l2_mdl_errors"] == 2


def test_window_of_seven_and_peer_busy():
    peer = Peer().established()
    for n in range(10):
        peer.link.send(bytes([n]))
    assert len(peer.frames()) == 7                       # k = 7 outstanding
    peer.give(LAPD(cr=0) / LAPDSupervisory(function=q921.S_RNR, nr=7))
    assert peer.frames() == [] and peer.link.peer_busy
    peer.give(LAPD(cr=0) / LAPDSupervisory(function=q921.S_RR, nr=7))
    assert [f[LAPDInformation].ns for f in peer.frames()] == [7, 8, 9]


def test_enquiry_is_answered():
    peer = Peer().established()
    peer.give(LAPD(cr=1) / LAPDSupervisory(function=q921.S_RR, nr=0, pf=1))
    (rr,) = peer.frames()
    assert rr.cr == 1 and rr[LAPDSupervisory].pf == 1


def test_nr_error_re_establishes():
    peer = Peer().established()
    peer.give(peer.i_frame(0, 5))                        # acknowledges frames never sent
    (sabme,) = peer.frames()
    assert isinstance(sabme.payload, SABME) and peer.link.state == LinkState.AWAITING_ESTABLISHMENT
    peer.give(LAPD(cr=0) / UA(pf=1))
    # Nothing was outstanding, so nothing was lost: layer 3 is not told (SDL, UA in state 5).
    assert peer.link.state == LinkState.MULTIPLE_FRAME_ESTABLISHED and peer.layer3.log == ["establish_confirm"]


def test_re_establishment_with_frames_outstanding_tells_layer_3():
    peer = Peer().established()
    peer.link.send(b"unacknowledged")
    peer.frames()
    peer.give(peer.i_frame(0, 5))                        # N(R) error: re-establish
    peer.link.send(b"queued")                            # while awaiting establishment
    peer.frames()
    peer.give(LAPD(cr=0) / UA(pf=1))
    assert peer.layer3.log == ["establish_confirm", "establish_indication"]
    assert peer.frames() == [] and peer.link.vs == peer.link.va == 0   # the I queue was discarded


def test_disc_dm_frmr_and_peer_reset():
    peer = Peer().established()
    peer.give(LAPD(cr=1) / SABME(pf=1))                  # the network resets the link
    assert isinstance(peer.frames()[0].payload, UA) and peer.layer3.log == ["establish_confirm"]
    peer.give(LAPD(cr=0) / FRMR(w=1))
    assert isinstance(peer.frames()[0].payload, SABME)
    peer.give(LAPD(cr=0) / UA(pf=1))
    peer.give(LAPD(cr=0) / DM(pf=0))                     # DM in multiple-frame: re-establish
    assert isinstance(peer.frames()[0].payload, SABME)
    peer.give(LAPD(cr=0) / UA(pf=1))
    peer.give(LAPD(cr=1) / DISC(pf=1))
    (ua,) = peer.frames()
    assert isinstance(ua.payload, UA) and ua.payload.pf == 1
    assert peer.link.state == LinkState.TEI_ASSIGNED and peer.layer3.log[-1] == "release_indication"


def test_invalid_frames_are_dropped_and_counted():
    peer = Peer().established()
    for raw in (b"\x00", b"\x00\x00\x01",                 # too short; EA bits wrong
                bytes(LAPD(cr=0) / UA(pf=0)) + b"x",      # U frame with information
                bytes(LAPD(sapi=16, cr=1) / LAPDInformation() / b"x25")):   # another SAPI
        peer.link.receive(raw)
    assert peer.counters["l2_frames_invalid"] == 3 and peer.counters["l2_frames_ignored"] == 1
    assert peer.layer3.data == []


def test_idle_link_stays_up_with_polls(pair):
    pair.run(600)
    assert pair.user.link_up and pair.network.link_up
    assert pair.user.counters["l2_frames_out"] > 60       # an RR poll every T203


def test_physical_layer_loss_and_return(pair):
    pair.network_events.clear()
    call = pair.network.place_call("4000")
    pair.pump()
    incoming = pair.user_events[-1].call
    pair.user.answer(incoming)
    pair.pump()
    pair.user.physical_down()
    assert pair.user_events[-1].kind == "link_down" and incoming.t309.running
    assert incoming.state == CallState.ACTIVE
    pair.user.physical_up()
    pair.pump()
    assert pair.user.link_up and not incoming.t309.running and call.state == CallState.ACTIVE


def test_peer_reset_loses_only_unacknowledged_frames():
    """SABME in multiple-frame operation (SDL, Figure B.7): with V(S) = V(A) the frames layer 3
    queued keep their place and layer 3 is not told; with frames outstanding the I queue is
    discarded and layer 3 gets DL-ESTABLISH indication."""
    peer = Peer().established()
    peer.give(LAPD(cr=0) / LAPDSupervisory(function=q921.S_RNR, nr=0))   # busy: frames wait
    peer.link.send(b"waiting")
    assert peer.frames() == []
    peer.give(LAPD(cr=1) / SABME(pf=1))
    ua, sent = peer.frames()
    assert isinstance(ua.payload, UA) and peer.layer3.log == ["establish_confirm"]
    assert (sent[LAPDInformation].ns, bytes(sent[LAPDInformation].payload)) == (0, b"waiting")
    peer.give(LAPD(cr=1) / SABME(pf=1))                  # "waiting" is outstanding now
    assert [type(f.payload) for f in peer.frames()] == [UA]
    assert peer.layer3.log == ["establish_confirm", "establish_indication"] and not peer.link.t200.running


def test_crossed_sabme_enters_multiple_frame_operation_at_once():
    """5.5.1.3 a): our SABME and the peer's cross.  We answer UA and the link is up (confirmed
    to layer 3, queued frames sent); the UA to our SABME is taken without an MDL error and
    our SABME is never repeated."""
    peer = Peer()
    peer.link.send(b"setup")                             # link down: SABME, frame queued
    (sabme,) = peer.frames()
    assert isinstance(sabme.payload, SABME)
    peer.give(LAPD(cr=1) / SABME(pf=1))                  # the network's SABME crosses ours
    ua, i_frame = peer.frames()
    assert isinstance(ua.payload, UA) and ua.payload.pf == 1 and ua.cr == 1
    assert bytes(i_frame[LAPDInformation].payload) == b"setup" and i_frame[LAPDInformation].ns == 0
    assert peer.link.state == LinkState.MULTIPLE_FRAME_ESTABLISHED and peer.layer3.log == ["establish_confirm"]
    peer.give(LAPD(cr=0) / UA(pf=1))                     # the answer to our SABME
    assert peer.counters["l2_mdl_errors"] == 0 and peer.link.state == LinkState.MULTIPLE_FRAME_ESTABLISHED
    peer.give(LAPD(cr=0) / UA(pf=1))                     # a second one is unsolicited
    assert peer.counters["l2_mdl_errors"] == 1
    peer.give(LAPD(cr=0) / LAPDSupervisory(function=q921.S_RR, nr=1))
    peer.clock.advance(5)
    assert [type(f.payload) for f in peer.frames()] == []
    assert peer.layer3.log == ["establish_confirm"]


def test_crossed_sabme_whose_ua_never_comes():
    """Our SABME was lost: the peer's RR shows it is up without having seen it, so a UA
    arriving later is unsolicited again."""
    peer = Peer()
    peer.link.establish()
    peer.frames()
    peer.give(LAPD(cr=1) / SABME(pf=1))
    peer.give(LAPD(cr=1) / LAPDSupervisory(function=q921.S_RR, nr=0, pf=1))   # the network polls
    peer.clock.advance(3)
    assert [type(f.payload) for f in peer.frames()] == [UA, LAPDSupervisory]   # no SABME again
    peer.give(LAPD(cr=0) / UA(pf=1))
    assert peer.counters["l2_mdl_errors"] == 1 and peer.layer3.log == ["establish_confirm"]
