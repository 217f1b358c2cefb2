"""Tower emulators: each speaks one family's bytes and records lamps and buzzer over time.

- :class:`AdafruitEmulator`: a pty whose slave path (a stable symlink, like a udev
  ``/dev/serial/by-id`` link) is the tower's serial port.
- :class:`HidrawEmulator`: a FIFO standing in for ``/dev/hidrawN`` of a Patlite
  LR6-USB or NE-USB; each 9-byte write is one report.
- :class:`PnsEmulator`: a Patlite LR5-LAN on ``127.0.0.1`` (port 0 picks a free one)
  answering PNS frames with ACK/NAK and status.

Each runs one background thread and keeps a :class:`TowerRecorder`: every command
with its arrival time and the state after it.  ``unplug()`` makes the device vanish
the way the real one does (EIO on the tty, EPIPE on the hidraw node, connection reset
on the network) and ``plug()`` brings it back at the same address.  Tests, the demo
and HIL rigs use them; nothing in the service does.
"""
from __future__ import annotations

import os
import selectors
import socket
import struct
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.tower import adafruit, patlite_pns, patlite_usb
from drivers.tower.interface import TowerState

__all__ = ["TowerChange", "TowerRecorder", "AdafruitEmulator", "HidrawEmulator", "PnsEmulator"]


@dataclass(frozen=True)
class TowerChange:
    t: float            # clock time the command arrived
    state: TowerState   # lamps and buzzer after it
    frame: bytes        # the command bytes that changed the state

    def as_dict(self) -> dict:
        return {"t": self.t, **self.state.as_dict(), "frame": self.frame.hex()}


