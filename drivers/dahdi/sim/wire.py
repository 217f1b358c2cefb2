"""The simulator's socket protocol: where the sockets are and what goes over them.

Everything is a ``SOCK_SEQPACKET`` Unix socket in the simulator's directory, so one
``send`` is one message and message boundaries survive:

- ``control``: JSON requests and replies, one object per message.  Every request
  has ``"op"``; every reply has ``"ok"`` and, when false, ``"error"`` and ``"errno"``.
- ``span<N>.dchan``: one span's D-channel; ``span<N>.media``: all its B-channels as one
  channel-major 20 ms block per message; ``channel``: one channel on its own (an
  FXS port), chosen by the opening message like ``DAHDI_SPECIFY``.

A data connection starts with one JSON message from the near end (what it opens,
with which mode) and one JSON reply.  After that every message is one kind byte
and a payload: ``D`` + a frame or a block (in the line's G.711 law) or ``E`` + an
event (``<IHH``: channo, DAHDI_EVENT_* number, span).  Requests that need an
answer at once (DAHDI_HOOK on a channel) go over ``control``.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import struct
from dataclasses import asdict
from pathlib import Path
from typing import Any

from drivers.dahdi.interface import (
    Alarm, ChannelEvent, ChannelStatus, DahdiError, EventType, SpanCounters, SpanStatus,
)

__all__ = [
    "CONTROL", "CHANNEL", "PROTOCOL_VERSION", "MAX_MESSAGE", "KIND_DATA", "KIND_EVENT",
    "dchan_socket", "media_socket", "connect", "encode_json", "send_json", "recv_json", "decode_json",
    "pack_event", "unpack_event", "status_to_wire", "status_from_wire",
    "error_reply", "raise_for_reply", "dahdi_error",
]

PROTOCOL_VERSION = 1
CONTROL = "control"
CHANNEL = "channel"
MAX_MESSAGE = 1 << 16          # a T1/E1 block in linear mode is at most 31*160*2 bytes

KIND_DATA = b"D"
KIND_EVENT = b"E"
_EVENT = struct.Struct("<IHH")


def dchan_socket(directory: str | Path, span: int) -> Path:
    return Path(directory) / f"span{span}.dchan"


def media_socket(directory: str | Path, span: int) -> Path:
    return Path(directory) / f"span{span}.media"


def connect(path: str | Path, timeout: float) -> socket.socket:
    """A connected SEQPACKET socket to ``path``; DahdiError(ENOENT/ECONNREFUSED) if nobody serves it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    try:
        sock.connect(os.fspath(path))
    except OSError as exc:
        sock.close()
        raise dahdi_error(exc.errno or errno.ECONNREFUSED, f"{path}: {exc.strerror or exc}") from None
    return sock


def encode_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def send_json(sock: socket.socket, value: Any) -> None:
    sock.send(encode_json(value))


def decode_json(message: bytes) -> dict:
    """One JSON object from a message; ValueError if it is not one."""
    value = json.loads(message.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


class SimulatorGone(DahdiError):
    """The simulator's end of a connection closed: it stopped (and may be started again)."""


def recv_json(sock: socket.socket) -> dict:
    """The next JSON message (blocking up to the socket's timeout); DahdiError on EOF or garbage."""
    try:
        message = sock.recv(MAX_MESSAGE)
    except TimeoutError:
        raise DahdiError("the simulator did not answer in time") from None
    if not message:
        raise SimulatorGone("the simulator closed the connection")
    try:
        return decode_json(message)
    except ValueError as exc:
        raise DahdiError(f"the simulator sent a malformed reply: {exc}") from None


def pack_event(event: ChannelEvent) -> bytes:
    return KIND_EVENT + _EVENT.pack(event.channo, int(event.type), event.span)


def unpack_event(payload: bytes) -> ChannelEvent:
    channo, number, span = _EVENT.unpack(payload)
    try:
        kind = EventType(number)
    except ValueError:
        raise ValueError(f"unknown DAHDI event {number}") from None
    return ChannelEvent(channo=channo, type=kind, span=span)


def status_to_wire(status: SpanStatus) -> dict:
    """SpanStatus as JSON-able data, alarms kept as DAHDI's bit mask."""
    data = asdict(status)
    data["alarms"] = int(status.alarms)
    return data


def status_from_wire(data: dict) -> SpanStatus:
    fields = dict(data)
    fields["alarms"] = Alarm(fields["alarms"])
    fields["counters"] = SpanCounters(**fields["counters"])
    fields["channels"] = tuple(ChannelStatus(**c) for c in fields["channels"])
    return SpanStatus(**fields)


def error_reply(number: int, message: str) -> dict:
    return {"ok": False, "errno": number, "error": message}


def raise_for_reply(reply: dict) -> dict:
    """``reply`` if it says ok, else the DahdiError it carries."""
    if reply.get("ok"):
        return reply
    raise dahdi_error(int(reply.get("errno") or errno.EIO),
                      str(reply.get("error", "the simulator refused the request")))


def dahdi_error(number: int, message: str, cls: type[DahdiError] = DahdiError) -> DahdiError:
    """A DahdiError (or ``cls``) carrying ``errno`` whose text is just ``message`` (no "[Errno N]")."""
    error = cls(message)
    error.errno = number
    return error
