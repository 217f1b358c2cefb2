"""Q.931 call control, network side: states N0-N25 (Q.931 clause 5.1-5.4, Annex A).

What is particular to the network side: the states it enters (a call from the user
starts in N1, a call to the user in N6), answering straight into N10, always
releasing after the user's DISCONNECT, offering its B-channel exclusively, and
keeping a channel it has offered when the user asks for the same one (glare).
"""
from __future__ import annotations

from appliance.isdn.call import Call, CallEvent, CallState
from appliance.isdn.callcontrol import (
    MT_ALERTING, MT_CALL_PROCEEDING, MT_CONNECT, MT_CONNECT_ACKNOWLEDGE, MT_DISCONNECT,
    MT_INFORMATION, MT_PROGRESS, MT_SETUP_ACKNOWLEDGE, CallControl, states,
)
from appliance.isdn.q931 import Connect

__all__ = ["NetworkCallControl"]

N = CallState


class NetworkCallControl(CallControl):
    """The network side (exchange/NT) of a PRI: the simulator, or an agent-PBX trunk."""

    network_side = True
    CAUSE_LOCATION = 2   # public network serving the local user

    S_IN_SETUP = N.CALL_INITIATED                       # N1
    S_IN_OVERLAP = N.OVERLAP_SENDING                    # N2
    S_IN_PROCEEDING = N.OUTGOING_CALL_PROCEEDING        # N3
    S_IN_ALERTING = N.CALL_DELIVERED                    # N4
    S_OUT_SETUP = N.CALL_PRESENT                        # N6
    S_OUT_ALERTING = N.CALL_RECEIVED                    # N7
    S_OUT_PROCEEDING = N.INCOMING_CALL_PROCEEDING       # N9
    S_OUT_OVERLAP = N.OVERLAP_RECEIVING                 # N25
    S_WE_DISCONNECT = N.DISCONNECT_INDICATION           # N12
    S_THEY_DISCONNECT = N.DISCONNECT_REQUEST            # N11

    # Which user-to-network message each state expects (Q.931 Annex A, network SDL).
    ALLOWED = {
        MT_SETUP_ACKNOWLEDGE: states(N.CALL_PRESENT),
        MT_CALL_PROCEEDING: states(N.CALL_PRESENT, N.OVERLAP_RECEIVING),
        MT_ALERTING: states(N.CALL_PRESENT, N.INCOMING_CALL_PROCEEDING, N.OVERLAP_RECEIVING),
        MT_CONNECT: states(N.CALL_PRESENT, N.CALL_RECEIVED, N.INCOMING_CALL_PROCEEDING,
                            N.OVERLAP_RECEIVING),
        MT_CONNECT_ACKNOWLEDGE: states(N.ACTIVE),
        MT_PROGRESS: states(N.CALL_RECEIVED, N.INCOMING_CALL_PROCEEDING, N.OVERLAP_RECEIVING),
        MT_INFORMATION: states(N.OVERLAP_SENDING, N.OUTGOING_CALL_PROCEEDING, N.CALL_DELIVERED,
                                N.CALL_RECEIVED, N.INCOMING_CALL_PROCEEDING, N.ACTIVE,
                                N.DISCONNECT_REQUEST, N.DISCONNECT_INDICATION, N.OVERLAP_RECEIVING),
        MT_DISCONNECT: states(N.CALL_INITIATED, N.OVERLAP_SENDING, N.OUTGOING_CALL_PROCEEDING,
                               N.CALL_DELIVERED, N.CALL_PRESENT, N.CALL_RECEIVED,
                               N.INCOMING_CALL_PROCEEDING, N.ACTIVE, N.DISCONNECT_REQUEST,
                               N.DISCONNECT_INDICATION, N.RELEASE_REQUEST, N.OVERLAP_RECEIVING),
    }

    def _answer(self, call: Call) -> None:
        # 5.1.8: the network sends CONNECT and the call is active; the user's
        # CONNECT ACKNOWLEDGE, if any, changes nothing.
        self._send(call, Connect, [self._channel_ie(call.channel, True)])
        self._enter(call, N.ACTIVE)
        self.emit(CallEvent("active", call))
