"""Q.931 messages and information elements as scapy layers.

The message header (ITU-T Q.931 4.1-4.4) is :class:`Q931`; ``Q931(raw)`` returns the
subclass for the message type (:class:`Setup`, :class:`Connect`, ...) through
:meth:`Q931.dispatch_hook`.  The information elements (4.5) follow as a list, one
class per element, each transcribed from its figure in 4.5; an element's class is
picked from its identifier by :meth:`InformationElement.dispatch_hook`, and elements
after a shift to another codeset are kept as :class:`UnknownIE`.

An element never reads past its own length octet: a truncated or inconsistent element
is kept with ``malformed`` set, so one bad element does not swallow the next.  The
call-control code decides what such an element means (Q.931 5.8.5-5.8.7).
"""
from __future__ import annotations

from scapy.fields import (
    BitEnumField, BitField, ByteEnumField, ByteField, ConditionalField, MultipleTypeField,
    PacketListField, StrField, StrLenField, XByteField,
)
from scapy.packet import Packet, bind_layers

from appliance.isdn.q921 import UI, LAPDInformation

__all__ = [
    "PD_Q931", "MESSAGE_TYPES", "IE_NAMES", "CAUSES", "CALL_STATES", "LOCATIONS",
    "InformationElement", "SingleOctetIE", "UnknownIE", "UnknownSingleOctetIE",
    "Shift", "MoreData", "SendingComplete", "CongestionLevel", "RepeatIndicator",
    "BearerCapability", "Cause", "CallState", "ChannelIdentification", "Facility",
    "ProgressIndicator", "NotificationIndicator", "Display", "DisplayWithType", "DateTime",
    "KeypadFacility", "Signal", "CallingPartyNumber", "CalledPartyNumber",
    "RedirectingNumber", "RestartIndicator", "UserUser", "CallIdentity",
    "NetworkSpecificFacilities", "ConnectedNumber", "ConnectedSubaddress", "CallingPartySubaddress",
    "CalledPartySubaddress", "TransitNetworkSelection", "LowLayerCompatibility", "HighLayerCompatibility",
    "Q931", "MESSAGES", "ie_class", "CodesetTracker",
    "Alerting", "CallProceeding", "Connect", "ConnectAcknowledge", "Progress", "Setup",
    "SetupAcknowledge", "Disconnect", "Release", "ReleaseComplete", "Restart",
    "RestartAcknowledge", "Status", "StatusEnquiry", "Information", "Facility_", "Notify",
]

PD_Q931 = 0x08   # protocol discriminator of Q.931 user-network call control messages

MESSAGE_TYPES = {
    # call establishment
    0x01: "ALERTING", 0x02: "CALL PROCEEDING", 0x03: "PROGRESS", 0x05: "SETUP",
    0x07: "CONNECT", 0x0D: "SETUP ACKNOWLEDGE", 0x0F: "CONNECT ACKNOWLEDGE",
    # call information phase
    0x20: "USER INFORMATION", 0x21: "SUSPEND REJECT", 0x22: "RESUME REJECT",
    0x25: "SUSPEND", 0x26: "RESUME", 0x2D: "SUSPEND ACKNOWLEDGE", 0x2E: "RESUME ACKNOWLEDGE",
    # call clearing
    0x45: "DISCONNECT", 0x46: "RESTART", 0x4D: "RELEASE", 0x4E: "RESTART ACKNOWLEDGE",
    0x5A: "RELEASE COMPLETE",
    # miscellaneous
    0x60: "SEGMENT", 0x62: "FACILITY", 0x6E: "NOTIFY", 0x75: "STATUS ENQUIRY",
    0x79: "CONGESTION CONTROL", 0x7B: "INFORMATION", 0x7D: "STATUS",
}

