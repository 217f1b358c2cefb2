"""A fast path for scapy layers, compiled from their own ``fields_desc``.

scapy's generic dissection builds a Packet object per layer and costs hundreds of
microseconds per Q.931 message; the call path needs a few.  :class:`LayerPlan` reads a
layer class's ``fields_desc`` once, turns it into a short list of operations (bit
runs, conditional fields, strings, packet lists) and generates from those two
straight-line functions: one decodes bytes into a plain dict, the other encodes a dict
back into bytes.  The layer classes stay the single definition of
the wire format: conditions are the classes' own lambdas, ``post_build`` is the
class's own method, and a property test checks that both paths agree byte for byte.

Only the field types the ISDN layers use are supported; compiling a class that uses
anything else raises ``TypeError`` at import time rather than decoding wrongly.

Decoding mirrors scapy's semantics exactly: a conditional field whose condition is
false reads as None, a length-bound string may come up short, and a numeric field past
the end of the data raises :class:`Truncated`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scapy.fields import (
    ConditionalField, Field, MultipleTypeField, PacketListField, StrField, StrLenField, _BitField,
)
from scapy.packet import Packet

__all__ = ["LayerPlan", "Truncated", "ListCodec"]


class Truncated(ValueError):
    """A fixed-size field ran past the end of the data."""


# A packet-list codec: decode(buf, pos, end, values) -> (list, pos); encode(list) -> bytes.
ListCodec = tuple[Callable[[bytes, int, int, dict], tuple[list, int]], Callable[[list], bytes]]

_BITS, _GROUP, _REST, _STRLEN, _MULTI, _LIST = range(6)


def _view_class(defaults: Mapping[str, Any]) -> type:
    """The class of what a field condition (``lambda p: p.ext3 == 0``) sees.

    An instance's ``__dict__`` *is* the values dict being decoded or encoded, so a
    condition reads a field at C speed; a field not set falls back to its default.
    """
    def missing(self, name: str) -> Any:
        try:
            return defaults[name]
        except KeyError:
            raise AttributeError(name) from None

    return type("FieldView", (), {"__getattr__": missing})


_NUMERIC_FORMATS = {"!B": 8, "!H": 16, "!I": 32, "!Q": 64}


def _numeric_size(field: Field) -> int | None:
    """Width in bits of a big-endian integer field (ByteField, ShortField...), else None."""
    return _NUMERIC_FORMATS.get(getattr(field, "fmt", None))


class LayerPlan:
    """Decode and encode one layer class without building scapy objects.

    ``lists`` maps the name of each PacketListField to a :data:`ListCodec` that frames
    its elements (the protocol knows how; the plan does not).
    """

    def __init__(self, cls: type[Packet], lists: Mapping[str, ListCodec] | None = None) -> None:
        self.cls = cls
        self.defaults: dict[str, Any] = {}
        self.names: list[str] = []
        lists = lists or {}
        ops: list[tuple] = []
        for field in cls.fields_desc:
            self.names.append(field.name)
            ops.append(self._compile(field, None, lists))
        self.ops = _merge_bit_runs(ops)
        post_build = getattr(cls, "post_build")
        self._post_build = post_build if post_build is not Packet.post_build else None
        self._decode, self._encode, self._source = _Gen(self).build()

    def _compile(self, field: Field, cond, lists) -> tuple:
        if isinstance(field, ConditionalField):
            return self._compile(field.fld, field.cond, lists)
        if isinstance(field, MultipleTypeField):
            choices = [(self._compile(f, None, lists), c) for f, c in field.flds]
            default = self._compile(field.dflt, None, lists)
            return (_MULTI, field.name, cond, choices, default)
        self.defaults.setdefault(field.name, field.default)
        if isinstance(field, _BitField):
            return (_BITS, field.name, cond, field.size)
        if isinstance(field, PacketListField):
            if field.name not in lists:
                raise TypeError(f"{self.cls.__name__}.{field.name}: a packet list needs a ListCodec")
            return (_LIST, field.name, cond, lists[field.name])
        if isinstance(field, StrLenField):
            return (_STRLEN, field.name, cond, field.length_from)
        if type(field) is StrField:
            return (_REST, field.name, cond)
        size = _numeric_size(field)
        if size is not None:
            return (_BITS, field.name, cond, size)
        raise TypeError(f"{self.cls.__name__}.{field.name}: {type(field).__name__} has no fast path")

    # -- decoding and encoding ---------------------------------------------------------

    def decode(self, buf: bytes, pos: int = 0, end: int | None = None) -> tuple[dict[str, Any], int]:
        """Field values of the layer starting at ``buf[pos]``, and where it ended.

        Raises :class:`Truncated` (with the values read so far in ``args[1]``) when a
        fixed-size field does not fit before ``end``.
        """
        return self._decode(buf, pos, len(buf) if end is None else end)

    def encode(self, values: Mapping[str, Any]) -> bytes:
        """Bytes of the layer for ``values`` (missing fields take their defaults)."""
        return self._encode(values if type(values) is dict else dict(values))

    @property
    def source(self) -> str:
        """The generated Python of this plan (for reading and debugging)."""
        return self._source


def _merge_bit_runs(ops: list[tuple]) -> list[tuple]:
    """Fold runs of unconditional bit fields that start and end on octets into one op.

    A run may only start where the position is known, when compiling, to be on an
    octet boundary: at the start, after a whole run, or after a string or list.
    """
    merged: list[tuple] = []
    run: list[tuple] = []
    run_bits = 0
    aligned = True
    for op in ops:
        if op[0] == _BITS and op[2] is None and (run or aligned):
            run.append(op)
            run_bits += op[3]
            if run_bits % 8 == 0:
                fields, shift = [], run_bits
                for _, name, _, size in run:
                    shift -= size
                    fields.append((name, shift, (1 << size) - 1))
                merged.append((_GROUP, run_bits // 8, tuple(fields)))
                run, run_bits, aligned = [], 0, True
            continue
        merged.extend(run)
        merged.append(op)
        aligned = op[0] in (_REST, _STRLEN, _LIST)
        run, run_bits = [], 0
    merged.extend(run)
    return merged


# --- code generation -------------------------------------------------------------------
#
# Each plan becomes two straight-line functions.  Conditions, length functions, list
# codecs and defaults are passed in as names (c0, n1, l2, ...); the generated code only
# slices, shifts and masks.  ``bit`` is the position in bits, so fields need not sit on
# octets; strings and lists must.

class _Gen:
    def __init__(self, plan: "LayerPlan") -> None:
        self.plan = plan
        self.env: dict[str, Any] = {"View": _view_class(plan.defaults), "Truncated": Truncated,
                                    "from_bytes": int.from_bytes}
        self.dec: list[str] = []
        self.enc: list[str] = []
        self._n = 0

    def name(self, prefix: str, value: Any) -> str:
        self._n += 1
        key = f"{prefix}{self._n}"
        self.env[key] = value
        return key

    def default(self, field: str, fallback: Any) -> str:
        value = self.plan.defaults.get(field)
        return repr(fallback if value is None else value)

    def multi(self, op: tuple, ind: str, out: list[str], emit: Callable[[tuple, str], None]) -> None:
        """A MultipleTypeField: the first choice whose condition holds, else the default."""
        keyword = "if"
        for choice, choice_cond in op[3]:
            out.append(f"{ind}{keyword} {self.name('m', choice_cond)}(view):")
            emit(choice, ind + "    ")
            keyword = "elif"
        out.append(f"{ind}else:")
        emit(op[4], ind + "    ")

    # decoding
    def d_op(self, op: tuple, ind: str) -> None:
        kind, out = op[0], self.dec
        if kind == _GROUP:
            nbytes, fields = op[1], op[2]
            out.append(f"{ind}s = bit >> 3")
            out.append(f"{ind}if s + {nbytes} > end: raise Truncated('needs {nbytes} octets at %d' % s, values)")
            out.append(f"{ind}w = buf[s]" if nbytes == 1 else f"{ind}w = from_bytes(buf[s:s + {nbytes}], 'big')")
            for name, shift, mask in fields:
                out.append(f"{ind}values[{name!r}] = (w >> {shift}) & {mask}" if shift else
                           f"{ind}values[{name!r}] = w & {mask}")
            out.append(f"{ind}bit = (s + {nbytes}) << 3")
            return
        name, cond = op[1], op[2]
        if cond is not None:
            out.append(f"{ind}if {self.name('c', cond)}(view):")
            self.d_body(op, ind + "    ")
            out.append(f"{ind}else:")
            out.append(f"{ind}    values[{name!r}] = None")
        else:
            self.d_body(op, ind)

    def d_body(self, op: tuple, ind: str) -> None:
        kind, name, out = op[0], op[1], self.dec
        if kind == _BITS:
            size = op[3]
            out.append(f"{ind}s = bit >> 3")
            out.append(f"{ind}o = bit & 7")
            out.append(f"{ind}nb = (o + {size + 7}) >> 3")
            out.append(f"{ind}if s + nb > end: raise Truncated('{name} needs %d octets at %d' % (nb, s), values)")
            out.append(f"{ind}values[{name!r}] = (from_bytes(buf[s:s + nb], 'big') >> ((nb << 3) - o - {size})) & {(1 << size) - 1}")
            out.append(f"{ind}bit += {size}")
        elif kind == _REST:
            out.append(f"{ind}values[{name!r}] = buf[bit >> 3:end]")
            out.append(f"{ind}bit = end << 3")
        elif kind == _STRLEN:
            out.append(f"{ind}s = bit >> 3")
            out.append(f"{ind}e = min(s + max({self.name('n', op[3])}(view), 0), end)")
            out.append(f"{ind}values[{name!r}] = buf[s:e]")
            out.append(f"{ind}bit = e << 3")
        elif kind == _LIST:
            out.append(f"{ind}items, e = {self.name('l', op[3][0])}(buf, bit >> 3, end, values)")
            out.append(f"{ind}values[{name!r}] = items")
            out.append(f"{ind}bit = e << 3")
        elif kind == _MULTI:
            self.multi(op, ind, out, self.d_op)

    # encoding
    def e_op(self, op: tuple, ind: str) -> None:
        kind, out = op[0], self.enc
        if kind == _GROUP:
            for name, _, mask in op[2]:
                out.append(f"{ind}v = get({name!r})")
                out.append(f"{ind}if v is None: v = {self.default(name, 0)}")
                out.append(f"{ind}acc = (acc << {mask.bit_length()}) | (v & {mask})")
            out.append(f"{ind}nbits += {op[1] * 8}")
            return
        name, cond = op[1], op[2]
        if cond is not None:
            out.append(f"{ind}if {self.name('c', cond)}(view):")
            self.e_body(op, ind + "    ")
        else:
            self.e_body(op, ind)

    def e_body(self, op: tuple, ind: str) -> None:
        kind, name, out = op[0], op[1], self.enc
        if kind == _BITS:
            size = op[3]
            out.append(f"{ind}v = get({name!r})")
            out.append(f"{ind}if v is None: v = {self.default(name, 0)}")
            out.append(f"{ind}acc = (acc << {size}) | (v & {(1 << size) - 1})")
            out.append(f"{ind}nbits += {size}")
        elif kind == _MULTI:
            self.multi(op, ind, out, self.e_op)
        else:
            out.append(f"{ind}if nbits:")
            out.append(f"{ind}    if nbits & 7: raise ValueError('{name}: string field does not start on an octet')")
            out.append(f"{ind}    out += acc.to_bytes(nbits >> 3, 'big')")
            out.append(f"{ind}    acc = nbits = 0")
            out.append(f"{ind}v = get({name!r})")
            if kind == _LIST:
                out.append(f"{ind}out += {self.name('L', op[3][1])}(v or ())")
            else:
                out.append(f"{ind}if v is None: v = {self.default(name, b'')}")
                out.append(f"{ind}out += v")

    def build(self) -> tuple[Callable, Callable, str]:
        plan = self.plan
        self.dec[:] = ["def decode(buf, pos, end):", "    view = View()", "    values = view.__dict__",
                       "    bit = pos << 3"]
        for op in plan.ops:
            self.d_op(op, "    ")
        self.dec.append("    return values, bit >> 3")
        self.enc[:] = ["def encode(values):", "    view = View()", "    view.__dict__ = values", "    get = values.get",
                       "    out = bytearray()", "    acc = nbits = 0"]
        for op in plan.ops:
            self.e_op(op, "    ")
        self.enc += ["    if nbits:",
                     f"        if nbits & 7: raise ValueError('{plan.cls.__name__}: bit fields do not end on an octet')",
                     "        out += acc.to_bytes(nbits >> 3, 'big')",
                     "    raw = bytes(out)"]
        if plan._post_build is not None:
            self.env["post_build"] = plan._post_build
            self.enc.append("    raw = post_build(view, raw, b'')")
        self.enc.append("    return raw")
        source = "\n".join(self.dec) + "\n\n\n" + "\n".join(self.enc) + "\n"
        namespace = dict(self.env)
        exec(compile(source, f"<fastcodec {plan.cls.__name__}>", "exec"), namespace)
        return namespace["decode"], namespace["encode"], source
