"""Q.931 call control for one D-channel: the procedures both sides share.

:class:`CallControl` is the layer 3 entity above one :class:`~appliance.isdn.lapd.DataLink`.
It owns the call references, the B-channels and the global call reference, checks
every message as Q.931 5.8 says (call reference, message type, information elements)
and runs the procedures that are the same on both sides: clearing (5.3, 5.4),
RESTART (5.5), STATUS ENQUIRY and STATUS (5.8.10, 5.8.11) and data link failure and
reset (5.8.8, 5.8.9).  The sides differ in their state numbers and in a few steps;
:mod:`appliance.isdn.user` and :mod:`appliance.isdn.network` hold those, including the
table of which message each state accepts.

Every problem with a received message is counted in ``counters`` (``l3_*`` keys) and
answered the way Q.931 says (STATUS or RELEASE COMPLETE with the right cause) or
ignored; nothing raises out of :meth:`CallControl.dl_data_indication`.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable

from appliance.isdn.call import Call, CallEvent, CallState, CallStateError, CallTimers
from appliance.isdn.channels import ChannelPool
from appliance.isdn import q931
from appliance.isdn.codec import DecodeError, IESpec, Record, decode_message, encode_message, ie
from appliance.isdn.q931 import (
    PD_Q931, BearerCapability, CallingPartyNumber, CalledPartyNumber, CallState as CallStateIE,
    Cause, ChannelIdentification, CodesetTracker, Display, DisplayWithType, Facility, Facility_,
    InformationElement, KeypadFacility, ProgressIndicator, Q931, RestartIndicator, SendingComplete,
    Shift, SingleOctetIE, UnknownIE, UnknownSingleOctetIE,
    Alerting, CallProceeding, ConnectAcknowledge, Disconnect, Information, Progress, Release,
    ReleaseComplete, Restart, RestartAcknowledge, Setup, SetupAcknowledge, Status, StatusEnquiry,
)
from appliance.isdn.timers import Timer
from appliance.isdn.variants import SwitchVariant
from drivers.clock import Clock

__all__ = ["CallControl", "Incoming", "states"]

log = logging.getLogger(__name__)

S = CallState

# Message types, by name, for the tables.
MT_ALERTING, MT_CALL_PROCEEDING, MT_PROGRESS, MT_SETUP = 0x01, 0x02, 0x03, 0x05
MT_CONNECT, MT_SETUP_ACKNOWLEDGE, MT_CONNECT_ACKNOWLEDGE = 0x07, 0x0D, 0x0F
MT_DISCONNECT, MT_RESTART, MT_RELEASE, MT_RESTART_ACKNOWLEDGE = 0x45, 0x46, 0x4D, 0x4E
MT_RELEASE_COMPLETE, MT_FACILITY, MT_NOTIFY = 0x5A, 0x62, 0x6E
MT_STATUS_ENQUIRY, MT_INFORMATION, MT_STATUS = 0x75, 0x7B, 0x7D

# Causes this module sends (Q.850).
NORMAL_CLEARING = 16
NO_USER_RESPONDING = 18
NO_ANSWER = 19
DESTINATION_OUT_OF_ORDER = 27
RESPONSE_TO_STATUS_ENQUIRY = 30
NORMAL_UNSPECIFIED = 31
NO_CHANNEL = 34
TEMPORARY_FAILURE = 41
CHANNEL_UNAVAILABLE = 44
CHANNEL_UNACCEPTABLE = 6
BEARER_NOT_IMPLEMENTED = 65
INVALID_CALL_REFERENCE = 81
CHANNEL_DOES_NOT_EXIST = 82
MANDATORY_IE_MISSING = 96
MESSAGE_TYPE_NONEXISTENT = 97
IE_NONEXISTENT = 99
INVALID_IE_CONTENTS = 100
WRONG_STATE = 101
TIMER_EXPIRY = 102

REST_NULL, REST_REQUEST, REST_RESTART = 0, 0x3D, 0x3E

# Messages every non-null state accepts (clearing, status, pass-through).
_ANY_STATE = frozenset({MT_RELEASE, MT_RELEASE_COMPLETE, MT_STATUS, MT_STATUS_ENQUIRY,
                        MT_FACILITY, MT_NOTIFY})
# Messages for which a STATUS about unrecognised/bad optional elements is not sent.
_NO_STATUS_REPORT = frozenset({MT_DISCONNECT, MT_RELEASE, MT_RELEASE_COMPLETE, MT_STATUS,
                               MT_STATUS_ENQUIRY})
_SPEECH_CAPABILITIES = frozenset({0x00, 0x10})   # speech, 3.1 kHz audio

# Call state groups for judging a peer's reported state (5.8.11).
_OUT_ESTABLISHING = frozenset({1, 2, 3, 4})
_IN_ESTABLISHING = frozenset({6, 7, 8, 9, 25})
_CLEARING = frozenset({11, 12, 19, 22})

_IE_ORDER: dict[type, tuple[int, int]] = {}


def _order(spec: IESpec) -> tuple[int, int]:
    """Sort key putting elements in Q.931 4.5.1 order: single-octet first, then by id."""
    cls = spec[0]
    key = _IE_ORDER.get(cls)
    if key is None:
        single = issubclass(cls, SingleOctetIE)
        ident = next(f.default for f in cls.fields_desc if f.name in ("id", "ident"))
        key = _IE_ORDER.setdefault(cls, (0 if single else 1, ident))
    return key


def states(*states: CallState) -> frozenset[int]:
    """A set of call states, for the sides' ``ALLOWED`` tables."""
    return frozenset(int(state) for state in states)