IE_NAMES = {
    0x00: "segmented message", 0x04: "bearer capability", 0x08: "cause",
    0x10: "call identity", 0x14: "call state", 0x18: "channel identification",
    0x1C: "facility", 0x1E: "progress indicator", 0x20: "network-specific facilities",
    0x27: "notification indicator", 0x28: "display", 0x29: "date/time",
    0x2C: "keypad facility", 0x34: "signal", 0x40: "information rate",
    0x42: "end-to-end transit delay", 0x6C: "calling party number",
    0x6D: "calling party subaddress", 0x70: "called party number",
    0x71: "called party subaddress", 0x74: "redirecting number",
    0x78: "transit network selection", 0x79: "restart indicator",
    0x7C: "low layer compatibility", 0x7D: "high layer compatibility", 0x7E: "user-user",
    0x7F: "escape for extension",
}

# Q.850 Table 1.
CAUSES = {
    1: "unallocated number", 2: "no route to specified transit network",
    3: "no route to destination", 4: "send special information tone",
    5: "misdialled trunk prefix", 6: "channel unacceptable",
    7: "call awarded and being delivered in an established channel", 8: "preemption",
    9: "preemption, circuit reserved for reuse", 16: "normal call clearing",
    17: "user busy", 18: "no user responding", 19: "no answer from user (user alerted)",
    20: "subscriber absent", 21: "call rejected", 22: "number changed",
    26: "non-selected user clearing", 27: "destination out of order",
    28: "invalid number format (address incomplete)", 29: "facility rejected",
    30: "response to STATUS ENQUIRY", 31: "normal, unspecified",
    34: "no circuit/channel available", 38: "network out of order",
    41: "temporary failure", 42: "switching equipment congestion",
    43: "access information discarded", 44: "requested circuit/channel not available",
    47: "resource unavailable, unspecified", 49: "quality of service not available",
    50: "requested facility not subscribed", 57: "bearer capability not authorized",
    58: "bearer capability not presently available",
    63: "service or option not available, unspecified",
    65: "bearer capability not implemented", 66: "channel type not implemented",
    69: "requested facility not implemented",
    70: "only restricted digital information bearer capability is available",
    79: "service or option not implemented, unspecified",
    81: "invalid call reference value", 82: "identified channel does not exist",
    88: "incompatible destination", 95: "invalid message, unspecified",
    96: "mandatory information element is missing",
    97: "message type non-existent or not implemented",
    98: "message not compatible with call state or message type non-existent or not implemented",
    99: "information element/parameter non-existent or not implemented",
    100: "invalid information element contents", 101: "message not compatible with call state",
    102: "recovery on timer expiry", 103: "parameter non-existent or not implemented, passed on",
    111: "protocol error, unspecified", 127: "interworking, unspecified",
}

# Q.931 4.5.7 (and the global call reference states REST 0..2).
CALL_STATES = {
    0: "null", 1: "call initiated", 2: "overlap sending", 3: "outgoing call proceeding",
    4: "call delivered", 6: "call present", 7: "call received", 8: "connect request",
    9: "incoming call proceeding", 10: "active", 11: "disconnect request",
    12: "disconnect indication", 15: "suspend request", 17: "resume request",
    19: "release request", 22: "call abort", 25: "overlap receiving",
    0x3D: "restart request", 0x3E: "restart",
}

CODING_STANDARDS = {0: "ITU-T", 1: "ISO/IEC", 2: "national", 3: "network specific"}

LOCATIONS = {
    0: "user", 1: "private network serving the local user",
    2: "public network serving the local user", 3: "transit network",
    4: "public network serving the remote user", 5: "private network serving the remote user",
    7: "international network", 10: "network beyond interworking point",
}

