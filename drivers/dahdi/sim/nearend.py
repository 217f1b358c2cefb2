"""The near end of simulated spans: the DAHDI backend the appliance holds.

``SimBackend("sim:///run/qbox/sim")`` talks to the :class:`~.farend.FarEnd` serving
that directory, from another process or another thread.  Like the kernel, the
far end holds the truth (alarms, counters, what is open), so every process that
opens the backend (the service, ``qbox span show``) sees the same spans.

The line carries G.711 in the span's law (A-law on E1, mu-law on T1); media opened
in another mode is converted here, as DAHDI converts in the kernel.  Blocks are
always 20 ms (``blocksize`` 160): the simulated line is clocked in 20 ms frames.
"""
from __future__ import annotations

import errno
import socket
import struct
from urllib.parse import urlsplit

from drivers.dahdi.interface import (
    BLOCK_SAMPLES, Backend, Channel, ChannelEvent, DahdiError, DChannel, HookOp, Mode, SpanMedia,
    SpanStatus,
)
from drivers.dahdi.sim import wire
from drivers.dahdi.sim.control import SimControl
from drivers.dahdi.sim.wire import dahdi_error

__all__ = ["SimBackend", "directory_of"]

_MODES = ("alaw", "ulaw", "linear")


def directory_of(url: str) -> str:
    """``sim:///run/qbox/sim`` -> ``/run/qbox/sim``; DahdiError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "sim" or parts.netloc or not parts.path:
        raise DahdiError(f"{url}: a simulator URL is sim:///DIRECTORY (three slashes, absolute path)")
    return parts.path


class _Endpoint:
    """The near end of one data connection: data messages in order, events set aside.

    Data is never buffered here, so the socket stays readable while a block or frame
    waits; events met while reading data are kept for :meth:`events`.
    """

    def __init__(self, sock: socket.socket, what: str) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.what = what
        self.malformed = 0
        self._events: list[ChannelEvent] = []
        self._closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def _recv(self, flags: int = 0) -> bytes | None:
        if self._closed:
            raise dahdi_error(errno.EBADF, f"{self.what} is closed")
        try:
            message = self.sock.recv(wire.MAX_MESSAGE, flags)
        except BlockingIOError:
            return None
        except ConnectionResetError:
            message = b""
        if not message:
            raise dahdi_error(errno.ENODEV, f"{self.what}: the simulator has gone away")
        return message

    def _keep_event(self, payload: bytes) -> None:
        try:
            self._events.append(wire.unpack_event(payload))
        except (ValueError, struct.error):
            self.malformed += 1

    def read(self) -> bytes | None:
        while (message := self._recv()) is not None:
            kind, payload = message[:1], message[1:]
            if kind == wire.KIND_DATA:
                return payload
            if kind == wire.KIND_EVENT:
                self._keep_event(payload)
            else:
                self.malformed += 1
        return None

    def events(self) -> list[ChannelEvent]:
        # Take events from the head of the socket; stop at data, which read() consumes.
        while (message := self._recv(socket.MSG_PEEK)) is not None and message[:1] != wire.KIND_DATA:
            self._recv()
            if message[:1] == wire.KIND_EVENT:
                self._keep_event(message[1:])
            else:
                self.malformed += 1
        return self.events_seen()

    def events_seen(self) -> list[ChannelEvent]:
        found, self._events = self._events, []
        return found

    def write(self, payload: bytes) -> None:
        if self._closed:
            raise dahdi_error(errno.EBADF, f"{self.what} is closed")
        try:
            self.sock.send(wire.KIND_DATA + payload, socket.MSG_DONTWAIT)
        except BlockingIOError:
            raise dahdi_error(errno.EAGAIN, f"{self.what}: the simulator is not keeping up") from None
        except (BrokenPipeError, ConnectionResetError):
            raise dahdi_error(errno.ENODEV, f"{self.what}: the simulator has gone away") from None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.sock.close()


class _Codec:
    """Between the line's law and the mode the near end asked for."""

    def __init__(self, law: str, mode: Mode) -> None:
        if mode not in _MODES:
            raise dahdi_error(errno.EINVAL, f"mode {mode!r} is not one of {', '.join(_MODES)}")
        self.law, self.mode = law, mode
        self.width = 2 if mode == "linear" else 1
        if mode != law:
            from cython_ext import g711   # only needed when converting
            self._g711 = g711

    def from_line(self, data: bytes) -> bytes:
        if self.mode == self.law:
            return data
        linear = self._g711.decode(data, self.law)
        return linear if self.mode == "linear" else self._g711.encode(linear, self.mode)

    def to_line(self, data: bytes) -> bytes:
        if self.mode == self.law:
            return data
        linear = data if self.mode == "linear" else self._g711.decode(data, self.mode)
        return self._g711.encode(linear, self.law)


