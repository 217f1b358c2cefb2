"""Calls as the Q.931 state machines and their users see them.

A :class:`Call` is one call reference on one D-channel with its Q.931 state (the same
numbers on both sides: U10 and N10 are both 10, "active").  What happens to calls is
reported as :class:`CallEvent` objects; their ``kind`` is one of :data:`EVENT_KINDS`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from appliance.isdn.timers import Timer

__all__ = ["CallState", "Call", "CallEvent", "CallTimers", "CallStateError", "EVENT_KINDS"]


class CallState(enum.IntEnum):
    """Q.931 2.1 call states; a user-side call is in U<n>, a network-side one in N<n>."""

    NULL = 0
    CALL_INITIATED = 1
    OVERLAP_SENDING = 2
    OUTGOING_CALL_PROCEEDING = 3
    CALL_DELIVERED = 4
    CALL_PRESENT = 6
    CALL_RECEIVED = 7
    CONNECT_REQUEST = 8
    INCOMING_CALL_PROCEEDING = 9
    ACTIVE = 10
    DISCONNECT_REQUEST = 11
    DISCONNECT_INDICATION = 12
    SUSPEND_REQUEST = 15
    RESUME_REQUEST = 17
    RELEASE_REQUEST = 19
    CALL_ABORT = 22
    OVERLAP_RECEIVING = 25


# What the stack reports, in the order a call usually sees them.
EVENT_KINDS = (
    "setup",             # an incoming call is offered (call.called, call.calling, call.channel)
    "setup_acknowledge",  # outgoing: the far end wants more digits (overlap sending)
    "information",       # digits (overlap) or keypad information arrived: event.digits
    "proceeding",        # outgoing: CALL PROCEEDING
    "alerting",          # outgoing: the far end is ringing
    "progress",          # PROGRESS (event.progress: Q.931 progress description)
    "active",            # the call is answered and through (either direction)
    "disconnect",        # the far end started clearing (event.cause)
    "released",          # the call is gone, B-channel free (event.cause); always the last
    "facility",          # FACILITY passed through (event.data: the Facility IE contents)
    "status",            # STATUS received (event.cause, event.state)
    "restart",           # the far end restarted channels (event.channels; () = all)
    "restart_acknowledge",  # our RESTART was acknowledged (event.channels)
    "link_up", "link_down",  # the data link below came up / went down
)


@dataclass(frozen=True)
class CallTimers:
    """Q.931 Table 9-1/9-2 timers in seconds (network or user side defaults)."""

    t301: float = 180.0   # ALERTING received, waiting for CONNECT
    t303: float = 4.0     # SETUP sent, waiting for a response (sent twice)
    t305: float = 30.0    # DISCONNECT sent, waiting for RELEASE or DISCONNECT
    t308: float = 4.0     # RELEASE sent, waiting for RELEASE COMPLETE (sent twice)
    t309: float = 90.0    # data link down with active calls
    t310: float = 30.0    # CALL PROCEEDING received (network side: 10 s)
    t313: float = 4.0     # CONNECT sent (user side), waiting for CONNECT ACKNOWLEDGE
    t316: float = 120.0   # RESTART sent, waiting for RESTART ACKNOWLEDGE
    t322: float = 4.0     # STATUS ENQUIRY sent, waiting for STATUS

    @classmethod
    def for_side(cls, network: bool, **overrides: float) -> "CallTimers":
        base = {"t310": 10.0} if network else {}
        base.update(overrides)
        return cls(**base)


class CallStateError(Exception):
    """A call request that the call's state does not allow (e.g. answer when active)."""


@dataclass(eq=False)
class Call:
    """One call reference on a D-channel.

    ``outgoing`` is True for calls this side originated (its messages carry call
    reference flag 0).  ``channel`` is the B-channel (timeslot) once one is agreed.
    ``user_data`` is for the layer above; the stack never looks at it.
    """

    callref: int
    outgoing: bool
    network_side: bool
    state: CallState = CallState.NULL
    channel: int | None = None
    exclusive: bool = False
    called: str = ""
    calling: str = ""
    calling_presentation: int | None = None
    calling_screening: int | None = None
    calling_type: int = 0
    calling_plan: int = 1
    display: str = ""
    sending_complete: bool = False
    bearer_capability: int = 0
    cause: int | None = None
    inband: bool = False
    callref_len: int = 2
    user_data: Any = None
    # the running state timer (T301/T303/T305/T308/T310/T313) and its name
    timer: Timer | None = field(default=None, repr=False)
    timer_name: str = ""
    retries: int = 0
    t309: Timer | None = field(default=None, repr=False)
    t322: Timer | None = field(default=None, repr=False)
    enquiries: int = 0

    @property
    def state_name(self) -> str:
        """"U10", "N7", ...: the state as Q.931 names it for this side."""
        return f"{'N' if self.network_side else 'U'}{int(self.state)}"

    @property
    def flag(self) -> int:
        """Call reference flag on messages this side sends for the call (Q.931 4.3)."""
        return 0 if self.outgoing else 1

    @property
    def released(self) -> bool:
        return self.state == CallState.NULL


@dataclass(frozen=True)
class CallEvent:
    kind: str
    call: Call | None = None
    cause: int | None = None
    digits: str = ""
    progress: int | None = None
    state: int | None = None
    channels: tuple[int, ...] = ()
    data: bytes = b""