TRANSFER_CAPABILITIES = {
    0x00: "speech", 0x08: "unrestricted digital", 0x09: "restricted digital",
    0x10: "3.1 kHz audio", 0x11: "unrestricted digital with tones", 0x18: "video",
}
TRANSFER_RATES = {
    0x00: "packet mode", 0x10: "64 kbit/s", 0x11: "2x64 kbit/s", 0x13: "384 kbit/s",
    0x15: "1536 kbit/s", 0x17: "1920 kbit/s", 0x18: "multirate",
}
LAYER1_PROTOCOLS = {
    1: "V.110/X.30", 2: "G.711 mu-law", 3: "G.711 A-law", 4: "G.721 ADPCM",
    5: "H.221/H.242", 6: "H.223/H.245", 7: "non-ITU-T", 8: "V.120", 9: "X.31",
}
TYPES_OF_NUMBER = {
    0: "unknown", 1: "international", 2: "national", 3: "network specific",
    4: "subscriber", 6: "abbreviated", 7: "reserved",
}
NUMBERING_PLANS = {
    0: "unknown", 1: "ISDN/telephony (E.164)", 3: "data (X.121)", 4: "telex (F.69)",
    8: "national standard", 9: "private", 15: "reserved",
}
PRESENTATIONS = {0: "allowed", 1: "restricted", 2: "not available", 3: "reserved"}
SCREENINGS = {
    0: "user-provided, not screened", 1: "user-provided, verified and passed",
    2: "user-provided, verified and failed", 3: "network provided",
}
PROGRESS_DESCRIPTIONS = {
    1: "call is not end-to-end ISDN", 2: "destination address is non-ISDN",
    3: "origination address is non-ISDN", 4: "call has returned to the ISDN",
    5: "interworking has occurred", 8: "in-band information now available",
}
RESTART_CLASSES = {0: "indicated channels", 6: "single interface", 7: "all interfaces"}


# --- information elements -------------------------------------------------------------

class InformationElement(Packet):
    """Base of every element.  ``InformationElement(raw)`` picks the codeset 0 class.

    Variable-length elements start with identifier and length octets; ``len`` is
    filled in on build.  ``malformed`` is True when the contents did not fit the
    element's figure (truncated, or shorter than its mandatory octets).
    """

    name = "Q.931 information element"
    malformed = False
    fields_desc = [ByteEnumField("id", 0, IE_NAMES), ByteField("len", None), StrField("data", b"")]

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args, **kargs):
        if _pkt:
            return ie_class(_pkt)
        return cls

    def do_dissect(self, s: bytes) -> bytes:
        # Bound the element to its own octets so a bad element cannot eat the next one.
        size = 2 + s[1] if len(s) >= 2 else len(s)
        body, rest = s[:size], s[size:]
        if len(body) < size or len(body) < 2:
            self.malformed = True
        try:
            leftover = super().do_dissect(body)
        except Exception:  # a field ran past the element's end: keep what was read
            self.malformed = True
            leftover = b""
        if leftover:
            self.malformed = True
        return rest

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.len is None and len(pkt) >= 2:
            pkt = pkt[:1] + bytes([min(len(pkt) - 2, 255)]) + pkt[2:]
        return pkt + pay


def _ie_header(ident: int) -> list:
    return [ByteEnumField("id", ident, IE_NAMES), ByteField("len", None)]


class SingleOctetIE(InformationElement):
    """Base of the single-octet elements (Q.931 4.5.1: identifier bit 8 set)."""

    def do_dissect(self, s: bytes) -> bytes:
        return Packet.do_dissect(self, s)

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        return pkt + pay


class UnknownSingleOctetIE(SingleOctetIE):
    name = "Q.931 unknown single-octet IE"
    fields_desc = [XByteField("id", 0x80)]


class Shift(SingleOctetIE):
    """Codeset shift (4.5.3): locking, or for the next element only (non-locking)."""

    name = "Shift"
    fields_desc = [BitField("ident", 0x9, 4), BitField("non_locking", 0, 1), BitField("codeset", 0, 3)]


class MoreData(SingleOctetIE):
    name = "More data"
    fields_desc = [XByteField("id", 0xA0)]


class SendingComplete(SingleOctetIE):
    name = "Sending complete"
    fields_desc = [XByteField("id", 0xA1)]


