"""Q.921 (LAPD) frames as scapy layers.

The address field (ITU-T Q.921 2.3 and Figure 5) is :class:`LAPD`; the control field
(Table 5, modulo 128) follows as one of three formats, picked from its low bits:

====================  ==========  ===========================================
first control octet   format      layer
====================  ==========  ===========================================
``xxxxxxx0``          I           :class:`LAPDInformation` (then Q.931)
``xxxx xx01``         S           :class:`LAPDSupervisory` (RR, RNR, REJ)
``xxxx xx11``         U           one class per command/response (SABME, ...)
====================  ==========  ===========================================

The unnumbered frames are told apart by their modifier bits through
:meth:`LAPDUnnumbered.dispatch_hook`, so ``LAPD(raw)`` shows ``LAPD / SABME``.
The FCS is not part of these frames: the HDLC controller (DAHDI) adds and checks it.
"""
from __future__ import annotations

from scapy.fields import BitEnumField, BitField, StrField
from scapy.packet import Packet

__all__ = [
    "SAPI_CALL_CONTROL", "SAPI_MANAGEMENT", "TEI_PRI", "U_FRAMES",
    "LAPD", "LAPDInformation", "LAPDSupervisory", "LAPDUnnumbered",
    "SABME", "DM", "UI", "DISC", "UA", "FRMR", "XID",
    "S_RR", "S_RNR", "S_REJ",
]

SAPI_CALL_CONTROL = 0     # Q.931 call control procedures
SAPI_MANAGEMENT = 63      # layer 2 management (TEI assignment; not used on PRI)
TEI_PRI = 0               # a PRI is point-to-point: TEI 0 is fixed

_SAPI_NAMES = {0: "call control", 1: "packet mode (Q.931)", 16: "X.25", 63: "layer 2 management"}

S_RR, S_RNR, S_REJ = 0, 1, 2
_S_NAMES = {S_RR: "RR", S_RNR: "RNR", S_REJ: "REJ"}


class LAPD(Packet):
    """Address field: SAPI, C/R, EA0=0, TEI, EA1=1 (Q.921 Figure 5).

    C/R is 1 on commands from the network side and on responses from the user side
    (Q.921 Table 1).
    """

    name = "LAPD"
    fields_desc = [
        BitEnumField("sapi", SAPI_CALL_CONTROL, 6, _SAPI_NAMES),
        BitField("cr", 0, 1),
        BitField("ea0", 0, 1),
        BitField("tei", TEI_PRI, 7),
        BitField("ea1", 1, 1),
    ]

    def guess_payload_class(self, payload: bytes):
        if not payload:
            return Packet.guess_payload_class(self, payload)
        first = payload[0]
        if first & 0x01 == 0:
            return LAPDInformation
        if first & 0x03 == 0x01:
            return LAPDSupervisory
        return LAPDUnnumbered


class LAPDInformation(Packet):
    """I format: N(S), 0, N(R), P (two octets, modulo 128); carries one Q.931 message."""

    name = "LAPD I"
    fields_desc = [
        BitField("ns", 0, 7),
        BitField("i_format", 0, 1),
        BitField("nr", 0, 7),
        BitField("p", 0, 1),
    ]


class LAPDSupervisory(Packet):
    """S format: 0000 SS 01, N(R), P/F."""

    name = "LAPD S"
    fields_desc = [
        BitField("reserved", 0, 4),
        BitEnumField("function", S_RR, 2, _S_NAMES),
        BitField("s_format", 1, 2),
        BitField("nr", 0, 7),
        BitField("pf", 0, 1),
    ]


def _u_fields(m_hi: int, m_lo: int) -> list:
    """U format: MMM P/F MM 11, the five modifier bits split around P/F."""
    return [
        BitField("m_hi", m_hi, 3),
        BitField("pf", 0, 1),
        BitField("m_lo", m_lo, 2),
        BitField("u_format", 3, 2),
    ]


class LAPDUnnumbered(Packet):
    """U format with modifier bits that match no command or response Q.921 defines."""

    name = "LAPD U"
    match_subclass = True   # frame[LAPDUnnumbered] finds the SABME, UA, ... layer
    fields_desc = _u_fields(0, 0b01)

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args, **kargs):
        if _pkt:
            return U_FRAMES.get(_pkt[0] & 0xEF, LAPDUnnumbered)
        return cls

    @property
    def command(self) -> str:
        """The frame's Q.921 name ("SABME", "UA", ...) or "U?" for an unknown modifier."""
        return type(self).__name__ if type(self) is not LAPDUnnumbered else "U?"


class SABME(LAPDUnnumbered):
    name = "LAPD SABME"
    fields_desc = _u_fields(0b011, 0b11)


class DM(LAPDUnnumbered):
    name = "LAPD DM"
    fields_desc = _u_fields(0b000, 0b11)


class UI(LAPDUnnumbered):
    name = "LAPD UI"
    fields_desc = _u_fields(0b000, 0b00)


class DISC(LAPDUnnumbered):
    name = "LAPD DISC"
    fields_desc = _u_fields(0b010, 0b00)


class UA(LAPDUnnumbered):
    name = "LAPD UA"
    fields_desc = _u_fields(0b011, 0b00)


class FRMR(LAPDUnnumbered):
    """Frame reject with its five information octets (Q.921 Figure 9, modulo 128)."""

    name = "LAPD FRMR"
    fields_desc = _u_fields(0b100, 0b01) + [
        BitField("rejected_control", 0, 16),
        BitField("vs", 0, 7),
        BitField("zero", 0, 1),
        BitField("vr", 0, 7),
        BitField("rejected_cr", 0, 1),
        BitField("spare", 0, 4),
        BitField("z", 0, 1),      # N(R) error
        BitField("y", 0, 1),      # information field too long
        BitField("x", 0, 1),      # information field not permitted
        BitField("w", 0, 1),      # undefined control field
    ]


class XID(LAPDUnnumbered):
    name = "LAPD XID"
    fields_desc = _u_fields(0b101, 0b11) + [StrField("info", b"")]


# Control octet with the P/F bit cleared -> frame class.  (LAPD picks the format in
# guess_payload_class and Q.931 binds itself to I and UI frames in q931.py.)
U_FRAMES: dict[int, type[LAPDUnnumbered]] = {
    (c.fields_desc[0].default << 5) | (c.fields_desc[2].default << 2) | 0x03: c
    for c in (SABME, DM, UI, DISC, UA, FRMR, XID)
}
