"""The call path's codec: LAPD frames and Q.931 messages to records and back, fast.

Every format here is a scapy layer of :mod:`appliance.isdn.q921` or
:mod:`appliance.isdn.q931`; this module only compiles those layers with
:class:`~appliance.isdn.fastcodec.LayerPlan` and adds what a call path needs on top:
element framing (an element never reads past its length octet, exactly as
``InformationElement.do_dissect`` does), codeset shifts, and caches for the parts that
repeat from call to call (an element's octets, a frame's address and control).

Decoded layers are :class:`Record` objects (field values by attribute, plus ``cls``,
the scapy class the octets dissect as).  Records from the caches are shared: treat
them as read-only.  Elements to send are given as :func:`ie` specs.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from appliance.isdn import q921, q931
from appliance.isdn.fastcodec import LayerPlan, Truncated
from appliance.isdn.q921 import LAPD, LAPDInformation, LAPDSupervisory, LAPDUnnumbered
from appliance.isdn.q931 import (
    MESSAGES, CodesetTracker, InformationElement, Q931, Shift, SingleOctetIE, ie_class,
)

__all__ = [
    "Record", "Frame", "DecodeError", "IESpec", "ie",
    "decode_frame", "decode_message", "decode_ie", "encode_ie", "encode_message",
    "encode_i_frame", "encode_s_frame", "encode_u_frame",
]


class DecodeError(ValueError):
    """The octets are not a frame or message at all (too short for the header)."""


class Record:
    """Decoded field values of one layer, by attribute (``rec.cause_value``).

    The values dict *is* the instance's ``__dict__``, so a field reads at the speed of a
    plain attribute; ``cls``, ``values`` and ``malformed`` are slots and come first.
    """

    __slots__ = ("cls", "values", "malformed", "__dict__")

    def __init__(self, cls: type, values: dict[str, Any], malformed: bool = False) -> None:
        self.cls = cls
        self.values = values
        self.malformed = malformed
        self.__dict__ = values

    def __repr__(self) -> str:
        flag = " malformed" if self.malformed else ""
        return f"<{self.cls.__name__}{flag} {self.values}>"


class _Cache(dict):
    """A dict that forgets everything when full: cheap, and enough for repeats."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def put(self, key, value):
        if len(self) >= self.maxsize:
            self.clear()
        self[key] = value
        return value


# --- information elements --------------------------------------------------------------

_IE_CLASSES = {c for c in vars(q931).values()
               if isinstance(c, type) and issubclass(c, InformationElement)}
_IE_PLANS: dict[type, LayerPlan] = {cls: LayerPlan(cls) for cls in _IE_CLASSES}
_IE_DECODED = _Cache(8192)
_IE_ENCODED = _Cache(8192)

IESpec = tuple  # (element class, ((field, value), ...)) as made by ie()


def ie(cls: type[InformationElement], **values: Any) -> IESpec:
    """An element to send: its class and field values (unset fields take defaults)."""
    return (cls, tuple(sorted(values.items())))


def decode_ie(cls: type[InformationElement], body: bytes) -> Record:
    """One element's octets (identifier first) as a record, as scapy would dissect them."""
    key = (cls, body)
    record = _IE_DECODED.get(key)
    if record is not None:
        return record
    plan = _IE_PLANS[cls]
    malformed = False
    if issubclass(cls, SingleOctetIE):
        values, _ = plan.decode(body, 0, 1)
    else:
        # Bound the element by its length octet, as InformationElement.do_dissect does.
        end = min(len(body), 2 + body[1]) if len(body) >= 2 else len(body)
        malformed = len(body) < 2 or end < 2 + body[1]
        try:
            values, stop = plan.decode(body, 0, end)
            malformed = malformed or stop < end
        except Truncated as exc:
            values, malformed = exc.args[1], True
    return _IE_DECODED.put(key, Record(cls, values, malformed))


def encode_ie(spec: IESpec) -> bytes:
    raw = _IE_ENCODED.get(spec)
    if raw is None:
        raw = _IE_ENCODED.put(spec, _IE_PLANS[spec[0]].encode(dict(spec[1])))
    return raw


_IE_BY_OCTETS = _Cache(8192)   # codeset 0 element octets -> record


def _decode_ie_list(buf: bytes, pos: int, end: int, values: dict) -> tuple[list[Record], int]:
    ies: list[Record] = []
    append = ies.append
    codesets = None   # a CodesetTracker once a Shift is seen; codeset 0 until then
    while pos < end:
        if buf[pos] & 0x80:
            stop = pos + 1
        else:
            stop = pos + 2 + buf[pos + 1] if pos + 1 < end else end
            if stop > end:
                stop = end
        octets = buf[pos:stop]
        pos = stop
        if codesets is None or codesets.current == 0:
            record = _IE_BY_OCTETS.get(octets)
            if record is None:
                record = _IE_BY_OCTETS.put(octets, decode_ie(ie_class(octets, 0), octets))
        else:
            record = decode_ie(ie_class(octets, codesets.current), octets)
        append(record)
        if record.cls is Shift:
            if codesets is None:
                codesets = CodesetTracker()
            codesets.passed(True, record.non_locking, record.codeset)
        elif codesets is not None:
            codesets.passed(False)
    return ies, end


def _encode_ie_list(items: Iterable) -> bytes:
    return b"".join(item if isinstance(item, bytes) else encode_ie(item) for item in items)


# --- messages --------------------------------------------------------------------------