class CongestionLevel(SingleOctetIE):
    name = "Congestion level"
    fields_desc = [BitField("ident", 0xB, 4), BitEnumField("level", 0, 4, {0: "receiver ready", 15: "receiver not ready"})]


class RepeatIndicator(SingleOctetIE):
    name = "Repeat indicator"
    fields_desc = [BitField("ident", 0xD, 4), BitField("indication", 2, 4)]


class UnknownIE(InformationElement):
    """An element this stack does not interpret (or one in another codeset)."""

    name = "Q.931 unknown IE"
    fields_desc = _ie_header(0x7F) + [StrField("data", b"")]


class BearerCapability(InformationElement):
    """4.5.5: octets 3, 4, 4.1 (multirate), 5 (layer 1); later octets kept as sent."""

    name = "Bearer capability"
    fields_desc = _ie_header(0x04) + [
        BitField("ext3", 1, 1),
        BitEnumField("coding_standard", 0, 2, CODING_STANDARDS),
        BitEnumField("transfer_capability", 0x00, 5, TRANSFER_CAPABILITIES),
        BitField("ext4", 1, 1),
        BitEnumField("transfer_mode", 0, 2, {0: "circuit", 2: "packet"}),
        BitEnumField("transfer_rate", 0x10, 5, TRANSFER_RATES),
        ConditionalField(BitField("ext4_1", 1, 1), lambda p: p.transfer_rate == 0x18),
        ConditionalField(BitField("rate_multiplier", 1, 7), lambda p: p.transfer_rate == 0x18),
        ConditionalField(BitField("ext5", 1, 1), lambda p: _has_octet5(p)),
        ConditionalField(BitField("layer1_ident", 1, 2), lambda p: _has_octet5(p)),
        ConditionalField(BitEnumField("layer1_protocol", 3, 5, LAYER1_PROTOCOLS), lambda p: _has_octet5(p)),
        StrField("more", b""),
    ]


def _has_octet5(p: BearerCapability) -> bool:
    # Octet 5 is optional; on receipt the length says whether it is there.
    return p.len is None or p.len > 2 + (p.transfer_rate == 0x18)


class Cause(InformationElement):
    """4.5.12 / Q.850 2.2: location, optional recommendation, cause value, diagnostics."""

    name = "Cause"
    fields_desc = _ie_header(0x08) + [
        BitField("ext3", 1, 1),
        BitEnumField("coding_standard", 0, 2, CODING_STANDARDS),
        BitField("spare", 0, 1),
        BitEnumField("location", 0, 4, LOCATIONS),
        ConditionalField(BitField("ext3a", 1, 1), lambda p: p.ext3 == 0),
        ConditionalField(BitField("recommendation", 0, 7), lambda p: p.ext3 == 0),
        BitField("ext4", 1, 1),
        BitEnumField("cause_value", 16, 7, CAUSES),
        StrField("diagnostics", b""),
    ]


class CallState(InformationElement):
    name = "Call state"
    fields_desc = _ie_header(0x14) + [
        BitEnumField("coding_standard", 0, 2, CODING_STANDARDS),
        BitEnumField("call_state", 0, 6, CALL_STATES),
        StrField("more", b""),
    ]


def _channel_indicated(p: "ChannelIdentification") -> bool:
    return p.interface_type == 1 and p.channel_selection == 1


