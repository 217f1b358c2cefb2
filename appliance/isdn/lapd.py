"""The Q.921 data link entity of one PRI D-channel (SAPI 0, TEI 0, modulo 128).

States and procedures follow Q.921 clause 5 and its SDL (Annex B): link
establishment with SABME/UA, acknowledged transfer with N(S)/N(R), REJ recovery,
timer recovery with RR polls, release with DISC, and re-establishment on errors.
The entity does no I/O: frames go out through ``send_frame`` and come in through
:meth:`DataLink.receive`; time comes from the injected clock.  Layer 3 is told what
happens through the :class:`LinkUser` callbacks (the DL-* primitives).

One deliberate departure from the SDL: when our SABME crosses the peer's (5.5.1.3 a),
both ends at start-up), we enter multiple-frame operation on sending our UA rather
than on receiving the peer's, as X.25 LAPB allows.  The SDL's way repeats a SABME the
peer never saw (sent before it listened) after T200, which resets a link the peer
already uses and discards the I frames it sent meanwhile.

A frame that cannot be decoded, or that Q.921 5.8 calls invalid, is dropped and
counted; nothing raises out of :meth:`DataLink.receive`.
"""
from __future__ import annotations

import enum
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from appliance.isdn.codec import DecodeError, decode_frame, encode_i_frame, encode_s_frame, encode_u_frame
from appliance.isdn.q921 import (
    DISC, DM, FRMR, S_REJ, S_RNR, S_RR, SABME, SAPI_CALL_CONTROL, TEI_PRI, UA, UI, XID,
    LAPDInformation, LAPDSupervisory,
)
from appliance.isdn.timers import Timer
from drivers.clock import Clock

__all__ = ["LinkState", "LinkParameters", "LinkUser", "DataLink"]

log = logging.getLogger(__name__)

MODULUS = 128


class LinkState(enum.IntEnum):
    """Q.921 data link states (the TEI-related states 1-3 do not exist on a PRI)."""

    TEI_ASSIGNED = 4
    AWAITING_ESTABLISHMENT = 5
    AWAITING_RELEASE = 6
    MULTIPLE_FRAME_ESTABLISHED = 7
    TIMER_RECOVERY = 8


@dataclass(frozen=True)
class LinkParameters:
    """Q.921 5.9 system parameters, defaults as the recommendation gives them."""

    t200: float = 1.0     # retransmission timer
    t203: float = 10.0    # maximum time without frames exchanged
    n200: int = 3         # maximum retransmissions
    n201: int = 260       # maximum octets in an information field
    k: int = 7            # window: outstanding I frames (7 for a PRI SAPI 0)


class LinkUser(Protocol):
    """Layer 3 as the data link entity sees it (Q.921 4.1 primitives)."""

    def dl_establish_indication(self) -> None: ...
    def dl_establish_confirm(self) -> None: ...
    def dl_release_indication(self) -> None: ...
    def dl_release_confirm(self) -> None: ...
    def dl_data_indication(self, info: bytes) -> None: ...