_LISTS = {"ies": (_decode_ie_list, _encode_ie_list)}
_MESSAGE_PLANS: dict[type, LayerPlan] = {
    cls: LayerPlan(cls, _LISTS) for cls in (Q931, *MESSAGES.values())
}


def decode_message(info: bytes) -> Record:
    """A Q.931 message (``Record.cls`` is Setup, Connect, ... or Q931 if unknown).

    Raises DecodeError if the octets end inside the header (Q.931 5.8.2: too short).
    """
    cls = Q931.dispatch_hook(info)
    try:
        values, _ = _MESSAGE_PLANS[cls].decode(info)
    except Truncated:
        raise DecodeError(f"Q.931 message too short ({len(info)} octets)") from None
    return Record(cls, values)


def encode_message(cls: type[Q931], callref: int, callref_flag: int, ies: Iterable = (),
                   callref_len: int = 2) -> bytes:
    """Octets of a message of class ``cls``; ``ies`` are :func:`ie` specs or octets."""
    values: dict[str, Any] = {"callref_len": callref_len, "ies": ies}
    if callref_len:
        values["callref"] = callref
        values["callref_flag"] = callref_flag
    return _MESSAGE_PLANS[cls].encode(values)


# --- LAPD frames -----------------------------------------------------------------------

_ADDRESS = LayerPlan(LAPD)
_CONTROL_PLANS: dict[type, LayerPlan] = {
    cls: LayerPlan(cls)
    for cls in (LAPDInformation, LAPDSupervisory, LAPDUnnumbered, *q921.U_FRAMES.values())
}
_HEADERS = _Cache(65536)


class Frame:
    """A decoded LAPD frame: address and control fields, and the information field.

    ``kind`` is the control layer class (LAPDInformation, LAPDSupervisory, SABME, UA,
    ...).  ``pf`` is the P or F bit whichever the frame carries; ``ns`` / ``nr`` /
    ``function`` are None where the format has none.  ``valid_address`` is False when
    the EA bits are wrong (Q.921 5.8.1: such frames are discarded).
    """

    __slots__ = ("sapi", "cr", "tei", "valid_address", "kind", "ns", "nr", "pf", "function",
                 "control", "info")

    def __repr__(self) -> str:
        return (f"<Frame {self.kind.__name__} sapi={self.sapi} tei={self.tei} cr={self.cr} "
                f"ns={self.ns} nr={self.nr} pf={self.pf} info={len(self.info)}o>")


def _control_class(raw: bytes) -> type:
    first = raw[2]
    if first & 0x01 == 0:
        return LAPDInformation
    if first & 0x03 == 0x01:
        return LAPDSupervisory
    return LAPDUnnumbered.dispatch_hook(raw[2:])


def decode_frame(raw: bytes) -> Frame:
    """A LAPD frame without its FCS.  Raises DecodeError for fewer than three octets
    or a control field cut short (Q.921 5.8.5: such frames are invalid)."""
    if len(raw) < 3:
        raise DecodeError(f"LAPD frame too short ({len(raw)} octets)")
    kind = _control_class(raw)
    header_len = 3 if issubclass(kind, LAPDUnnumbered) else 4
    key = raw[:header_len]
    header = _HEADERS.get(key)
    if header is None:
        if len(raw) < header_len:
            raise DecodeError(f"LAPD control field cut short ({len(raw)} octets)")
        address, _ = _ADDRESS.decode(raw, 0, 2)
        # U frames: the control octet only; FRMR's and XID's octets stay in ``info``.
        plan = _CONTROL_PLANS[LAPDUnnumbered if header_len == 3 else kind]
        control, _ = plan.decode(raw, 2, header_len)
        header = _HEADERS.put(key, (address, control))
    address, control = header
    frame = Frame()
    frame.sapi = address["sapi"]
    frame.cr = address["cr"]
    frame.tei = address["tei"]
    frame.valid_address = address["ea0"] == 0 and address["ea1"] == 1
    frame.kind = kind
    frame.control = control
    frame.ns = control.get("ns")
    frame.nr = control.get("nr")
    frame.function = control.get("function")
    frame.pf = control["p"] if kind is LAPDInformation else control["pf"]
    frame.info = raw[header_len:]
    return frame


_I_HEADERS = _Cache(65536)


def encode_i_frame(cr: int, ns: int, nr: int, p: int, info: bytes, sapi: int = 0, tei: int = 0) -> bytes:
    key = (cr, ns, nr, p, sapi, tei)
    header = _I_HEADERS.get(key)
    if header is None:
        header = _I_HEADERS.put(key, _ADDRESS.encode({"sapi": sapi, "cr": cr, "tei": tei})
                                + _CONTROL_PLANS[LAPDInformation].encode({"ns": ns, "nr": nr, "p": p}))
    return header + info


def encode_s_frame(cr: int, function: int, nr: int, pf: int, sapi: int = 0, tei: int = 0) -> bytes:
    key = ("S", cr, function, nr, pf, sapi, tei)
    frame = _I_HEADERS.get(key)
    if frame is None:
        frame = _I_HEADERS.put(key, _ADDRESS.encode({"sapi": sapi, "cr": cr, "tei": tei})
                               + _CONTROL_PLANS[LAPDSupervisory].encode({"function": function, "nr": nr, "pf": pf}))
    return frame


def encode_u_frame(kind: type[LAPDUnnumbered], cr: int, pf: int, sapi: int = 0, tei: int = 0,
                   **fields: Any) -> bytes:
    return (_ADDRESS.encode({"sapi": sapi, "cr": cr, "tei": tei})
            + _CONTROL_PLANS[kind].encode({"pf": pf, **fields}))