class ChannelIdentification(InformationElement):
    """4.5.13 for a primary rate interface: exclusive/preferred and the B-channel number.

    Channel numbers are timeslots: 1-15 and 17-31 on E1, 1-23 on T1.  Further channel
    numbers or a slot map, if any, are kept in ``more``.
    """

    name = "Channel identification"
    fields_desc = _ie_header(0x18) + [
        BitField("ext3", 1, 1),
        BitField("interface_id_present", 0, 1),
        BitEnumField("interface_type", 1, 1, {0: "basic", 1: "primary"}),
        BitField("spare", 0, 1),
        BitEnumField("exclusive", 1, 1, {0: "preferred", 1: "exclusive"}),
        BitEnumField("d_channel", 0, 1, {0: "not the D-channel", 1: "the D-channel"}),
        BitEnumField("channel_selection", 1, 2, {0: "no channel", 1: "as indicated", 2: "reserved", 3: "any channel"}),
        ConditionalField(BitField("ext3_1", 1, 1), lambda p: p.interface_id_present == 1),
        ConditionalField(BitField("interface_id", 0, 7), lambda p: p.interface_id_present == 1),
        ConditionalField(BitField("ext3_2", 1, 1), _channel_indicated),
        ConditionalField(BitEnumField("channel_coding", 0, 2, CODING_STANDARDS), _channel_indicated),
        ConditionalField(BitEnumField("number_map", 0, 1, {0: "number", 1: "slot map"}), _channel_indicated),
        ConditionalField(BitEnumField("channel_type", 3, 4, {3: "B-channel units", 6: "H0", 8: "H11", 9: "H12"}), _channel_indicated),
        ConditionalField(BitField("ext3_3", 1, 1), lambda p: _channel_indicated(p) and p.number_map == 0),
        ConditionalField(BitField("channel", 1, 7), lambda p: _channel_indicated(p) and p.number_map == 0),
        StrField("more", b""),
    ]


class Facility(InformationElement):
    """Q.932 facility (supplementary service components), passed through as octets."""

    name = "Facility"
    fields_desc = _ie_header(0x1C) + [StrField("data", b"")]


class ProgressIndicator(InformationElement):
    name = "Progress indicator"
    fields_desc = _ie_header(0x1E) + [
        BitField("ext3", 1, 1),
        BitEnumField("coding_standard", 0, 2, CODING_STANDARDS),
        BitField("spare", 0, 1),
        BitEnumField("location", 0, 4, LOCATIONS),
        BitField("ext4", 1, 1),
        BitEnumField("description", 8, 7, PROGRESS_DESCRIPTIONS),
        StrField("more", b""),
    ]


class NotificationIndicator(InformationElement):
    name = "Notification indicator"
    fields_desc = _ie_header(0x27) + [
        BitField("ext3", 1, 1),
        BitEnumField("description", 0, 7, {0: "user suspended", 1: "user resumed", 2: "bearer service change"}),
        StrField("more", b""),
    ]


class Display(InformationElement):
    """4.5.16: IA5 text (ETSI and Q.931)."""

    name = "Display"
    fields_desc = _ie_header(0x28) + [StrField("text", b"")]


class DisplayWithType(InformationElement):
    """The North American display: one tag octet (bit 8 set, 0xB1) before the text.

    IA5 characters never have bit 8 set, so the first octet tells the two apart.
    """

    name = "Display (with type)"
    fields_desc = _ie_header(0x28) + [
        BitField("ext3", 1, 1),
        BitField("display_type", 0x31, 7),
        StrField("text", b""),
    ]


class DateTime(InformationElement):
    """4.5.15: year (last two digits), month, day, hour, minute, optional second."""

    name = "Date/time"
    fields_desc = _ie_header(0x29) + [
        ByteField("year", 26), ByteField("month", 1), ByteField("day", 1),
        ByteField("hour", 0), ByteField("minute", 0),
        ConditionalField(ByteField("second", 0), lambda p: p.len is None or p.len >= 6),
        StrField("more", b""),
    ]


class KeypadFacility(InformationElement):
    name = "Keypad facility"
    fields_desc = _ie_header(0x2C) + [StrField("keypad", b"")]


class Signal(InformationElement):
    name = "Signal"
    fields_desc = _ie_header(0x34) + [
        ByteEnumField("signal", 0, {0: "dial tone on", 1: "ring back tone on", 3: "network congestion tone on",
                                    4: "busy tone on", 0x3F: "tones off"}),
        StrField("more", b""),
    ]


