"""Patlite LR5-LAN (and other PNS-speaking towers): the PNS protocol over TCP port 10000.

Every command is a frame (Patlite's published PNS examples)::

    "A" "B"  product category 0x41 0x42
    cmd      0x53 'S' operation control, 0x43 'C' clear, 0x47 'G' get status
    0x00     spare
    size     data length, 2 bytes big-endian
    data     'S': red, amber, green, blue, white LED pattern, buzzer mode (6 bytes)

    LED pattern: 0 off, 1 on, 2 blink slow, 3 medium, 4 fast, 5-7 flash single/double/
    triple, 9 no change.  Buzzer mode: 0 stop, 1 ring, 9 no change.

The tower answers 'S' and 'C' with ACK 0x06 or NAK 0x15, and 'G' with the six data
bytes of 'S' (or NAK).  Blue and white tiers are sent as "no change": qbox owns the
three lamps of a red/amber/green tower and leaves any others to whoever set them.
"""
from __future__ import annotations

import socket
import struct
from urllib.parse import urlsplit

from drivers.tower.interface import Tower, TowerError, TowerState

__all__ = [
    "PNS_PORT", "ACK", "NAK", "RUN", "CLEAR", "GET", "HEADER", "frame", "encode_run",
    "decode_run", "PnsTower", "open_url",
]

PNS_PORT = 10000
ACK, NAK = 0x06, 0x15
PRODUCT = b"AB"
RUN, CLEAR, GET = 0x53, 0x43, 0x47
HEADER = struct.Struct(">2sBBH")  # category, command, spare, data size
RUN_SIZE = 6
NO_CHANGE = 9

_LED = {"off": 0, "on": 1, "flash": 2}
_BUZZER = {False: 0, True: 1}


def frame(command: int, data: bytes = b"") -> bytes:
    return HEADER.pack(PRODUCT, command, 0, len(data)) + data


def encode_run(state: TowerState) -> bytes:
    """The 'S' (operation control) frame for ``state``."""
    data = bytes([_LED[state.red], _LED[state.amber], _LED[state.green], NO_CHANGE, NO_CHANGE,
                  _BUZZER[state.buzzer]])
    return frame(RUN, data)


def _mode(value: int, current: str) -> str | None:
    if value == 0:
        return "off"
    if value == 1:
        return "on"
    if 2 <= value <= 7:
        return "flash"
    if value == NO_CHANGE:
        return current
    return None


def decode_run(data: bytes, state: TowerState) -> TowerState | None:
    """Apply 'S' data (or a 'G' reply) to ``state``; None if a value is out of range."""
    if len(data) != RUN_SIZE:
        return None
    lamps = [_mode(value, state.lamp(lamp)) for value, lamp in zip(data[:3], ("red", "amber", "green"))]
    if None in lamps or any(v not in (0, 1, 2, 3, 4, 5, 6, 7, NO_CHANGE) for v in data[3:5]):
        return None
    buzzer = {0: False, NO_CHANGE: state.buzzer}.get(data[5], True)
    if data[5] > NO_CHANGE:
        return None
    return TowerState(lamps[0], lamps[1], lamps[2], buzzer)


class PnsTower(Tower):
    """An LR5-LAN on the network; one TCP connection, re-opened once if it dropped."""

    model = "patlite-lr5-lan"

    def __init__(self, host: str, port: int = PNS_PORT, *, url: str = "", timeout: float = 1.0) -> None:
        super().__init__()
        self.url = url or f"tcp://{host}:{port}"
        self.address = (host, port)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._connect()

    def _connect(self) -> None:
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
        except OSError as exc:
            raise TowerError(f"{self.url}: cannot connect: {exc.strerror or exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a command is one small frame
        self._sock = sock

    def _exchange(self, request: bytes, reply_size: int) -> bytes:
        """Send one frame and read its reply; reconnect and retry once on a dropped link."""
        for attempt in (1, 2):
            try:
                if self._sock is None:
                    self._connect()
                assert self._sock is not None
                self._sock.sendall(request)
                return self._read_reply(reply_size)
            except TowerError:
                raise
            except OSError as exc:
                self._drop()
                if attempt == 2:
                    raise TowerError(f"{self.url}: no answer: {exc.strerror or exc}") from exc
        raise AssertionError("unreachable")

    def _read_reply(self, size: int) -> bytes:
        assert self._sock is not None
        reply = b""
        while len(reply) < size:
            chunk = self._sock.recv(size - len(reply))
            if not chunk:
                raise ConnectionResetError("tower closed the connection")
            reply += chunk
            if reply[:1] == bytes([NAK]):
                raise TowerError(f"{self.url}: tower refused the command (NAK)")
        return reply

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send(self, previous: TowerState | None, state: TowerState) -> None:
        if previous == state:
            return
        reply = self._exchange(encode_run(state), 1)
        if reply[0] != ACK:
            raise TowerError(f"{self.url}: unexpected reply 0x{reply[0]:02x} (want ACK 0x06)")

    def read(self) -> TowerState | None:
        reply = self._exchange(frame(GET), RUN_SIZE)
        state = decode_run(reply, TowerState())
        if state is None:
            raise TowerError(f"{self.url}: malformed status reply {reply.hex()}")
        return state

    def close(self) -> None:
        self._drop()


def open_url(url: str, **options) -> PnsTower:
    """``tcp://192.168.10.1:10000`` (port defaults to 10000)."""
    parts = urlsplit(url)
    try:
        port = parts.port or PNS_PORT
    except ValueError:
        raise TowerError(f"{url}: bad port") from None
    if not parts.hostname:
        raise TowerError(f"{url}: no host (tcp://HOST:10000)")
    return PnsTower(parts.hostname, port, url=url, **options)