class TowerRecorder:
    """What a tower was told and when: thread-safe, with waits for tests.

    ``clock`` is any zero-argument callable returning seconds (``time.monotonic`` by
    default; the demo passes its simulated clock's ``now``).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, initial: TowerState = TowerState()) -> None:
        self.clock = clock
        self._state = initial
        self._changes: list[TowerChange] = []
        self._frames: list[tuple[float, bytes]] = []
        self.malformed = 0
        self._cond = threading.Condition()

    @property
    def state(self) -> TowerState:
        with self._cond:
            return self._state

    @property
    def changes(self) -> list[TowerChange]:
        with self._cond:
            return list(self._changes)

    @property
    def frames(self) -> list[tuple[float, bytes]]:
        """Every well-formed command received, changed state or not."""
        with self._cond:
            return list(self._frames)

    def command(self, frame: bytes, new_state: TowerState | None) -> None:
        """Record one received command; ``new_state`` None means it was malformed."""
        t = self.clock()
        with self._cond:
            if new_state is None:
                self.malformed += 1
            else:
                self._frames.append((t, frame))
                if new_state != self._state:
                    self._state = new_state
                    self._changes.append(TowerChange(t, new_state, frame))
            self._cond.notify_all()

    def power_on(self) -> None:
        """The device was (re)connected: every lamp off, the buzzer silent."""
        with self._cond:
            if self._state != TowerState():
                self._state = TowerState()
                self._changes.append(TowerChange(self.clock(), self._state, b""))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[TowerState], bool], timeout: float = 5.0) -> TowerState | None:
        """Block until the state satisfies ``predicate``; the state, or None on timeout."""
        with self._cond:
            if self._cond.wait_for(lambda: predicate(self._state), timeout):
                return self._state
            return None

    def wait_frames(self, count: int, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self._frames) + self.malformed >= count, timeout)


class _Emulator:
    """One thread serving one device through a selector, with a wake pipe to stop it."""

    def __init__(self, recorder: TowerRecorder | None, clock: Callable[[], float]) -> None:
        self.recorder = recorder or TowerRecorder(clock)
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._closing:
            for key, _ in self._selector.select():
                if key.data is None:
                    os.read(self._wake_r, 64)
                    continue
                with self._lock:
                    if self._selector.get_map().get(key.fileobj) is key:  # not unplugged meanwhile
                        key.data(key)

    def _call_in_thread_safe(self, func: Callable[[], None]) -> None:
        """Run ``func`` under the lock the serving thread takes, then wake the thread."""
        with self._lock:
            func()
        os.write(self._wake_w, b"!")

    @property
    def state(self) -> TowerState:
        return self.recorder.state

    def _scratch_path(self, name: str) -> str:
        """A path in a private temporary directory removed by close()."""
        self._tmp = tempfile.TemporaryDirectory(prefix="qbox-tower-")
        return str(Path(self._tmp.name) / name)

    def unplug(self) -> None:
        """The device is pulled and vanishes the way the real one does: EIO on the tty,
        EPIPE on the hidraw node, connection reset on the network."""
        self._call_in_thread_safe(self._release)

    def plug(self) -> None:
        """Plugged back in at the same address, powered up with every lamp off."""
        def replug() -> None:
            self._release()
            self._plug()
            self.recorder.power_on()
        self._call_in_thread_safe(replug)

    def close(self) -> None:
        self._closing = True
        os.write(self._wake_w, b"!")
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        with self._lock:
            self._release()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        if self._tmp is not None:
            self._tmp.cleanup()

    def _plug(self) -> None:
        """Create the device side (called with the lock held, or before the thread runs)."""
        raise NotImplementedError

    def _release(self) -> None:
        """Close the device side (called with the lock held)."""
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _unregister(selector: selectors.BaseSelector, fileobj) -> None:
    try:
        selector.unregister(fileobj)
    except (KeyError, ValueError):
        pass


class AdafruitEmulator(_Emulator):
    """An Adafruit 5125 on a pty; ``url`` is ``serial://LINK?baud=9600``."""

    def __init__(self, link: str | os.PathLike | None = None, *, clock: Callable[[], float] = time.monotonic,
                 recorder: TowerRecorder | None = None) -> None:
        super().__init__(recorder, clock)
        self.link = str(link) if link is not None else self._scratch_path("ttyUSB-tower")
        self._master = self._slave = -1
        self._plug()
        self._start()

    @property
    def url(self) -> str:
        return f"serial://{self.link}?baud={adafruit.BAUD}"

    def _plug(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # 0x11/0x13 are commands here, not XON/XOFF
        os.set_blocking(self._master, False)
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(self._slave), self.link)
        self._selector.register(self._master, selectors.EVENT_READ, self._on_readable)

    def _on_readable(self, key) -> None:
        try:
            data = os.read(self._master, 256)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        # Bytes that arrive together are one burst from one set(): record its end state,
        # not the millisecond-long steps between (each byte is one lamp).
        state = self.recorder.state
        good = bytearray()
        for byte in data:
            after = adafruit.decode_byte(byte, state)
            if after is None:
                self.recorder.command(bytes([byte]), None)
            else:
                state = after
                good.append(byte)
        if good:
            self.recorder.command(bytes(good), state)

    def _release(self) -> None:
        if self._master >= 0:
            _unregister(self._selector, self._master)
            os.close(self._master)
            os.close(self._slave)
            self._master = self._slave = -1
        if os.path.lexists(self.link):
            os.unlink(self.link)