class CallingPartyNumber(InformationElement):
    """4.5.10: type of number, numbering plan, optional presentation/screening, digits."""

    name = "Calling party number"
    fields_desc = _ie_header(0x6C) + [
        BitField("ext3", 0, 1),
        BitEnumField("type_of_number", 0, 3, TYPES_OF_NUMBER),
        BitEnumField("numbering_plan", 1, 4, NUMBERING_PLANS),
        ConditionalField(BitField("ext3a", 1, 1), lambda p: p.ext3 == 0),
        ConditionalField(BitEnumField("presentation", 0, 2, PRESENTATIONS), lambda p: p.ext3 == 0),
        ConditionalField(BitField("spare", 0, 3), lambda p: p.ext3 == 0),
        ConditionalField(BitEnumField("screening", 0, 2, SCREENINGS), lambda p: p.ext3 == 0),
        StrField("digits", b""),
    ]


class CalledPartyNumber(InformationElement):
    """4.5.8: type of number, numbering plan, digits (IA5)."""

    name = "Called party number"
    fields_desc = _ie_header(0x70) + [
        BitField("ext3", 1, 1),
        BitEnumField("type_of_number", 0, 3, TYPES_OF_NUMBER),
        BitEnumField("numbering_plan", 1, 4, NUMBERING_PLANS),
        StrField("digits", b""),
    ]


class RedirectingNumber(InformationElement):
    """Q.952: as the calling party number, plus an optional reason octet 3b."""

    name = "Redirecting number"
    fields_desc = _ie_header(0x74) + [
        BitField("ext3", 0, 1),
        BitEnumField("type_of_number", 0, 3, TYPES_OF_NUMBER),
        BitEnumField("numbering_plan", 1, 4, NUMBERING_PLANS),
        ConditionalField(BitField("ext3a", 1, 1), lambda p: p.ext3 == 0),
        ConditionalField(BitEnumField("presentation", 0, 2, PRESENTATIONS), lambda p: p.ext3 == 0),
        ConditionalField(BitField("spare", 0, 3), lambda p: p.ext3 == 0),
        ConditionalField(BitEnumField("screening", 0, 2, SCREENINGS), lambda p: p.ext3 == 0),
        ConditionalField(BitField("ext3b", 1, 1), lambda p: p.ext3 == 0 and p.ext3a == 0),
        ConditionalField(BitField("spare3b", 0, 3), lambda p: p.ext3 == 0 and p.ext3a == 0),
        ConditionalField(BitEnumField("reason", 0, 4, {0: "unknown", 1: "call forwarding busy", 2: "call forwarding no reply",
                                                        15: "call forwarding unconditional"}),
                         lambda p: p.ext3 == 0 and p.ext3a == 0),
        StrField("digits", b""),
    ]


class RestartIndicator(InformationElement):
    name = "Restart indicator"
    fields_desc = _ie_header(0x79) + [
        BitField("ext3", 1, 1),
        BitField("spare", 0, 4),
        BitEnumField("restart_class", 0, 3, RESTART_CLASSES),
        StrField("more", b""),
    ]


class UserUser(InformationElement):
    name = "User-user"
    fields_desc = _ie_header(0x7E) + [XByteField("protocol_discriminator", 0x04), StrField("data", b"")]


def _default(cls: type[Packet], name: str):
    """The default value of field ``name`` of a layer class."""
    return next(f.default for f in cls.fields_desc if f.name == name)


def _opaque(ident: int, title: str) -> type[InformationElement]:
    """A standard element qbox passes along without interpreting its contents."""
    return type(title.title().replace(" ", "").replace("-", ""), (InformationElement,), {
        "name": title[0].upper() + title[1:],
        "fields_desc": _ie_header(ident) + [StrField("data", b"")],
        "__module__": __name__,
    })


CallIdentity = _opaque(0x10, "call identity")
NetworkSpecificFacilities = _opaque(0x20, "network-specific facilities")
ConnectedNumber = _opaque(0x4C, "connected number")
ConnectedSubaddress = _opaque(0x4D, "connected subaddress")
CallingPartySubaddress = _opaque(0x6D, "calling party subaddress")
CalledPartySubaddress = _opaque(0x71, "called party subaddress")
TransitNetworkSelection = _opaque(0x78, "transit network selection")
LowLayerCompatibility = _opaque(0x7C, "low layer compatibility")
HighLayerCompatibility = _opaque(0x7D, "high layer compatibility")