class Incoming:
    """A received message after the 5.8 checks: its record and its usable elements.

    ``problem`` is set (cause, diagnostic) when a mandatory element is missing or bad
    or an unknown element demands comprehension: the message must not be acted on.
    ``report`` is set when optional elements were unknown or bad: the message is acted
    on and a STATUS with that cause follows.
    """

    __slots__ = ("msg", "message_type", "ies", "problem", "report")

    def __init__(self, msg: Record, ies: dict[type, Record], problem: tuple[int, bytes] | None,
                 report: tuple[int, bytes] | None) -> None:
        self.msg = msg
        self.message_type = msg.message_type
        self.ies = ies
        self.problem = problem
        self.report = report

    def get(self, cls: type[InformationElement]) -> Record | None:
        return self.ies.get(cls)

    @property
    def cause(self) -> int | None:
        rec = self.ies.get(Cause)
        return rec.cause_value if rec is not None else None

    @property
    def inband(self) -> bool:
        rec = self.ies.get(ProgressIndicator)
        return rec is not None and rec.description == 8


def _digits(rec: Record | None) -> str:
    if rec is None:
        return ""
    return rec.digits.decode("ascii", "replace")


class CallControl:
    """The shared part of both sides.  Subclasses set the role's states and table.

    ``ALLOWED`` maps a message type to the states in which the side expects it (beyond
    the messages every non-null state accepts); any other known message in a call is
    answered with STATUS, cause 101.  The ``S_*`` attributes name the states a call
    enters at each step, which is where the user side (U) and network side (N) differ.
    """

    network_side: bool
    ALLOWED: dict[int, frozenset[int]]
    S_OUT_SETUP: CallState          # SETUP sent
    S_OUT_OVERLAP: CallState        # SETUP ACKNOWLEDGE received
    S_OUT_PROCEEDING: CallState     # CALL PROCEEDING received
    S_OUT_ALERTING: CallState       # ALERTING received
    S_IN_SETUP: CallState           # SETUP received
    S_IN_OVERLAP: CallState         # SETUP ACKNOWLEDGE sent
    S_IN_PROCEEDING: CallState      # CALL PROCEEDING sent
    S_IN_ALERTING: CallState        # ALERTING sent
    S_WE_DISCONNECT: CallState      # DISCONNECT sent
    S_THEY_DISCONNECT: CallState    # DISCONNECT received
    CAUSE_LOCATION: int             # location in causes this side generates

    def __init__(self, variant: SwitchVariant, clock: Clock, emit: Callable[[CallEvent], None],
                 span_type: str | None = None, timers: CallTimers | None = None,
                 counters: Counter | None = None) -> None:
        self.variant = variant
        self.clock = clock
        self.emit = emit
        self.timers = timers or CallTimers.for_side(self.network_side)
        self.counters = counters if counters is not None else Counter()
        self.channels = ChannelPool(span_type or variant.span_type, hunt_descending=not self.network_side)
        self.calls: dict[tuple[int, bool], Call] = {}
        self.link = None            # the DataLink below, set by the Stack
        self.link_up = False
        self.link_failed = False    # DL-RELEASE indication seen; re-establishing
        self._next_callref = 1
        self._restarts: dict[tuple[int, ...], list] = {}   # channels -> [timer, attempts]
        self._relink = Timer(clock, 1.0, self._relink_now, "relink")

    # ==== the data link below (LinkUser) ===============================================

    def dl_establish_indication(self) -> None:
        self._link_established(reset=not self.link_failed and self.link_up)

    def dl_establish_confirm(self) -> None:
        self._link_established(reset=False)

    def _link_established(self, reset: bool) -> None:
        self._relink.stop()
        was_up = self.link_up
        self.link_up = True
        self.link_failed = False
        if not was_up:
            self.emit(CallEvent("link_up"))
        for call in list(self.calls.values()):
            if call.t309 is not None and call.t309.running:
                # 5.8.9: back before T309 ran out: report our state to the peer.
                call.t309.stop()
                self._send_status(call, NORMAL_UNSPECIFIED)
            elif reset:
                # 5.8.8: the link was reset under us.
                if call.state in (S.OVERLAP_SENDING, S.OVERLAP_RECEIVING):
                    self._disconnect(call, TEMPORARY_FAILURE)
                elif call.state not in _CLEARING and call.state != S.NULL:
                    self.status_enquiry(call)

    def dl_release_indication(self) -> None:
        self.link_failed = True
        self._link_lost()
        # 5.8.9: ask for the link again.  Pace the attempts by T200 so a peer that
        # refuses with DM does not make the two ends ping-pong at wire speed.
        self._relink.start(self.link.params.t200 if self.link is not None else None)

    def _relink_now(self) -> None:
        if self.link is not None and not self.link_up and not self.link.established:
            self.link.establish()

    def dl_release_confirm(self) -> None:
        self._link_lost()

    def _link_lost(self) -> None:
        """The data link is gone: report it once, then (5.8.9) clear the calls not
        active at once; active ones wait T309."""
        if self.link_up:
            self.link_up = False
            self.emit(CallEvent("link_down"))
        for call in list(self.calls.values()):
            if call.state == S.ACTIVE:
                if call.t309 is None:
                    call.t309 = Timer(self.clock, self.timers.t309, lambda c=call: self._t309_expired(c), "T309")
                if not call.t309.running:
                    call.t309.start()
            else:
                self._clear_internally(call, DESTINATION_OUT_OF_ORDER)

    def _t309_expired(self, call: Call) -> None:
        log.info("event=t309_expired callref=%d state=%s", call.callref, call.state_name)
        self._clear_internally(call, DESTINATION_OUT_OF_ORDER)

    # ==== messages in ===================================================================

    def dl_data_indication(self, info: bytes) -> None:
        counters = self.counters
        counters["l3_messages_in"] += 1
        try:
            msg = decode_message(info)
        except DecodeError:
            counters["l3_too_short"] += 1          # 5.8.2: ignore
            return
        values = msg.values
        if values["protocol_discriminator"] != PD_Q931:
            counters["l3_bad_protocol"] += 1       # 5.8.1: ignore
            return
        callref_len = values["callref_len"]
        if callref_len not in (1, 2):
            counters["l3_bad_callref"] += 1        # 5.8.3.1: dummy or invalid format: ignore
            return
        callref = values["callref"]
        if callref == 0:
            self._global(msg)
            return
        ours = values["callref_flag"] == 1         # flag 1: sent to the originating side
        call = self.calls.get((callref, ours))
        mt = values["message_type"]
        if call is None:
            self._unknown_callref(msg, ours)
            return
        if msg.cls is Q931:
            counters["l3_unknown_message"] += 1    # 5.8.4
            self._send_status(call, MESSAGE_TYPE_NONEXISTENT, bytes([mt]))
            return
        if mt == MT_SETUP:
            counters["l3_duplicate_setup"] += 1    # 5.8.3.2 e): call reference in use
            return
        incoming = self._check_ies(msg)
        if incoming.problem is not None:
            self._mandatory_problem(call, incoming)
            return
        if mt not in _ANY_STATE and call.state not in self.ALLOWED.get(mt, ()):
            counters["l3_unexpected_message"] += 1
            self._send_status(call, WRONG_STATE, bytes([mt]))
            return
        self._dispatch(call, incoming)
        if incoming.report and mt not in _NO_STATUS_REPORT and call.state != S.NULL:
            self._send_status(call, *incoming.report)

    def _dispatch(self, call: Call, incoming: Incoming) -> None:
        mt = incoming.message_type
        handler = self._HANDLERS.get(mt)
        if handler is None:
            self.counters["l3_unexpected_message"] += 1
            self._send_status(call, WRONG_STATE, bytes([mt]))
            return
        handler(self, call, incoming)

    def _unknown_callref(self, msg: Record, ours: bool) -> None:
        """5.8.3.2: a message for a call reference we do not know."""
        mt = msg.message_type
        counters = self.counters
        if mt == MT_SETUP:
            if ours:
                counters["l3_bad_callref"] += 1    # d): SETUP with flag 1: ignore
                return
            incoming = self._check_ies(msg)
            if incoming.problem is not None:
                counters["l3_mandatory_problem"] += 1
                self._reply(msg, ReleaseComplete, [self._cause(*incoming.problem)])
                return
            call = self._incoming_setup(msg, incoming)
            if call is not None and incoming.report and call.state != S.NULL:
                self._send_status(call, *incoming.report)
            return
        counters["l3_unknown_callref"] += 1
        if mt == MT_RELEASE_COMPLETE:
            return                                  # b)
        if mt == MT_STATUS:                         # g) and 5.8.11
            rec = self._first(msg, CallStateIE)
            if rec is not None and not rec.malformed and rec.call_state != 0:
                self._reply(msg, ReleaseComplete, [self._cause(WRONG_STATE)])
            return
        if mt == MT_STATUS_ENQUIRY:                 # h) / 5.8.10
            self._reply(msg, Status, [self._cause(RESPONSE_TO_STATUS_ENQUIRY), ie(CallStateIE, call_state=0)])
            return
        # a) and c): anything else, RELEASE included.
        self._reply(msg, ReleaseComplete, [self._cause(INVALID_CALL_REFERENCE)])

    # -- information element checks (5.8.5 - 5.8.7) -------------------------------------

    def _check_ies(self, msg: Record) -> Incoming:
        """Sort the message's elements into usable ones, a problem and a report."""
        counters = self.counters
        mandatory = msg.cls.mandatory
        if not self.network_side:
            mandatory = mandatory + msg.cls.mandatory_from_network
        found: dict[type, Record] = {}
        unrecognized: list[int] = []
        bad_optional: list[int] = []
        problem: tuple[int, bytes] | None = None
        last = -1
        codesets = None     # a CodesetTracker from the first Shift on (most messages have none)
        for rec in msg.values["ies"]:
            cls = rec.cls
            if cls is Shift:
                if codesets is None:
                    codesets = CodesetTracker()
                codesets.passed(True, rec.non_locking, rec.codeset)
                continue
            codeset = 0
            if codesets is not None:
                codeset = codesets.current
                codesets.passed(False)
            if cls in _SINGLE_OCTET:
                if cls is UnknownSingleOctetIE:
                    counters["l3_ie_unrecognized"] += 1
                    unrecognized.append(rec.values["id"])
                else:
                    found.setdefault(cls, rec)
                continue
            if codeset != 0:
                continue                            # national elements: not ours to judge
            ident = rec.values["id"]
            if ident < last:
                counters["l3_ie_out_of_sequence"] += 1   # 5.8.5.1: treat as unrecognized
                unrecognized.append(ident)
                continue
            if ident == last:
                counters["l3_ie_duplicated"] += 1        # 5.8.5.2: first one counts
                continue
            last = ident
            if cls is UnknownIE:
                counters["l3_ie_unrecognized"] += 1
                if ident & 0xF0 == 0:               # comprehension required (4.5.1)
                    problem = problem or (MANDATORY_IE_MISSING, bytes([ident]))
                else:
                    unrecognized.append(ident)
                continue
            if rec.malformed or not _contents_ok(rec):
                counters["l3_ie_content_error"] += 1
                if cls in mandatory:
                    problem = problem or (INVALID_IE_CONTENTS, bytes([ident]))
                else:
                    bad_optional.append(ident)
                continue
            found[cls] = rec
        if problem is None:
            for cls in mandatory:
                if cls not in found:
                    counters["l3_mandatory_missing"] += 1
                    problem = (MANDATORY_IE_MISSING, bytes([_ident(cls)]))
                    break
        report = None
        if bad_optional:
            report = (INVALID_IE_CONTENTS, bytes(bad_optional[:8]))
        elif unrecognized:
            report = (IE_NONEXISTENT, bytes(unrecognized[:8]))
        if DisplayWithType in found:
            found.setdefault(Display, found[DisplayWithType])
        return Incoming(msg, found, problem, report)

    def _mandatory_problem(self, call: Call, incoming: Incoming) -> None:
        """5.8.6: what a missing or bad mandatory element means, by message."""
        cause, diagnostic = incoming.problem
        mt = incoming.message_type
        self.counters["l3_mandatory_problem"] += 1
        if mt == MT_DISCONNECT:
            call.cause = cause
            self._release(call, cause)
        elif mt == MT_RELEASE:
            self._stop_timer(call)
            self._send(call, ReleaseComplete, [self._cause(cause, diagnostic)])
            self._finish(call, cause)
        elif mt == MT_RELEASE_COMPLETE:
            self._stop_timer(call)
            self._finish(call, call.cause or NORMAL_UNSPECIFIED)
        elif mt in (MT_STATUS, MT_RESTART, MT_RESTART_ACKNOWLEDGE):
            pass                                    # never answer a bad STATUS with STATUS
        else:
            self._send_status(call, cause, diagnostic)

    # -- global call reference (5.5 restart, 5.8.3.2 f) ----------------------------------

    def _global(self, msg: Record) -> None:
        mt = msg.message_type
        if mt == MT_RESTART:
            self._on_restart(msg)
        elif mt == MT_RESTART_ACKNOWLEDGE:
            self._on_restart_acknowledge(msg)
        elif mt == MT_STATUS:
            self.counters["l3_global_status"] += 1
        else:
            self.counters["l3_bad_callref"] += 1
            state = REST_REQUEST if self._restarts else REST_NULL
            self._reply(msg, Status, [self._cause(INVALID_CALL_REFERENCE), ie(CallStateIE, call_state=state)])

    def _restart_channels(self, msg: Record) -> tuple[tuple[int, ...] | None, tuple[int, bytes] | None]:
        """Channels a RESTART (ACKNOWLEDGE) names, () for the whole interface; or the problem."""
        incoming = self._check_ies(msg)
        if incoming.problem is not None:
            return None, incoming.problem
        indicator = incoming.get(RestartIndicator)
        if indicator.restart_class in (6, 7):
            return (), None
        chan = incoming.get(ChannelIdentification)
        if indicator.restart_class != 0 or chan is None or chan.channel is None:
            return None, (MANDATORY_IE_MISSING if chan is None else INVALID_IE_CONTENTS,
                          bytes([_ident(ChannelIdentification)]))
        return (chan.channel,), None

    def _on_restart(self, msg: Record) -> None:
        self.counters["l3_restart_in"] += 1
        channels, problem = self._restart_channels(msg)
        if channels is None:
            self.counters["l3_mandatory_problem"] += 1
            self._reply(msg, Status, [self._cause(*problem), ie(CallStateIE, call_state=REST_NULL)])
            return
        if channels and not self.channels.exists(channels[0]):
            self._reply(msg, Status, [self._cause(CHANNEL_DOES_NOT_EXIST), ie(CallStateIE, call_state=REST_NULL)])
            return
        affected = self._clear_channels(channels)
        self.channels.return_to_service(affected)
        self._reply(msg, RestartAcknowledge, self._restart_ies(channels))
        self.emit(CallEvent("restart", channels=channels))

    def _on_restart_acknowledge(self, msg: Record) -> None:
        channels, _ = self._restart_channels(msg)
        pending = self._restarts.pop(channels, None) if channels is not None else None
        if pending is None:
            self.counters["l3_unexpected_message"] += 1
            return
        pending[0].cancel()
        self.channels.return_to_service(channels or self.channels.channels)
        self.emit(CallEvent("restart_acknowledge", channels=channels))

    def restart(self, channel: int | None = None) -> None:
        """Send RESTART for one B-channel or (None) the whole interface (5.5.1).

        Calls on the channels are cleared at once; the channels stay out of service
        until RESTART ACKNOWLEDGE (T316 repeats the RESTART twice)."""
        if channel is not None and not self.channels.exists(channel):
            raise ValueError(f"channel {channel} does not exist on a {self.channels.span_type} span")
        channels = () if channel is None else (channel,)
        self.channels.take_out_of_service(self._clear_channels(channels))
        pending = self._restarts.get(channels)
        if pending is None:
            timer = Timer(self.clock, self.timers.t316, lambda: self._t316_expired(channels), "T316")
            pending = self._restarts[channels] = [timer, 0]
        pending[1] += 1
        pending[0].start()
        self._send_restart(channels)

    def _clear_channels(self, channels: tuple[int, ...]) -> tuple[int, ...]:
        """Clear the calls on ``channels`` (() for all) for a RESTART; the channels."""
        affected = channels or self.channels.channels
        for call in list(self.calls.values()):
            if call.channel in affected:
                self._clear_internally(call, TEMPORARY_FAILURE)
        return affected

    def _restart_ies(self, channels: tuple[int, ...]) -> list[IESpec]:
        """Restart indicator (and the channel) of a RESTART or RESTART ACKNOWLEDGE."""
        ies = [ie(RestartIndicator, restart_class=0 if channels else 7)]
        if channels:
            ies.append(self._channel_ie(channels[0], exclusive=True))
        return ies

    def _send_restart(self, channels: tuple[int, ...]) -> None:
        self._transmit(encode_message(Restart, 0, 0, self._sorted(self._restart_ies(channels))))

    def _t316_expired(self, channels: tuple[int, ...]) -> None:
        pending = self._restarts.get(channels)
        if pending is None:
            return
        if pending[1] >= 3:
            log.warning("event=restart_unacknowledged channels=%s", channels or "all")
            del self._restarts[channels]
            self.channels.return_to_service(channels or self.channels.channels)
            return
        pending[1] += 1
        pending[0].start()
        self._send_restart(channels)

    # ==== the call API (both sides) =====================================================

    def place_call(self, called: str, calling: str = "", channel: int | None = None,
                   exclusive: bool | None = None, calling_presentation: int = 0,
                   display: str = "", sending_complete: bool = True,
                   bearer_capability: int = 0x00) -> Call:
        """Send SETUP.  ``channel`` None picks a free one.  The network side always
        offers its channel exclusively; the user side prefers one unless told otherwise."""
        if exclusive is None:
            exclusive = self.network_side
        chosen = self.channels.pick(channel) if channel is None or not exclusive else channel
        if chosen is None or (exclusive and not self.channels.is_free(chosen)):
            raise CallStateError(f"no free B-channel (asked for {channel})")
        call = Call(self._new_callref(), outgoing=True, network_side=self.network_side,
                    channel=chosen, exclusive=exclusive, called=called, calling=calling,
                    calling_presentation=calling_presentation, display=display,
                    sending_complete=sending_complete, bearer_capability=bearer_capability)
        self.channels.seize(chosen, call)
        self.calls[(call.callref, True)] = call
        self._enter(call, self.S_OUT_SETUP)
        self._send_setup(call)
        self._start_timer(call, "T303")
        return call

    def _send_setup(self, call: Call) -> None:
        variant = self.variant
        ies = [ie(BearerCapability, transfer_capability=call.bearer_capability, layer1_protocol=variant.layer1),
               self._channel_ie(call.channel, call.exclusive)]
        if call.sending_complete and variant.sending_complete:
            ies.append(ie(SendingComplete))
        if call.display:
            ies.append(variant.display(call.display))
        if call.calling:
            ies.append(ie(CallingPartyNumber, type_of_number=variant.type_of_number(call.calling),
                          presentation=call.calling_presentation or 0,
                          screening=3 if self.network_side else 0,
                          digits=call.calling.encode("ascii", "replace")))
        if call.called:
            ies.append(ie(CalledPartyNumber, type_of_number=variant.type_of_number(call.called),
                          digits=call.called.encode("ascii", "replace")))
        self._send(call, Setup, ies)

    def proceed(self, call: Call) -> None:
        """CALL PROCEEDING: the incoming call is accepted, the number is complete."""
        self._require(call, (self.S_IN_SETUP, self.S_IN_OVERLAP), "proceed")
        self._enter(call, self.S_IN_PROCEEDING)
        self._send(call, CallProceeding, [self._channel_ie(call.channel, True)])

    def setup_acknowledge(self, call: Call) -> None:
        """SETUP ACKNOWLEDGE: ask for more digits (overlap)."""
        self._require(call, (self.S_IN_SETUP,), "setup_acknowledge")
        self._enter(call, self.S_IN_OVERLAP)
        self._send(call, SetupAcknowledge, [self._channel_ie(call.channel, True)])

    def alert(self, call: Call) -> None:
        """ALERTING: the called side is ringing."""
        self._require(call, (self.S_IN_SETUP, self.S_IN_OVERLAP, self.S_IN_PROCEEDING), "alert")
        self._enter(call, self.S_IN_ALERTING)
        self._send(call, Alerting, [self._channel_ie(call.channel, True)])

    def progress(self, call: Call, description: int = 8) -> None:
        """PROGRESS with a progress indicator (8: in-band information available)."""
        if call.state in (S.NULL, S.RELEASE_REQUEST) or call.state in _CLEARING:
            raise CallStateError(f"progress: call in state {call.state_name}")
        self._send(call, Progress, [ie(ProgressIndicator, location=self.CAUSE_LOCATION, description=description)])

    def answer(self, call: Call) -> None:
        """CONNECT: the incoming call is answered."""
        self._require(call, (self.S_IN_SETUP, self.S_IN_OVERLAP, self.S_IN_PROCEEDING, self.S_IN_ALERTING), "answer")
        self._answer(call)

    def send_information(self, call: Call, digits: str, complete: bool = False) -> None:
        """INFORMATION with more called digits (overlap sending) or keypad digits."""
        if call.state in (S.NULL, S.RELEASE_REQUEST):
            raise CallStateError(f"information: call in state {call.state_name}")
        ies = [ie(CalledPartyNumber, digits=digits.encode("ascii", "replace"))]
        if complete and self.variant.sending_complete:
            ies.append(ie(SendingComplete))
        self._send(call, Information, ies)

    def facility(self, call: Call, data: bytes) -> None:
        """FACILITY carrying ``data`` as the Facility element's contents (Q.932)."""
        if call.state == S.NULL:
            raise CallStateError("facility: call is released")
        self._send(call, Facility_, [ie(Facility, data=bytes(data))])

    def disconnect(self, call: Call, cause: int = NORMAL_CLEARING) -> None:
        """Hang up, whatever the state: reject an offered call, disconnect, or release."""
        state = call.state
        if state == S.NULL or state == S.RELEASE_REQUEST or state == self.S_WE_DISCONNECT:
            return
        if state == self.S_IN_SETUP:
            self._stop_timer(call)
            self._send(call, ReleaseComplete, [self._cause(cause)])
            call.cause = cause
            self._finish(call, cause)
        elif state == self.S_THEY_DISCONNECT:
            self._release(call, call.cause or cause)
        else:
            self._disconnect(call, cause)

    def release(self, call: Call, cause: int | None = None) -> None:
        """RELEASE (after the far end's DISCONNECT, e.g. once in-band tones are heard)."""
        if call.state in (S.NULL, S.RELEASE_REQUEST):
            return
        self._release(call, cause or call.cause or NORMAL_CLEARING)

    def status_enquiry(self, call: Call) -> None:
        """STATUS ENQUIRY (5.8.10): ask the far end for its state, under T322."""
        if call.state == S.NULL:
            return
        if call.t322 is None:
            call.t322 = Timer(self.clock, self.timers.t322, lambda c=call: self._t322_expired(c), "T322")
        if not call.t322.running:
            call.enquiries = 1
            call.t322.start()
            self._send(call, StatusEnquiry, [])

    def _t322_expired(self, call: Call) -> None:
        if call.state == S.NULL:
            return
        if call.enquiries < 2:
            call.enquiries += 1
            call.t322.start()
            self._send(call, StatusEnquiry, [])
        else:
            self._disconnect(call, TEMPORARY_FAILURE)

    # ==== handlers shared by both sides =================================================

    def _incoming_setup(self, msg: Record, incoming: Incoming) -> Call | None:
        """A SETUP for a new call reference: pick the B-channel, then offer the call."""
        bearer = incoming.get(BearerCapability)
        if bearer.transfer_capability not in _SPEECH_CAPABILITIES:
            self.counters["l3_setup_rejected"] += 1
            self._reply(msg, ReleaseComplete, [self._cause(BEARER_NOT_IMPLEMENTED)])
            return
        chan = incoming.get(ChannelIdentification)
        channel, exclusive = None, False
        if chan is not None and chan.channel_selection == 1 and chan.channel is not None:
            channel, exclusive = chan.channel, bool(chan.exclusive)
        if channel is not None and not self.channels.exists(channel):
            self.counters["l3_setup_rejected"] += 1
            self._reply(msg, ReleaseComplete, [self._cause(CHANNEL_DOES_NOT_EXIST)])
            return
        loser = None
        if channel is not None and not self.channels.is_free(channel):
            loser = self._glare_loser(channel, exclusive)
            if loser is None:
                if exclusive:
                    self.counters["l3_setup_rejected"] += 1
                    self._reply(msg, ReleaseComplete, [self._cause(CHANNEL_UNAVAILABLE)])
                    return
                channel = None
        if channel is None:
            channel = self.channels.pick()
            if channel is None:
                self.counters["l3_setup_rejected"] += 1
                self._reply(msg, ReleaseComplete, [self._cause(NO_CHANNEL)])
                return
        call = Call(msg.callref, outgoing=False, network_side=self.network_side, channel=channel,
                    exclusive=exclusive, callref_len=msg.callref_len)
        called = incoming.get(CalledPartyNumber)
        calling = incoming.get(CallingPartyNumber)
        call.called = _digits(called)
        if calling is not None:
            call.calling = _digits(calling)
            call.calling_type = calling.type_of_number
            call.calling_plan = calling.numbering_plan
            call.calling_presentation = calling.presentation
            call.calling_screening = calling.screening
        display = incoming.get(Display)
        if display is not None:
            call.display = display.text.decode("latin-1")
        call.sending_complete = SendingComplete in incoming.ies
        call.bearer_capability = bearer.transfer_capability
        if loser is not None:
            # Glare: the network's SETUP wins the channel (5.2.3 / 5.1.2); our own
            # outgoing call waits for the channel the network gives it.
            self.counters["l3_glare"] += 1
            loser.channel = None
        self.channels.seize(channel, call)
        self.calls[(call.callref, False)] = call
        self._enter(call, self.S_IN_SETUP)
        self.emit(CallEvent("setup", call))
        return call

    def _glare_loser(self, channel: int, exclusive: bool) -> Call | None:
        """Our own unconfirmed outgoing call holding ``channel`` that must give it up."""
        return None

    def _outgoing_progressed(self, call: Call, incoming: Incoming, state: CallState, kind: str,
                             timer: str | None = None) -> None:
        """A response to our SETUP: take the channel it names, enter ``state``, maybe
        start ``timer``, and report ``kind``."""
        self._stop_timer(call)
        if not self._take_channel(call, incoming):
            return
        self._enter(call, state)
        if timer is not None:
            self._start_timer(call, timer)
        self.emit(CallEvent(kind, call))

    def _on_setup_acknowledge(self, call: Call, incoming: Incoming) -> None:
        self._outgoing_progressed(call, incoming, self.S_OUT_OVERLAP, "setup_acknowledge")

    def _on_call_proceeding(self, call: Call, incoming: Incoming) -> None:
        self._outgoing_progressed(call, incoming, self.S_OUT_PROCEEDING, "proceeding", "T310")

    def _on_alerting(self, call: Call, incoming: Incoming) -> None:
        self._outgoing_progressed(call, incoming, self.S_OUT_ALERTING, "alerting", "T301")

    def _on_connect(self, call: Call, incoming: Incoming) -> None:
        self._stop_timer(call)
        if not self._take_channel(call, incoming):
            return
        self._send(call, ConnectAcknowledge, [])
        self._enter(call, S.ACTIVE)
        self.emit(CallEvent("active", call))

    def _on_connect_acknowledge(self, call: Call, incoming: Incoming) -> None:
        if call.state == S.CONNECT_REQUEST:
            self._stop_timer(call)
            self._enter(call, S.ACTIVE)
            self.emit(CallEvent("active", call))

    def _on_progress(self, call: Call, incoming: Incoming) -> None:
        if call.timer_name == "T310":
            self._stop_timer(call)
        rec = incoming.get(ProgressIndicator)
        self.emit(CallEvent("progress", call, progress=rec.description if rec is not None else None))

    def _on_information(self, call: Call, incoming: Incoming) -> None:
        called = incoming.get(CalledPartyNumber)
        digits = _digits(called)
        keypad = incoming.get(KeypadFacility)
        if keypad is not None:
            digits += keypad.keypad.decode("ascii", "replace")
        if called is not None and call.state in (S.OVERLAP_SENDING, S.OVERLAP_RECEIVING):
            call.called += _digits(called)
        if SendingComplete in incoming.ies:
            call.sending_complete = True
        self.emit(CallEvent("information", call, digits=digits))

    def _on_disconnect(self, call: Call, incoming: Incoming) -> None:
        cause = incoming.cause
        if call.state == S.RELEASE_REQUEST or call.state == self.S_THEY_DISCONNECT:
            return                                   # a late or repeated DISCONNECT
        self._stop_timer(call)
        call.cause = cause
        if call.state == self.S_WE_DISCONNECT:       # clear collision (5.3.5)
            self._release(call, cause)
            return
        call.inband = incoming.inband
        self._enter(call, self.S_THEY_DISCONNECT)
        self.emit(CallEvent("disconnect", call, cause=cause))
        if call.state == self.S_THEY_DISCONNECT and self._release_on_disconnect(call):
            self._release(call, cause)

    def _release_on_disconnect(self, call: Call) -> bool:
        return True

    def _on_release(self, call: Call, incoming: Incoming) -> None:
        self._stop_timer(call)
        cause = incoming.cause or call.cause or NORMAL_CLEARING
        if call.state != S.RELEASE_REQUEST:          # a RELEASE collision sends nothing
            self._send(call, ReleaseComplete, [])
        self._finish(call, call.cause or cause)

    def _on_release_complete(self, call: Call, incoming: Incoming) -> None:
        self._stop_timer(call)
        self._finish(call, call.cause or incoming.cause or NORMAL_CLEARING)

    def _on_status(self, call: Call, incoming: Incoming) -> None:
        """5.8.11: compare the far end's state with ours."""
        if call.t322 is not None:
            call.t322.stop()
        peer = incoming.get(CallStateIE).call_state
        cause = incoming.cause
        self.emit(CallEvent("status", call, cause=cause, state=peer))
        if call.state == S.NULL:
            return
        if peer == 0:
            self._clear_internally(call, cause if cause not in (None, RESPONSE_TO_STATUS_ENQUIRY) else TEMPORARY_FAILURE)
        elif call.state != S.RELEASE_REQUEST and not _compatible(int(call.state), peer):
            self.counters["l3_incompatible_state"] += 1
            call.cause = WRONG_STATE
            self._release(call, WRONG_STATE)

    def _on_status_enquiry(self, call: Call, incoming: Incoming) -> None:
        self._send_status(call, RESPONSE_TO_STATUS_ENQUIRY)

    def _on_facility(self, call: Call, incoming: Incoming) -> None:
        rec = incoming.get(Facility)
        self.emit(CallEvent("facility", call, data=rec.data if rec is not None else b""))

    def _on_notify(self, call: Call, incoming: Incoming) -> None:
        self.counters["l3_notify"] += 1

    _HANDLERS: dict[int, Callable] = {
        MT_SETUP_ACKNOWLEDGE: _on_setup_acknowledge, MT_CALL_PROCEEDING: _on_call_proceeding,
        MT_ALERTING: _on_alerting, MT_CONNECT: _on_connect,
        MT_CONNECT_ACKNOWLEDGE: _on_connect_acknowledge, MT_PROGRESS: _on_progress,
        MT_INFORMATION: _on_information, MT_DISCONNECT: _on_disconnect, MT_RELEASE: _on_release,
        MT_RELEASE_COMPLETE: _on_release_complete, MT_STATUS: _on_status,
        MT_STATUS_ENQUIRY: _on_status_enquiry, MT_FACILITY: _on_facility, MT_NOTIFY: _on_notify,
    }

    # ==== procedures ====================================================================

    def _take_channel(self, call: Call, incoming: Incoming) -> bool:
        """5.1.2 / 5.2.3: accept the B-channel a response to our SETUP names."""
        rec = incoming.get(ChannelIdentification)
        if rec is None or rec.channel_selection != 1 or rec.channel is None:
            return True
        channel = rec.channel
        if channel == call.channel:
            return True
        owner = self.channels.owner(channel)
        if (call.exclusive and call.channel is not None) or not self.channels.exists(channel) \
                or (owner is not None and owner is not call) or not self.channels.is_free(channel):
            self.counters["l3_channel_unacceptable"] += 1
            self._disconnect(call, CHANNEL_UNACCEPTABLE)
            return False
        self.channels.free(call.channel, call)
        call.channel = channel
        self.channels.seize(channel, call)
        return True

    def _answer(self, call: Call) -> None:
        raise NotImplementedError

    def _disconnect(self, call: Call, cause: int) -> None:
        self._stop_timer(call)
        call.cause = cause
        self._enter(call, self.S_WE_DISCONNECT)
        self._send(call, Disconnect, [self._cause(cause)])
        self._start_timer(call, "T305")

    def _release(self, call: Call, cause: int) -> None:
        self._stop_timer(call)
        if call.cause is None:
            call.cause = cause
        self._enter(call, S.RELEASE_REQUEST)
        call.retries = 0
        self._send(call, Release, [self._cause(cause)])
        self._start_timer(call, "T308")

    def _clear_internally(self, call: Call, cause: int) -> None:
        """Release the call reference and channel without a message (the link is gone,
        the channel was restarted, or the far end says the call does not exist)."""
        self._stop_timer(call)
        if call.cause is None:
            call.cause = cause
        self._finish(call, cause)

    def _finish(self, call: Call, cause: int) -> None:
        """Enter the Null state: free everything, then tell the layer above (last)."""
        for timer in (call.timer, call.t309, call.t322):
            if timer is not None:
                timer.cancel()
        # the timers' callbacks hold the call: let it go when its last user does, not at
        # the collector's next pass over a cycle
        call.timer = call.t309 = call.t322 = None
        self.channels.free(call.channel, call)
        self.calls.pop((call.callref, call.outgoing), None)
        self._enter(call, S.NULL)
        self.emit(CallEvent("released", call, cause=cause))

    def _state_timer_expired(self, call: Call) -> None:
        name = call.timer_name
        call.timer_name = ""
        log.info("event=timer_expired timer=%s callref=%d state=%s", name, call.callref, call.state_name)
        self.counters[f"l3_{name.lower()}_expired"] += 1
        if name == "T303":
            if call.retries == 0:
                call.retries = 1
                self._send_setup(call)
                self._start_timer(call, "T303")
            else:
                self._send(call, ReleaseComplete, [self._cause(TIMER_EXPIRY)])
                call.cause = NO_USER_RESPONDING if self.network_side else TIMER_EXPIRY
                self._finish(call, call.cause)
        elif name == "T308":
            if call.retries == 0:
                call.retries = 1
                self._send(call, Release, [self._cause(call.cause or TIMER_EXPIRY)])
                self._start_timer(call, "T308")
            else:
                # 5.3.4.2: the channel goes to maintenance; RESTART brings it back.
                channel = call.channel
                self._finish(call, call.cause or TIMER_EXPIRY)
                if channel is not None and self.channels.is_free(channel):
                    self.restart(channel)
        elif name == "T305":
            self._release(call, call.cause or NORMAL_CLEARING)
        elif name in ("T301", "T310", "T313"):
            cause = TIMER_EXPIRY
            self._disconnect(call, cause)
            if self.network_side:
                call.cause = NO_ANSWER if name == "T301" else NO_USER_RESPONDING

    def _start_timer(self, call: Call, name: str) -> None:
        if call.timer is None:
            call.timer = Timer(self.clock, 0.0, lambda c=call: self._state_timer_expired(c))
        call.timer_name = name
        call.timer.name = name
        call.timer.start(getattr(self.timers, name.lower()))

    def _stop_timer(self, call: Call) -> None:
        if call.timer is not None and call.timer_name:
            call.timer.stop()
            call.timer_name = ""

    def _enter(self, call: Call, state: CallState) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("event=call_state callref=%d from=%s to=%s%d", call.callref, call.state_name,
                      "N" if self.network_side else "U", int(state))
        call.state = state

    def _require(self, call: Call, states: Iterable[CallState], what: str) -> None:
        if call.state not in states:
            raise CallStateError(f"{what}: call {call.callref} is in state {call.state_name}")

    def _new_callref(self) -> int:
        limit = 0x7FFF
        for _ in range(limit):
            callref = self._next_callref
            self._next_callref = callref % limit + 1
            if (callref, True) not in self.calls:
                return callref
        raise CallStateError("no free call reference")

    # ==== messages out ==================================================================

    def _cause(self, value: int, diagnostic: bytes = b"") -> IESpec:
        return ie(Cause, location=self.CAUSE_LOCATION, cause_value=value, diagnostics=diagnostic)

    def _channel_ie(self, channel: int | None, exclusive: bool) -> IESpec:
        if channel is None:
            return ie(ChannelIdentification, exclusive=0, channel_selection=3)
        return ie(ChannelIdentification, exclusive=int(exclusive), channel=channel)

    @staticmethod
    def _sorted(ies: list[IESpec]) -> list[IESpec]:
        return sorted(ies, key=_order) if len(ies) > 1 else ies

    def _send(self, call: Call, cls: type[Q931], ies: list[IESpec]) -> None:
        self._transmit(encode_message(cls, call.callref, call.flag, self._sorted(ies), call.callref_len))

    def _send_status(self, call: Call, cause: int, diagnostic: bytes = b"") -> None:
        self.counters["l3_status_sent"] += 1
        self._send(call, Status, [self._cause(cause, diagnostic), ie(CallStateIE, call_state=int(call.state))])

    def _reply(self, msg: Record, cls: type[Q931], ies: list[IESpec]) -> None:
        """Answer a message that belongs to no call, on its call reference."""
        self._transmit(encode_message(cls, msg.callref, 1 - msg.callref_flag, self._sorted(ies), msg.callref_len))

    def _transmit(self, info: bytes) -> None:
        self.counters["l3_messages_out"] += 1
        if self.link is not None:
            self.link.send(info)

    @staticmethod
    def _first(msg: Record, cls: type) -> Record | None:
        for rec in msg.ies:
            if rec.cls is cls:
                return rec
        return None