class HidrawEmulator(_Emulator):
    """A Patlite LR6-USB or NE-USB behind a FIFO standing in for ``/dev/hidrawN``."""

    def __init__(self, path: str | os.PathLike | None = None, model: str = "lr6", *,
                 clock: Callable[[], float] = time.monotonic, recorder: TowerRecorder | None = None) -> None:
        super().__init__(recorder, clock)
        if model not in ("lr6", "ne"):
            raise ValueError(f"unknown Patlite USB model {model!r} (lr6, ne)")
        self.model = model
        self._decode = patlite_usb.decode_lr6 if model == "lr6" else patlite_usb.decode_ne
        self.path = str(path) if path is not None else self._scratch_path("hidraw0")
        self._fd = -1
        self._pending = b""
        self._plug()
        self._start()

    @property
    def url(self) -> str:
        return f"hidraw://{self.path}?model={self.model}"

    def _plug(self) -> None:
        if not os.path.exists(self.path):
            os.mkfifo(self.path, 0o600)
        # O_RDWR keeps a writer on the FIFO so an idle tower does not read as EOF.
        self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._pending = b""
        self._selector.register(self._fd, selectors.EVENT_READ, self._on_readable)

    def _on_readable(self, key) -> None:
        try:
            self._pending += os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        size = patlite_usb.WRITE_SIZE
        while len(self._pending) >= size:
            write, self._pending = self._pending[:size], self._pending[size:]
            report = write[1:]
            state = self._decode(report, self.recorder.state) if write[0] == 0 else None
            self.recorder.command(write, state)

    def _release(self) -> None:
        if self._fd >= 0:
            _unregister(self._selector, self._fd)
            os.close(self._fd)
            self._fd = -1
        if os.path.exists(self.path):
            os.unlink(self.path)


class PnsEmulator(_Emulator):
    """A Patlite LR5-LAN answering PNS on ``host:port`` (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: Callable[[], float] = time.monotonic,
                 recorder: TowerRecorder | None = None) -> None:
        super().__init__(recorder, clock)
        self.host = host
        self.port = port
        self.nak_next = 0           # refuse this many further commands (tests)
        self._listener: socket.socket | None = None
        self._clients: dict[socket.socket, bytearray] = {}
        self._plug()
        self._start()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def _plug(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(4)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, self._on_accept)

    def _on_accept(self, key) -> None:
        try:
            conn, _ = key.fileobj.accept()
        except OSError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._clients[conn] = bytearray()
        self._selector.register(conn, selectors.EVENT_READ, self._on_client)

    def _on_client(self, key) -> None:
        conn = key.fileobj
        try:
            data = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        buffer = self._clients[conn]
        buffer += data
        while len(buffer) >= patlite_pns.HEADER.size:
            category, command, _, size = patlite_pns.HEADER.unpack_from(buffer)
            if category != patlite_pns.PRODUCT:
                # Not a PNS frame: refuse it and drop what we hold (no way to resync).
                self.recorder.command(bytes(buffer), None)
                buffer.clear()
                self._reply(conn, bytes([patlite_pns.NAK]))
                return
            end = patlite_pns.HEADER.size + size
            if len(buffer) < end:
                return
            request = bytes(buffer[:end])
            del buffer[:end]
            self._reply(conn, self._answer(command, request, request[patlite_pns.HEADER.size:]))

    def _answer(self, command: int, request: bytes, data: bytes) -> bytes:
        nak = bytes([patlite_pns.NAK])
        if self.nak_next > 0:
            self.nak_next -= 1
            self.recorder.command(request, None)
            return nak
        if command == patlite_pns.GET and not data:
            state = self.recorder.state
            return patlite_pns.encode_run(state)[patlite_pns.HEADER.size:]
        if command == patlite_pns.CLEAR and not data:
            self.recorder.command(request, TowerState())
            return bytes([patlite_pns.ACK])
        if command == patlite_pns.RUN:
            state = patlite_pns.decode_run(data, self.recorder.state)
            self.recorder.command(request, state)
            return bytes([patlite_pns.ACK]) if state is not None else nak
        self.recorder.command(request, None)
        return nak

    def _reply(self, conn: socket.socket, reply: bytes) -> None:
        try:
            conn.sendall(reply)
        except OSError:
            self._drop(conn)

    def _drop(self, conn: socket.socket) -> None:
        _unregister(self._selector, conn)
        self._clients.pop(conn, None)
        conn.close()

    def _release(self) -> None:
        for conn in list(self._clients):
            # RST rather than FIN: a pulled network cable does not say goodbye.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._drop(conn)
        if self._listener is not None:
            _unregister(self._selector, self._listener)
            self._listener.close()
            self._listener = None