_VARIABLE_IES: dict[int, type[InformationElement]] = {
    _default(cls, "id"): cls
    for cls in (BearerCapability, Cause, CallState, ChannelIdentification, Facility,
                ProgressIndicator, NotificationIndicator, Display, DateTime, KeypadFacility,
                Signal, CallingPartyNumber, CalledPartyNumber, RedirectingNumber,
                RestartIndicator, UserUser, CallIdentity, NetworkSpecificFacilities, ConnectedNumber,
                ConnectedSubaddress, CallingPartySubaddress, CalledPartySubaddress,
                TransitNetworkSelection, LowLayerCompatibility, HighLayerCompatibility)
}
_SINGLE_OCTET_IES: dict[int, type[SingleOctetIE]] = {
    0x90: Shift, 0xA0: MoreData, 0xA1: SendingComplete, 0xB0: CongestionLevel, 0xD0: RepeatIndicator,
}


def ie_class(raw: bytes, codeset: int = 0) -> type[InformationElement]:
    """The class for the element that starts ``raw`` (an element of ``codeset``)."""
    ident = raw[0]
    if ident & 0x80:
        if ident & 0xF0 == 0xA0:
            return _SINGLE_OCTET_IES.get(ident, UnknownSingleOctetIE)
        return _SINGLE_OCTET_IES.get(ident & 0xF0, UnknownSingleOctetIE)
    if codeset != 0:
        return UnknownIE
    if ident == 0x28 and len(raw) > 2 and raw[1] and raw[2] & 0x80:
        return DisplayWithType
    return _VARIABLE_IES.get(ident, UnknownIE)


class CodesetTracker:
    """Q.931 4.5.3: which codeset the next element is in, after the shifts seen so far.

    A locking shift changes the codeset for all following elements; a non-locking
    shift for the next element only.
    """

    __slots__ = ("locked", "one_shot")

    def __init__(self) -> None:
        self.locked = 0
        self.one_shot: int | None = None

    @property
    def current(self) -> int:
        return self.locked if self.one_shot is None else self.one_shot

    def passed(self, is_shift: bool, non_locking: int = 0, codeset: int = 0) -> None:
        """Account for one element (a Shift with its fields, or any other element)."""
        if is_shift and non_locking:
            self.one_shot = codeset
            return
        if is_shift:
            self.locked = codeset
        self.one_shot = None


def _next_ie_class(pkt, lst, cur, remain: bytes):
    """PacketListField callback: the next element's class, following codeset shifts."""
    if not remain:
        return None
    tracker = CodesetTracker()
    for element in lst if cur is None else lst + [cur]:
        shift = isinstance(element, Shift)
        tracker.passed(shift, element.non_locking if shift else 0, element.codeset if shift else 0)
    return ie_class(remain, tracker.current)


# --- messages --------------------------------------------------------------------------

def _header(message_type: int) -> list:
    """Protocol discriminator, call reference (4.3) and message type (4.4), then IEs."""
    return [
        XByteField("protocol_discriminator", PD_Q931),
        BitField("spare", 0, 4),
        BitField("callref_len", 2, 4),
        ConditionalField(BitEnumField("callref_flag", 0, 1, {0: "from originator", 1: "to originator"}),
                         lambda p: p.callref_len in (1, 2)),
        MultipleTypeField(
            [(BitField("callref", 0, 7), lambda p: p.callref_len == 1),
             (BitField("callref", 0, 15), lambda p: p.callref_len == 2)],
            StrLenField("callref", b"", length_from=lambda p: p.callref_len)),
        ByteEnumField("message_type", message_type, MESSAGE_TYPES),
        PacketListField("ies", [], next_cls_cb=_next_ie_class),
    ]