class DataLink:
    """One LAPD link.  ``network_side`` decides the C/R bit coding (Q.921 Table 1)."""

    def __init__(self, network_side: bool, send_frame: Callable[[bytes], None], clock: Clock,
                 user: LinkUser, params: LinkParameters = LinkParameters(),
                 counters: Counter | None = None) -> None:
        self.network_side = network_side
        self._send_frame = send_frame
        self.user = user
        self.params = params
        self.counters = counters if counters is not None else Counter()
        self.state = LinkState.TEI_ASSIGNED
        # C/R values: commands from the network side carry 1, from the user side 0.
        self._cmd_cr = 1 if network_side else 0
        self._rsp_cr = 1 - self._cmd_cr
        self._peer_cmd_cr = self._rsp_cr
        self.vs = self.va = self.vr = 0
        self.rc = 0
        self.peer_busy = False
        self.reject_exception = False
        self.ack_pending = False
        self.layer3_initiated = False
        self._recovering = False     # state 5 entered from 7/8: layer 3 still thinks the link is up
        self._ua_owed = False        # our SABME crossed the peer's and is still to be answered
        self._queue: deque[bytes] = deque()      # waiting for a send window
        self._unacked: deque[bytes] = deque()    # sent, N(S) from V(A) up
        self.t200 = Timer(clock, params.t200, self._t200_expired, "T200")
        self.t203 = Timer(clock, params.t203, self._t203_expired, "T203")

    # -- layer 3 requests -----------------------------------------------------------------

    @property
    def established(self) -> bool:
        return self.state in (LinkState.MULTIPLE_FRAME_ESTABLISHED, LinkState.TIMER_RECOVERY)

    def establish(self) -> None:
        """DL-ESTABLISH request."""
        if self.state != LinkState.AWAITING_ESTABLISHMENT:
            self._discard_queues()
            self._establish(layer3=True)
        else:
            self.layer3_initiated = True

    def release(self) -> None:
        """DL-RELEASE request."""
        if self.state == LinkState.TEI_ASSIGNED:
            self.user.dl_release_confirm()
            return
        self._discard_queues()
        self.rc = 0
        self._send_u(DISC, command=True, pf=1)
        self.t203.stop()
        self.t200.start()
        self._enter(LinkState.AWAITING_RELEASE)

    def send(self, info: bytes) -> None:
        """DL-DATA request: queue a layer 3 message; sent when the window allows."""
        self._queue.append(info)
        if self.state == LinkState.MULTIPLE_FRAME_ESTABLISHED:
            self._pump()
        elif self.state == LinkState.TEI_ASSIGNED:
            self._establish(layer3=True)

    def physical_down(self) -> None:
        """Layer 1 is gone (span alarm): the link is released at once."""
        self.t200.stop()
        self.t203.stop()
        self._discard_queues()
        if self.state != LinkState.TEI_ASSIGNED:
            previous = self.state
            self._enter(LinkState.TEI_ASSIGNED)
            if previous == LinkState.AWAITING_RELEASE:
                self.user.dl_release_confirm()
            else:
                self.user.dl_release_indication()

    def close(self) -> None:
        """Drop the clock timers (the owner is going away)."""
        self.t200.cancel()
        self.t203.cancel()

    # -- frames in ------------------------------------------------------------------------

    def receive(self, raw: bytes) -> None:
        """One frame from the D-channel (no FCS).  Invalid frames are counted and dropped."""
        self.counters["l2_frames_in"] += 1
        try:
            frame = decode_frame(raw)
        except DecodeError:
            self._invalid("short")
            return
        if not frame.valid_address:
            self._invalid("address")
            return
        if frame.sapi != SAPI_CALL_CONTROL or frame.tei != TEI_PRI:
            self.counters["l2_frames_ignored"] += 1
            return
        command = frame.cr == self._peer_cmd_cr
        kind = frame.kind
        if kind is not UA:
            # The UA owed to our crossed SABME comes before anything else the peer sends
            # after it; once something else came, our SABME was lost and no UA will come.
            self._ua_owed = False
        if kind is LAPDInformation:
            self._on_i(frame, command)
        elif kind is LAPDSupervisory:
            self._on_s(frame, command)
        elif kind in (UI, XID):
            self.counters["l2_frames_ignored"] += 1   # no broadcast or XID on a PRI
        elif frame.info and kind is not FRMR:
            self._frame_error("N", "U frame with an information field")
        elif kind is SABME and command:
            self._on_sabme(frame)
        elif kind is DISC and command:
            self._on_disc(frame)
        elif kind is UA and not command:
            self._on_ua(frame)
        elif kind is DM and not command:
            self._on_dm(frame)
        elif kind is FRMR and not command:
            self._on_frmr()
        elif kind in (SABME, DISC, UA, DM, FRMR):
            self._invalid("cr")   # command/response bit the wrong way round
        else:
            self._frame_error("L", "undefined control field")

    def _on_i(self, frame, command: bool) -> None:
        if not command:
            self._invalid("cr")
            return
        if len(frame.info) > self.params.n201:
            self._frame_error("O", "information field too long")
            return
        if not self.established:
            # Q.921 5.? : in state 4 answer a poll with DM; otherwise ignore.
            if self.state == LinkState.TEI_ASSIGNED and frame.pf:
                self._send_u(DM, command=False, pf=1)
            self.counters["l2_frames_ignored"] += 1
            return
        deliver = None
        if frame.ns == self.vr:
            self.vr = (self.vr + 1) % MODULUS
            self.reject_exception = False
            deliver = frame.info
            if frame.pf:
                self._send_s(S_RR, command=False, pf=1)
            else:
                self.ack_pending = True
        else:
            self.counters["l2_out_of_sequence"] += 1
            if self.reject_exception:
                if frame.pf:
                    self._send_s(S_RR, command=False, pf=1)
            else:
                self.reject_exception = True
                self.counters["l2_rej_sent"] += 1
                self._send_s(S_REJ, command=False, pf=frame.pf)
        if not self._acknowledge(frame.nr):
            return
        if deliver is not None:
            self.user.dl_data_indication(deliver)
        if self.ack_pending and self.established:
            self.ack_pending = False
            self._send_s(S_RR, command=False, pf=0)
        if self.state == LinkState.MULTIPLE_FRAME_ESTABLISHED:
            self._pump()

    def _on_s(self, frame, command: bool) -> None:
        if frame.info:
            self._frame_error("N", "S frame with an information field")
            return
        if not self.established:
            if self.state == LinkState.TEI_ASSIGNED and command and frame.pf:
                self._send_u(DM, command=False, pf=1)
            self.counters["l2_frames_ignored"] += 1
            return
        function = frame.function
        self.peer_busy = function == S_RNR
        if command and frame.pf:
            self._send_s(S_RR, command=False, pf=1)   # enquiry response
        if not self._nr_valid(frame.nr):
            self._nr_error()
            return
        if self.state == LinkState.TIMER_RECOVERY:
            self._set_va(frame.nr)
            if not command and frame.pf:              # the answer to our poll: recovery ends
                self.t200.stop()
                self.t203.start()
                self._enter(LinkState.MULTIPLE_FRAME_ESTABLISHED)
                if function == S_RNR:                 # still busy: keep polling under T200
                    self.t203.stop()
                    self.t200.start()
                else:
                    self._retransmit()
                self._pump()
            return
        if not command and frame.pf:
            self._mdl_error("A", "unsolicited response with F=1")
        if function == S_REJ:
            self._set_va(frame.nr)
            self.t200.stop()
            self.t203.start()
            self._retransmit()
        elif function == S_RNR:
            self._set_va(frame.nr)
            self.t203.stop()
            self.t200.start()
        else:
            self._acknowledge(frame.nr)
        self._pump()

    def _on_sabme(self, frame) -> None:
        state = self.state
        if state == LinkState.AWAITING_RELEASE:
            self._send_u(DM, command=False, pf=frame.pf)
            return
        self._send_u(UA, command=False, pf=frame.pf)
        if state == LinkState.AWAITING_ESTABLISHMENT:
            # 5.5.1.3 a): the SABMEs crossed.  The peer is up once it has our UA, and so are
            # we (see the module docstring); the UA to our SABME is taken without complaint.
            self._ua_owed = True
            self._establishment_done()
            return
        if state == LinkState.TEI_ASSIGNED:
            self._multiple_frame_operation()
            self.user.dl_establish_indication()
            return
        # Multiple-frame operation: the peer re-establishes the link (SDL, Figure B.7).  Only
        # frames it may not have received are lost, and only then is layer 3 told; frames not
        # yet sent keep their place.
        self._mdl_error("F", "peer re-established the link")
        lost = self.vs != self.va
        if lost:
            self._discard_queues()
        self._multiple_frame_operation()
        if lost:
            self.user.dl_establish_indication()
        self._pump()

    def _on_disc(self, frame) -> None:
        if self.state in (LinkState.TEI_ASSIGNED, LinkState.AWAITING_ESTABLISHMENT):
            self._send_u(DM, command=False, pf=frame.pf)
            return
        if self.state == LinkState.AWAITING_RELEASE:
            self._send_u(UA, command=False, pf=frame.pf)
            return
        self._discard_queues()
        self._send_u(UA, command=False, pf=frame.pf)
        self.t200.stop()
        self.t203.stop()
        self._enter(LinkState.TEI_ASSIGNED)
        self.user.dl_release_indication()

    def _on_ua(self, frame) -> None:
        if self._ua_owed and frame.pf:
            self._ua_owed = False          # the answer to our SABME that crossed the peer's
        elif self.state == LinkState.AWAITING_ESTABLISHMENT and frame.pf:
            self._establishment_done()
        elif self.state == LinkState.AWAITING_RELEASE and frame.pf:
            self.t200.stop()
            self._enter(LinkState.TEI_ASSIGNED)
            self.user.dl_release_confirm()
        else:
            self._mdl_error("C" if frame.pf else "D", "unsolicited UA")

    def _on_dm(self, frame) -> None:
        state = self.state
        if state == LinkState.TEI_ASSIGNED:
            if not frame.pf:
                self._establish(layer3=False)   # the peer wants a link: a PRI link stays up
        elif state == LinkState.AWAITING_ESTABLISHMENT:
            if frame.pf:
                self._discard_queues()
                self.t200.stop()
                self._enter(LinkState.TEI_ASSIGNED)
                self.user.dl_release_indication()
        elif state == LinkState.AWAITING_RELEASE:
            if frame.pf:
                self.t200.stop()
                self._enter(LinkState.TEI_ASSIGNED)
                self.user.dl_release_confirm()
        elif frame.pf:
            self._mdl_error("B", "unsolicited DM with F=1")
        else:
            self._mdl_error("E", "DM in multiple-frame operation")
            self._establish(layer3=False)

    def _on_frmr(self) -> None:
        if self.established:
            self._mdl_error("K", "FRMR received")
            self._establish(layer3=False)

    # -- timers ---------------------------------------------------------------------------

    def _t200_expired(self) -> None:
        state = self.state
        if state == LinkState.AWAITING_ESTABLISHMENT:
            self._repeat_or_give_up(SABME, "G", self.user.dl_release_indication)
        elif state == LinkState.AWAITING_RELEASE:
            self._repeat_or_give_up(DISC, "H", self.user.dl_release_confirm)
        elif state == LinkState.MULTIPLE_FRAME_ESTABLISHED:
            self._enquiry()
            self.rc = 1
            self._enter(LinkState.TIMER_RECOVERY)
        elif state == LinkState.TIMER_RECOVERY:
            if self.rc >= self.params.n200:
                self._mdl_error("I", "no answer to polls")
                self._establish(layer3=False)
            else:
                self._enquiry()
                self.rc += 1

    def _repeat_or_give_up(self, kind, mdl_code: str, give_up) -> None:
        """T200 ran out waiting for the answer to SABME or DISC: send it again, up to
        N200 times, then go back to TEI-assigned and tell layer 3."""
        if self.rc < self.params.n200:
            self.rc += 1
            self._send_u(kind, command=True, pf=1)
            self.t200.start()
            return
        self._discard_queues()
        self._mdl_error(mdl_code, f"no answer to {kind.__name__}")
        self._enter(LinkState.TEI_ASSIGNED)
        give_up()

    def _t203_expired(self) -> None:
        if self.state == LinkState.MULTIPLE_FRAME_ESTABLISHED:
            self.rc = 0
            self._enquiry()
            self._enter(LinkState.TIMER_RECOVERY)

    # -- procedures -----------------------------------------------------------------------

    def _establish(self, layer3: bool) -> None:
        """Q.921 "establish data link": SABME with P=1 under T200."""
        self._clear_exceptions()
        self.layer3_initiated = layer3
        self._recovering = self.established
        self._ua_owed = False
        self.rc = 0
        self._send_u(SABME, command=True, pf=1)
        self.t203.stop()
        self.t200.start()
        self._enter(LinkState.AWAITING_ESTABLISHMENT)

    def _establishment_done(self) -> None:
        """State 5 is over (UA received, or SABMEs crossed): multiple-frame operation.

        As the SDL has it: layer 3's own request is confirmed; after a re-establishment
        layer 3 is told (and the I queue discarded) only if frames were outstanding; a link
        layer 3 thought down (the peer asked for it with DM) is indicated."""
        lost = self._recovering and self.vs != self.va
        if lost:
            self._discard_queues()
        self._multiple_frame_operation()
        if self.layer3_initiated:
            self.layer3_initiated = False
            self.user.dl_establish_confirm()
        elif lost or not self._recovering:
            self.user.dl_establish_indication()
        self._recovering = False
        self._pump()

    def _multiple_frame_operation(self) -> None:
        """Enter state 7 on a fresh link: no exception conditions, V(S) = V(A) = V(R) = 0,
        T200 stopped, T203 running."""
        self._clear_exceptions()
        self.vs = self.va = self.vr = 0
        self.t200.stop()
        self.t203.start()
        self._enter(LinkState.MULTIPLE_FRAME_ESTABLISHED)
        self.counters["l2_established"] += 1

    def _enquiry(self) -> None:
        self._send_s(S_RR, command=True, pf=1)
        self.t200.start()

    def _nr_valid(self, nr: int) -> bool:
        return (nr - self.va) % MODULUS <= (self.vs - self.va) % MODULUS

    def _set_va(self, nr: int) -> None:
        acked = (nr - self.va) % MODULUS
        for _ in range(min(acked, len(self._unacked))):
            self._unacked.popleft()
        self.va = nr

    def _acknowledge(self, nr: int) -> bool:
        """N(R) of an I frame or RR: update V(A) and the timers; False on an N(R) error."""
        if not self._nr_valid(nr):
            self._nr_error()
            return False
        if self.state == LinkState.TIMER_RECOVERY or self.peer_busy:
            self._set_va(nr)
        elif nr == self.vs:
            self._set_va(nr)
            self.t200.stop()
            self.t203.start()
        elif nr != self.va:
            self._set_va(nr)
            self.t200.start()
        return True

    def _retransmit(self) -> None:
        """Send again every I frame from V(A) on (after REJ or timer recovery)."""
        if self._unacked:
            self.counters["l2_retransmitted"] += len(self._unacked)
            self._queue.extendleft(reversed(self._unacked))
            self._unacked.clear()
        self.vs = self.va

    def _pump(self) -> None:
        queue = self._queue
        while queue and not self.peer_busy and (self.vs - self.va) % MODULUS < self.params.k:
            info = queue.popleft()
            self._unacked.append(info)
            self._emit(encode_i_frame(self._cmd_cr, self.vs, self.vr, 0, info))
            self.vs = (self.vs + 1) % MODULUS
            self.ack_pending = False
            if not self.t200.running:
                self.t203.stop()
                self.t200.start()

    def _nr_error(self) -> None:
        self._mdl_error("J", "N(R) sequence error")
        self._establish(layer3=False)

    def _frame_error(self, code: str, what: str) -> None:
        """Q.921 5.8.5: an invalid frame; in multiple-frame operation, re-establish."""
        self._invalid(code)
        if self.established:
            self._mdl_error(code, what)
            self._establish(layer3=False)

    def _invalid(self, why: str) -> None:
        self.counters["l2_frames_invalid"] += 1
        log.debug("event=lapd_invalid_frame reason=%s", why)

    def _mdl_error(self, code: str, what: str) -> None:
        self.counters["l2_mdl_errors"] += 1
        log.info("event=mdl_error code=%s state=%s what=%r", code, self.state.name, what)

    def _clear_exceptions(self) -> None:
        self.peer_busy = False
        self.reject_exception = False
        self.ack_pending = False

    def _discard_queues(self) -> None:
        self._queue.clear()
        self._unacked.clear()

    def _enter(self, state: LinkState) -> None:
        if state != self.state:
            log.debug("event=lapd_state from=%s to=%s", self.state.name, state.name)
            self.state = state

    def _send_s(self, function: int, command: bool, pf: int) -> None:
        self._emit(encode_s_frame(self._cmd_cr if command else self._rsp_cr, function, self.vr, pf))

    def _send_u(self, kind, command: bool, pf: int) -> None:
        self._emit(encode_u_frame(kind, self._cmd_cr if command else self._rsp_cr, pf))

    def _emit(self, frame: bytes) -> None:
        self.counters["l2_frames_out"] += 1
        self._send_frame(frame)