class _OnEndpoint:
    """What every simulated channel object does the same way: its socket, its events, closing."""

    _endpoint: _Endpoint

    def fileno(self) -> int:
        return self._endpoint.fileno()

    def events(self) -> list[ChannelEvent]:
        return self._endpoint.events()

    def close(self) -> None:
        self._endpoint.close()


class _Blocks:
    """20 ms blocks for ``channels`` channels on an endpoint, in the mode the caller opened."""

    def __init__(self, endpoint: _Endpoint, codec: _Codec, channels: int) -> None:
        self._endpoint = endpoint
        self._codec = codec
        self.size = channels * BLOCK_SAMPLES * codec.width

    def read(self) -> bytes | None:
        data = self._endpoint.read()
        return None if data is None else self._codec.from_line(data)

    def write(self, block: bytes) -> None:
        if len(block) != self.size:
            raise dahdi_error(errno.EINVAL, f"a block here is {self.size} bytes, not {len(block)}")
        self._endpoint.write(self._codec.to_line(bytes(block)))


class SimSpanMedia(_OnEndpoint, SpanMedia):
    def __init__(self, endpoint: _Endpoint, channels: tuple[int, ...], codec: _Codec) -> None:
        self._endpoint = endpoint
        self._blocks = _Blocks(endpoint, codec, len(channels))
        self.channels = channels
        self.mode = codec.mode
        self.blocksize = BLOCK_SAMPLES

    def read_block(self) -> bytes | None:
        return self._blocks.read()

    def write_block(self, block: bytes) -> None:
        self._blocks.write(block)

    def events_seen(self) -> list[ChannelEvent]:
        return self._endpoint.events_seen()


class SimDChannel(_OnEndpoint, DChannel):
    def __init__(self, endpoint: _Endpoint, span: int, channo: int) -> None:
        self._endpoint = endpoint
        self.span = span
        self.channo = channo

    def send(self, frame: bytes) -> None:
        if not frame:
            raise dahdi_error(errno.EINVAL, "cannot send an empty D-channel frame")
        self._endpoint.write(bytes(frame))

    def recv(self) -> bytes | None:
        return self._endpoint.read()


class SimChannel(_OnEndpoint, Channel):
    def __init__(self, endpoint: _Endpoint, channo: int, codec: _Codec, control: SimControl) -> None:
        self._endpoint = endpoint
        self._blocks = _Blocks(endpoint, codec, 1)
        self._control = control
        self.channo = channo
        self.mode = codec.mode
        self.blocksize = BLOCK_SAMPLES

    def read(self) -> bytes | None:
        return self._blocks.read()

    def write(self, block: bytes) -> None:
        self._blocks.write(block)

    def hook(self, op: HookOp) -> None:
        self._control.hook(self.channo, HookOp(op))


class SimBackend(Backend):
    """Simulated spans served by the far-end simulator in the URL's directory."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.directory = directory_of(url)
        self.timeout = timeout
        self._control = SimControl(self.directory, timeout)

    def spans(self, *, channels: bool = True) -> list[SpanStatus]:
        return self._control.spans(channels=channels)

    def span_status(self, span: int, *, channels: bool = True) -> SpanStatus:
        return self._control.span(span, channels=channels)

    def open_span_media(self, span: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES) -> SimSpanMedia:
        _check_blocksize(blocksize)
        sock, reply = self._open(wire.media_socket(self.directory, span), {}, f"span {span}")
        codec = _Codec(reply["law"], mode)
        return SimSpanMedia(_Endpoint(sock, f"span {span} media"), tuple(reply["channels"]), codec)

    def open_dchannel(self, span: int) -> SimDChannel:
        sock, reply = self._open(wire.dchan_socket(self.directory, span), {}, f"span {span}")
        return SimDChannel(_Endpoint(sock, f"span {span} D-channel"), span, reply["channo"])

    def open_channel(self, channo: int, mode: Mode = "alaw", blocksize: int = BLOCK_SAMPLES) -> SimChannel:
        _check_blocksize(blocksize)
        sock, reply = self._open(f"{self.directory}/{wire.CHANNEL}", {"channo": channo}, f"channel {channo}")
        codec = _Codec(reply["law"], mode)
        return SimChannel(_Endpoint(sock, f"channel {channo}"), channo, codec, self._control)

    def _open(self, path, request: dict, what: str) -> tuple[socket.socket, dict]:
        try:
            sock = wire.connect(path, self.timeout)
        except DahdiError as exc:
            if exc.errno == errno.ENOENT:
                raise dahdi_error(errno.ENODEV, f"{what} does not exist in the simulator at {self.directory}") from None
            raise
        try:
            wire.send_json(sock, request)
            return sock, wire.raise_for_reply(wire.recv_json(sock))
        except BaseException:
            sock.close()
            raise

    def close(self) -> None:
        self._control.close()


def _check_blocksize(blocksize: int) -> None:
    if blocksize != BLOCK_SAMPLES:
        raise dahdi_error(errno.EINVAL, f"the simulated line runs 20 ms blocks: blocksize must be "
                                        f"{BLOCK_SAMPLES}, not {blocksize}")