class Q931(Packet):
    """A Q.931 message; ``Q931(raw)`` returns the class of its message type.

    ``mandatory`` lists the elements Q.931 clause 3 makes mandatory in both
    directions, ``mandatory_from_network`` those mandatory only network-to-user.
    """

    name = "Q.931"
    match_subclass = True   # pkt[Q931] finds the Setup, Connect, ... layer
    fields_desc = _header(0x00)
    mandatory: tuple[type[InformationElement], ...] = ()
    mandatory_from_network: tuple[type[InformationElement], ...] = ()

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args, **kargs):
        if _pkt and len(_pkt) >= 3:
            at = 2 + (_pkt[1] & 0x0F)
            if len(_pkt) > at:
                return MESSAGES.get(_pkt[at], Q931)
        return cls

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s

    def ie(self, cls: type[InformationElement]) -> InformationElement | None:
        """The first element of class ``cls``, or None."""
        for element in self.ies:
            if isinstance(element, cls):
                return element
        return None


class Alerting(Q931):
    name = "Q.931 ALERTING"
    fields_desc = _header(0x01)


class CallProceeding(Q931):
    name = "Q.931 CALL PROCEEDING"
    fields_desc = _header(0x02)


class Progress(Q931):
    name = "Q.931 PROGRESS"
    fields_desc = _header(0x03)
    mandatory = (ProgressIndicator,)


class Setup(Q931):
    name = "Q.931 SETUP"
    fields_desc = _header(0x05)
    mandatory = (BearerCapability,)
    mandatory_from_network = (ChannelIdentification,)


class Connect(Q931):
    name = "Q.931 CONNECT"
    fields_desc = _header(0x07)


class SetupAcknowledge(Q931):
    name = "Q.931 SETUP ACKNOWLEDGE"
    fields_desc = _header(0x0D)


class ConnectAcknowledge(Q931):
    name = "Q.931 CONNECT ACKNOWLEDGE"
    fields_desc = _header(0x0F)


class Disconnect(Q931):
    name = "Q.931 DISCONNECT"
    fields_desc = _header(0x45)
    mandatory = (Cause,)


class Restart(Q931):
    name = "Q.931 RESTART"
    fields_desc = _header(0x46)
    mandatory = (RestartIndicator,)


class Release(Q931):
    name = "Q.931 RELEASE"
    fields_desc = _header(0x4D)


class RestartAcknowledge(Q931):
    name = "Q.931 RESTART ACKNOWLEDGE"
    fields_desc = _header(0x4E)
    mandatory = (RestartIndicator,)


class ReleaseComplete(Q931):
    name = "Q.931 RELEASE COMPLETE"
    fields_desc = _header(0x5A)


class Facility_(Q931):
    """FACILITY message (Q.932); the trailing underscore keeps the IE its plain name."""

    name = "Q.931 FACILITY"
    fields_desc = _header(0x62)
    mandatory = (Facility,)


class Notify(Q931):
    name = "Q.931 NOTIFY"
    fields_desc = _header(0x6E)
    mandatory = (NotificationIndicator,)


class StatusEnquiry(Q931):
    name = "Q.931 STATUS ENQUIRY"
    fields_desc = _header(0x75)


class Information(Q931):
    name = "Q.931 INFORMATION"
    fields_desc = _header(0x7B)


class Status(Q931):
    name = "Q.931 STATUS"
    fields_desc = _header(0x7D)
    mandatory = (Cause, CallState)


MESSAGES: dict[int, type[Q931]] = {
    _default(cls, "message_type"): cls
    for cls in (Alerting, CallProceeding, Progress, Setup, Connect, SetupAcknowledge,
                ConnectAcknowledge, Disconnect, Restart, Release, RestartAcknowledge,
                ReleaseComplete, Facility_, Notify, StatusEnquiry, Information, Status)
}

bind_layers(LAPDInformation, Q931)
bind_layers(UI, Q931)
