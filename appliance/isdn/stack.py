"""One D-channel's signalling: Q.921 LAPD and Q.931 call control joined, no I/O.

The layer above (the call manager, a simulator, a test) owns the I/O: it hands every
frame read from the D-channel to :meth:`Stack.receive_frame` and gives the stack a
``send_frame`` callable that writes one.  Time comes from an injected clock; what
happens to calls comes back as :class:`~appliance.isdn.call.CallEvent` objects
through ``on_event``.  Requests go the other way::

    stack = Stack("user", dchannel.send, clock, on_event=handle)
    stack.start()                                  # bring the data link up
    call = stack.place_call("5551000", calling="4000")
    ...                                            # events: proceeding, alerting, active
    stack.disconnect(call)                         # events: released

    def handle(event):                             # an incoming call
        if event.kind == "setup":
            stack.alert(event.call); stack.answer(event.call)

Nothing a frame contains makes :meth:`Stack.receive_frame` raise: bad frames and
messages are answered as Q.931 says or dropped, and counted in :attr:`Stack.counters`.
A bug in the stack itself is logged and counted (``internal_errors``) rather than
taking the daemon down, unless the stack was made ``strict`` (tests are).
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Literal

from appliance.isdn.call import Call, CallEvent, CallTimers
from appliance.isdn.callcontrol import CallControl
from appliance.isdn.lapd import DataLink, LinkParameters, LinkState
from appliance.isdn.network import NetworkCallControl
from appliance.isdn.pcap import PcapWriter
from appliance.isdn.user import UserCallControl
from appliance.isdn.variants import get_variant
from drivers.clock import Clock

__all__ = ["Stack", "Role"]

log = logging.getLogger(__name__)

Role = Literal["user", "network"]


class Stack:
    """LAPD + Q.931 for one PRI D-channel in one role ("user" or "network").

    ``variant`` is a switch type name (``euroisdn``, ``ni2``, ``national``);
    ``span_type`` ("E1"/"T1") defaults to the variant's.  ``capture``, if given,
    receives every frame in both directions.
    """

    def __init__(self, role: Role, send_frame: Callable[[bytes], None], clock: Clock,
                 on_event: Callable[[CallEvent], None] | None = None, variant: str = "euroisdn",
                 span_type: str | None = None, link_params: LinkParameters = LinkParameters(),
                 timers: CallTimers | None = None, capture: PcapWriter | None = None,
                 strict: bool = False, name: str = "") -> None:
        if role not in ("user", "network"):
            raise ValueError(f"role {role!r}: expected 'user' or 'network'")
        self.role = role
        self.name = name or role
        self.clock = clock
        self.capture = capture
        self.strict = strict
        self.counters: Counter = Counter()
        self._send_frame = send_frame
        self._on_event = on_event
        network = role == "network"
        control_cls = NetworkCallControl if network else UserCallControl
        self.calls: CallControl = control_cls(
            get_variant(variant), clock, self._emit, span_type=span_type,
            timers=timers, counters=self.counters)
        self.link = DataLink(network, self._transmit, clock, self.calls, link_params, self.counters)
        self.calls.link = self.link

    # -- the D-channel ------------------------------------------------------------------

    def start(self) -> None:
        """Bring the data link up (SABME); a PRI keeps it up from then on.  A link the peer
        has already brought up is left alone: asking again would reset it (Q.921 5.5.1)."""
        if not self.link.established:
            self._guarded(self.link.establish)

    def stop(self) -> None:
        """Take the data link down (DISC); calls are cleared."""
        self._guarded(self.link.release)

    def close(self) -> None:
        """Forget the clock timers (the stack is being thrown away)."""
        self.link.close()

    def receive_frame(self, frame: bytes) -> None:
        """One frame read from the D-channel (address, control, information; no FCS)."""
        if self.capture is not None:
            self.capture.write(frame, False, self.clock.wall())
        self._guarded(self.link.receive, frame)

    def physical_down(self) -> None:
        """Layer 1 lost (span alarm): the link drops, calls follow Q.931 5.8.9."""
        self._guarded(self.link.physical_down)

    def physical_up(self) -> None:
        """Layer 1 back: bring the link up again."""
        self._guarded(self.link.establish)

    @property
    def link_up(self) -> bool:
        return self.link.established

    @property
    def link_state(self) -> LinkState:
        return self.link.state

    @property
    def active_calls(self) -> list[Call]:
        return list(self.calls.calls.values())

    # -- calls (see CallControl for each request's contract) ------------------------------

    def place_call(self, called: str, calling: str = "", **options) -> Call:
        return self.calls.place_call(called, calling, **options)

    def proceed(self, call: Call) -> None:
        self.calls.proceed(call)

    def setup_acknowledge(self, call: Call) -> None:
        self.calls.setup_acknowledge(call)

    def alert(self, call: Call) -> None:
        self.calls.alert(call)

    def progress(self, call: Call, description: int = 8) -> None:
        self.calls.progress(call, description)

    def answer(self, call: Call) -> None:
        self.calls.answer(call)

    def send_information(self, call: Call, digits: str, complete: bool = False) -> None:
        self.calls.send_information(call, digits, complete)

    def facility(self, call: Call, data: bytes) -> None:
        self.calls.facility(call, data)

    def disconnect(self, call: Call, cause: int = 16) -> None:
        self.calls.disconnect(call, cause)

    def release(self, call: Call, cause: int | None = None) -> None:
        self.calls.release(call, cause)

    def status_enquiry(self, call: Call) -> None:
        self.calls.status_enquiry(call)

    def restart(self, channel: int | None = None) -> None:
        self.calls.restart(channel)

    # -- plumbing ---------------------------------------------------------------------------

    def _transmit(self, frame: bytes) -> None:
        if self.capture is not None:
            self.capture.write(frame, True, self.clock.wall())
        self._send_frame(frame)

    def _emit(self, event: CallEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _guarded(self, action: Callable, *args) -> None:
        try:
            action(*args)
        except Exception:
            self.counters["internal_errors"] += 1
            log.exception("event=isdn_internal_error stack=%s", self.name)
            if self.strict:
                raise
