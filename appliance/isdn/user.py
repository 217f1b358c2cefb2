"""Q.931 call control, user side: states U0-U25 (Q.931 clause 5.1-5.4, Annex A).

What is particular to the user side: the states it enters (an outgoing call starts
in U1, an incoming one in U6), answering through U8 with T313 until CONNECT
ACKNOWLEDGE, staying in U12 after a DISCONNECT that announces in-band information,
and giving up its B-channel when the network's SETUP claims it (glare).
"""
from __future__ import annotations

from appliance.isdn.call import Call, CallState
from appliance.isdn.callcontrol import (
    MT_ALERTING, MT_CALL_PROCEEDING, MT_CONNECT, MT_CONNECT_ACKNOWLEDGE, MT_DISCONNECT,
    MT_INFORMATION, MT_PROGRESS, MT_SETUP_ACKNOWLEDGE, CallControl, states,
)
from appliance.isdn.q931 import Connect

__all__ = ["UserCallControl"]

U = CallState


class UserCallControl(CallControl):
    """The user side (CPE/TE) of a PRI: what a call centre normally is."""

    network_side = False
    CAUSE_LOCATION = 0   # user

    S_OUT_SETUP = U.CALL_INITIATED                      # U1
    S_OUT_OVERLAP = U.OVERLAP_SENDING                   # U2
    S_OUT_PROCEEDING = U.OUTGOING_CALL_PROCEEDING       # U3
    S_OUT_ALERTING = U.CALL_DELIVERED                   # U4
    S_IN_SETUP = U.CALL_PRESENT                         # U6
    S_IN_ALERTING = U.CALL_RECEIVED                     # U7
    S_IN_PROCEEDING = U.INCOMING_CALL_PROCEEDING        # U9
    S_IN_OVERLAP = U.OVERLAP_RECEIVING                  # U25
    S_WE_DISCONNECT = U.DISCONNECT_REQUEST              # U11
    S_THEY_DISCONNECT = U.DISCONNECT_INDICATION         # U12

    # Which network-to-user message each state expects (Q.931 Annex A, user SDL).
    # RELEASE, RELEASE COMPLETE, STATUS, STATUS ENQUIRY, FACILITY and NOTIFY are
    # accepted in every state but U0; anything else out of place gets STATUS 101.
    ALLOWED = {
        MT_SETUP_ACKNOWLEDGE: states(U.CALL_INITIATED),
        MT_CALL_PROCEEDING: states(U.CALL_INITIATED, U.OVERLAP_SENDING),
        MT_ALERTING: states(U.CALL_INITIATED, U.OVERLAP_SENDING, U.OUTGOING_CALL_PROCEEDING),
        MT_CONNECT: states(U.CALL_INITIATED, U.OVERLAP_SENDING, U.OUTGOING_CALL_PROCEEDING,
                            U.CALL_DELIVERED),
        MT_CONNECT_ACKNOWLEDGE: states(U.CONNECT_REQUEST, U.ACTIVE),
        MT_PROGRESS: states(U.OVERLAP_SENDING, U.OUTGOING_CALL_PROCEEDING, U.CALL_DELIVERED),
        MT_INFORMATION: states(U.OVERLAP_SENDING, U.OUTGOING_CALL_PROCEEDING, U.CALL_DELIVERED,
                                U.CALL_RECEIVED, U.CONNECT_REQUEST, U.INCOMING_CALL_PROCEEDING,
                                U.ACTIVE, U.DISCONNECT_REQUEST, U.DISCONNECT_INDICATION,
                                U.OVERLAP_RECEIVING),
        MT_DISCONNECT: states(U.CALL_INITIATED, U.OVERLAP_SENDING, U.OUTGOING_CALL_PROCEEDING,
                               U.CALL_DELIVERED, U.CALL_PRESENT, U.CALL_RECEIVED, U.CONNECT_REQUEST,
                               U.INCOMING_CALL_PROCEEDING, U.ACTIVE, U.DISCONNECT_REQUEST,
                               U.DISCONNECT_INDICATION, U.RELEASE_REQUEST, U.OVERLAP_RECEIVING),
    }

    def _answer(self, call: Call) -> None:
        self._enter(call, U.CONNECT_REQUEST)
        self._send(call, Connect, [self._channel_ie(call.channel, True)])
        self._start_timer(call, "T313")

    def _release_on_disconnect(self, call: Call) -> bool:
        # 5.3.4.1: with in-band information announced the user may listen first and
        # release later (Stack.release); otherwise it releases at once.
        return not call.inband

    def _glare_loser(self, channel: int, exclusive: bool) -> Call | None:
        owner = self.channels.owner(channel)
        if exclusive and isinstance(owner, Call) and owner.outgoing and owner.state == U.CALL_INITIATED:
            return owner
        return None