def _ident(cls: type[InformationElement]) -> int:
    return next(f.default for f in cls.fields_desc if f.name == "id")


def _contents_ok(rec: Record) -> bool:
    """Checks beyond the figure's shape: digits must be IA5, a PRI channel a PRI one."""
    cls = rec.cls
    if cls is CalledPartyNumber or cls is CallingPartyNumber:
        return all(b < 0x80 for b in rec.digits)
    if cls is ChannelIdentification:
        return rec.interface_type == 1
    if cls is CallStateIE:
        return rec.call_state in _VALID_CALL_STATES
    return True


_VALID_CALL_STATES = frozenset(int(s) for s in CallState)
_SINGLE_OCTET = frozenset(c for c in vars(q931).values()
                          if isinstance(c, type) and issubclass(c, SingleOctetIE))


def _compatible(ours: int, peer: int) -> bool:
    """5.8.11: could the far end's reported state belong to the same call as ours?

    The two sides number a call's states alike, so they agree except while a message
    is in flight.  States are grouped as outgoing-establishing (1-4), incoming-
    establishing (6-9, 25), active (10) and clearing; a clearing state is compatible
    with anything (clearing completes it), an establishing state with its own group
    and with active.  The mismatch is the two establishing groups against each other:
    one side thinks it placed the call, the other that it did.
    """
    if ours == peer or ours in _CLEARING or peer in _CLEARING:
        return True
    groups = (_OUT_ESTABLISHING, _IN_ESTABLISHING)
    for group in groups:
        if ours in group and peer in group:
            return True
    if ours == 10 or peer == 10:
        return True
    return False
