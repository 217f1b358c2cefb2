"""The far end of every simulated span: the exchange or agent PBX, and the line to it.

A :class:`FarEnd` serves a directory of Unix sockets (see :mod:`.wire`) that the
near end (:mod:`.nearend`, the appliance's DAHDI backend) connects to.  It holds
the line model of each span (:class:`~.line.SpanLine`: faults, alarms, counters)
and the FXS ports, answers status requests the way ``/proc/dahdi`` would, and
paces the media: every 20 ms of clock time each span with an open media path
delivers one block to the near end.

Whoever holds the far end (``qbox sim run``, a HIL bench, a test) uses the Python
API: :meth:`FarEnd.span` gives a :class:`FarSpan` (D-channel frames and media to and
from the near end, faults), :meth:`FarEnd.port` a :class:`FarPort` (the agent's
phone).  The API is thread-safe: the sockets are served on a thread of their own
(:meth:`FarEnd.start`) or in the foreground (:meth:`FarEnd.serve_forever`).

Time: with no clock given, the server drives a :class:`~drivers.clock.ManualClock`
from the monotonic clock (real time).  Given a ManualClock, only :meth:`FarEnd.advance`
(or the ``advance`` control request) moves time, so an hour of line time takes as
long as the work in it.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import queue
import selectors
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from drivers.clock import ManualClock
from drivers.dahdi.interface import (
    BLOCK_SAMPLES, IDLE_CODE, Alarm, ChannelEvent, ChannelStatus, DahdiError, EventType, HookOp, SpanStatus,
)
from drivers.dahdi.sim import wire
from drivers.dahdi.sim.line import Fault, FaultKind, SpanLine, parse_fault
from drivers.dahdi.sim.ports import FxsPort
from drivers.dahdi.sim.spec import SIGNALLING_TEXT, LineTiming, PortSpec, SpanSpec
from drivers.dahdi.sim.wire import dahdi_error

__all__ = ["FarEnd", "FarSpan", "FarPort", "TICK"]

log = logging.getLogger(__name__)

TICK = BLOCK_SAMPLES / 8000          # one 20 ms block
_AIS_CODE = 0xFF                     # all ones
_MAX_FRAME = 1024                    # longer than any LAPD frame (N201 = 260)
_INBOX_FRAMES = 1000                 # what the far end keeps unread before dropping the oldest
_INBOX_BLOCKS = 50                   # one second of media
_OUTBOX_BLOCKS = 500                 # ten seconds queued toward the near end
_MAX_SOCKET_PATH = 107                # sun_path is 108 bytes with its NUL
_EVENT_BACKLOG = 10_000                # events kept for a near end that is not reading
_ALARM_STATES = Alarm.RED | Alarm.BLUE | Alarm.YELLOW | Alarm.LOOPBACK | Alarm.RECOVER | Alarm.NOTOPEN
_DAMAGE_STAT = {EventType.BADFCS: "bad_fcs", EventType.ABORT: "aborts"}   # line_report counters


class _Link:
    """One near-end connection carrying data: a D-channel, a span's media, or one channel.

    Data a near end does not read in time is dropped and counted (a DAHDI overrun);
    events are never dropped: they wait in ``backlog`` until the socket has room,
    and ``watch_writable`` asks the server to say when it has.
    """

    def __init__(self, sock: socket.socket, kind: str, span: int, channos: tuple[int, ...],
                 watch_writable: Callable[["_Link", bool], None]) -> None:
        self.sock = sock
        self.kind = kind
        self.span = span
        self.channos = channos
        self.watch_writable = watch_writable
        self.backlog: collections.deque[bytes] = collections.deque(maxlen=_EVENT_BACKLOG)
        self.watching = False
        self.overruns = 0

    def send(self, message: bytes) -> bool:
        if self.backlog and not self.flush():
            self.overruns += 1
            return False
        try:
            self.sock.send(message, socket.MSG_DONTWAIT)
            return True
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            self.overruns += 1
            return False

    def send_event(self, channo: int, kind: EventType) -> None:
        self.backlog.append(wire.pack_event(ChannelEvent(channo=channo, type=kind, span=self.span)))
        self.flush()

    def flush(self) -> bool:
        """Send the events that waited; False if some still wait (the server watches for room)."""
        while self.backlog:
            try:
                self.sock.send(self.backlog[0], socket.MSG_DONTWAIT)
            except BlockingIOError:
                self.watch_writable(self, True)
                return False
            except (BrokenPipeError, ConnectionResetError):
                self.backlog.clear()      # the near end has gone; the server notices on its next read
                break
            self.backlog.popleft()
        if self.watching:
            self.watch_writable(self, False)
        return True


class _Inbox:
    """What the near end sent and the far end has not read yet, oldest dropped when full."""

    def __init__(self, size: int) -> None:
        self._queue: queue.Queue[bytes] = queue.Queue(size)
        self.dropped = 0

    def put(self, item: bytes) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float | None) -> bytes | None:
        try:
            if timeout == 0:
                return self._queue.get_nowait()
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class FarSpan:
    """The far end of one digital span: its D-channel, its media and its line."""

    def __init__(self, farend: "FarEnd", spec: SpanSpec) -> None:
        self._farend = farend
        self.spec = spec
        self.number = spec.number
        self.line = SpanLine(spec, farend.clock, farend.timing, farend._alarm_changed)
        self.frames = _Inbox(_INBOX_FRAMES)
        self.media = _Inbox(_INBOX_BLOCKS)
        self.outbox: collections.deque[bytes] = collections.deque(maxlen=_OUTBOX_BLOCKS)
        self.dchan_link: _Link | None = None
        self.media_link: _Link | None = None
        self.channel_links: dict[int, _Link] = {}      # B-channels opened one by one
        self.pending: dict[int, collections.deque[bytes]] = {}   # their blocks from the near end, in order
        self.block_size = len(spec.bchannel_channos) * BLOCK_SAMPLES
        self.idle = bytes([IDLE_CODE[spec.law]]) * BLOCK_SAMPLES
        self.stats: collections.Counter[str] = collections.Counter()

    # -- the far end's side ---------------------------------------------------------

    def send_frame(self, frame: bytes) -> None:
        """Transmit one LAPD frame (no FCS) toward the near end's D-channel."""
        frame = bytes(frame)
        if not 0 < len(frame) <= _MAX_FRAME:
            raise ValueError(f"a D-channel frame is 1-{_MAX_FRAME} bytes, not {len(frame)}")
        with self._farend._lock:
            self._farend._frame_to_near(self, frame)

    def recv_frame(self, timeout: float | None = 0) -> bytes | None:
        """The next frame the near end sent (waiting up to ``timeout`` s; None waits forever)."""
        return self.frames.get(timeout)

    def send_media(self, block: bytes) -> None:
        """Queue one 20 ms block for every B-channel (channel-major, the line's G.711 law)."""
        block = bytes(block)
        if len(block) != self.block_size:
            raise ValueError(f"span {self.number}: a block is {self.block_size} bytes "
                             f"({len(self.spec.bchannel_channos)} channels x {BLOCK_SAMPLES}), not {len(block)}")
        with self._farend._lock:
            self.outbox.append(block)

    def recv_media(self, timeout: float | None = 0) -> bytes | None:
        """The next whole-span block the near end sent."""
        return self.media.get(timeout)

    def inject(self, fault: str | Fault) -> None:
        self._farend.inject(self.number, fault)

    @property
    def near_alarms(self) -> Alarm:
        return self.line.near_alarms

    @property
    def far_alarms(self) -> Alarm:
        return self.line.far_alarms

    # -- server internals -------------------------------------------------------------

    def links(self) -> list[_Link]:
        found = [l for l in (self.dchan_link, self.media_link) if l is not None]
        return found + list(self.channel_links.values())

    def has_media(self) -> bool:
        return self.media_link is not None or bool(self.channel_links)


class FarPort:
    """The agent's phone on one FXS port: lift, hang up, flash, and its audio."""

    def __init__(self, farend: "FarEnd", spec: PortSpec) -> None:
        self._farend = farend
        self.spec = spec
        self.channo = spec.channo
        self.phone = FxsPort(spec, lambda kind: farend._port_event(self, kind), farend.clock)
        self.link: _Link | None = None
        self.audio = _Inbox(_INBOX_BLOCKS)
        self.outbox: collections.deque[bytes] = collections.deque(maxlen=_OUTBOX_BLOCKS)
        self.idle = bytes([IDLE_CODE[spec.law]]) * BLOCK_SAMPLES

    def lift(self) -> None:
        with self._farend._lock:
            self.phone.lift()

    def hang_up(self) -> None:
        with self._farend._lock:
            self.phone.hang_up()

    def flash(self) -> None:
        with self._farend._lock:
            self.phone.flash()

    @property
    def ringing(self) -> bool:
        """The bell sounds now (a burst of the zone's cadence, not the silence between)."""
        return self.phone.ringing

    @property
    def alerting(self) -> bool:
        """A ring cycle runs: bursts and silences until answered or stopped."""
        return self.phone.alerting

    @property
    def state(self) -> str:
        return self.phone.state

    @property
    def off_hook(self) -> bool:
        return self.phone.off_hook

    def send_audio(self, block: bytes) -> None:
        block = bytes(block)
        if len(block) != BLOCK_SAMPLES:
            raise ValueError(f"channel {self.channo}: a block is {BLOCK_SAMPLES} bytes, not {len(block)}")
        with self._farend._lock:
            self.outbox.append(block)

    def recv_audio(self, timeout: float | None = 0) -> bytes | None:
        return self.audio.get(timeout)


class FarEnd:
    """Serves simulated spans and FXS ports to near ends over Unix sockets in ``directory``."""

    def __init__(self, directory: str | Path, spans: Iterable[SpanSpec], ports: Iterable[PortSpec] = (), *,
                 clock: ManualClock | None = None, timing: LineTiming = LineTiming()) -> None:
        self.directory = Path(directory)
        self.realtime = clock is None
        self.clock = clock if clock is not None else ManualClock()
        self.timing = timing
        self._lock = threading.RLock()
        self._spans = {s.number: FarSpan(self, s) for s in sorted(spans, key=lambda s: s.number)}
        if not self._spans:
            raise ValueError("a simulator needs at least one span")
        self._ports = {p.channo: FarPort(self, p) for p in sorted(ports, key=lambda p: p.channo)}
        self.analog_span = max(self._spans) + 1 if self._ports else None
        # The FXS card holds every channel from its first port to its last: one no port
        # configures is there but unconfigured, as a card's channel left out of system.conf.
        self._card_channos = range(min(self._ports), max(self._ports) + 1) if self._ports else range(0)
        self._channels = {c: s for s in self._spans.values() for c in s.spec.channos}
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._socket_paths: list[Path] = []
        self._conns: set[socket.socket] = set()
        self._ticking: set[int] = set()
        self._origin = time.monotonic() - self.clock.now()   # real time -> clock time
        self._bound = False
        self._serving = False
        self._closed = False
        self._finished = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.stats: collections.Counter[str] = collections.Counter()

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> "FarEnd":
        """Bind the sockets and serve them on a background thread."""
        if self._thread is not None:
            # a second thread on the same selector would close it under the first
            raise RuntimeError(f"the simulator at {self.directory} is already serving")
        self.bind()
        self._thread = threading.Thread(target=self._serve, name=f"qbox-sim:{self.directory}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Bind the sockets and serve them in this thread until :meth:`stop`."""
        self.bind()
        try:
            self._serve()
        finally:
            self._close_wake()

    def stop(self) -> None:
        """Stop serving, close every connection and remove the sockets.  Safe from a signal handler."""
        self._stopping = True
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
            self._thread = None
        if not self._serving:
            self._close_all()
            self._close_wake()

    def __enter__(self) -> "FarEnd":
        return self if self._thread is not None else self.start()     # `with FarEnd(...).start():` too

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- the far end's API ----------------------------------------------------------

    @property
    def span_numbers(self) -> list[int]:
        return list(self._spans)

    def span(self, number: int) -> FarSpan:
        try:
            return self._spans[number]
        except KeyError:
            raise dahdi_error(errno.ENODEV, f"span {number} does not exist (spans: {_numbers(self._spans)})") from None

    def port(self, channo: int) -> FarPort:
        try:
            return self._ports[channo]
        except KeyError:
            raise dahdi_error(errno.ENODEV, f"channel {channo} is not an FXS port") from None

    def inject(self, span: int, fault: str | Fault) -> None:
        """Put a fault on a span's line (``"los"``, ``"ber:1e-5"``, ``"clear"``...)."""
        if isinstance(fault, str):
            fault = parse_fault(fault)
        with self._lock:
            self._sync_clock()
            far = self.span(span)
            log.info("fault span=%d fault=%s", span, fault)
            far.line.inject(fault)
        self._wake()

    def advance(self, seconds: float) -> None:
        """Move a manual clock forward, running the line (alarms, counters, media ticks) on the way."""
        if self.realtime:
            raise dahdi_error(errno.EPERM, "this simulator runs in real time; only a manual clock can be advanced")
        if not 0 <= seconds <= 366 * 86400:
            raise ValueError(f"cannot advance by {seconds} s (0 to one year)")
        with self._lock:
            self.clock.advance(seconds)

    def status(self, span: int, channels: bool = True) -> SpanStatus:
        """What the near end's ``/proc/dahdi/N`` would show (its channel rows only if asked)."""
        with self._lock:
            self._sync_clock()
            if span == self.analog_span:
                return self._analog_status(channels)
            return self._span_status(self.span(span), channels)

    def statuses(self, channels: bool = True) -> list[SpanStatus]:
        with self._lock:
            numbers = list(self._spans) + ([self.analog_span] if self.analog_span else [])
            return [self.status(n, channels) for n in numbers]

    def line_report(self, span: int) -> dict:
        """Both ends of one span's line, for ``qbox sim status``."""
        with self._lock:
            self._sync_clock()
            far = self.span(span)
            line = far.line
            return {
                "span": span,
                "type": far.spec.type,
                "near": line.near_alarms.names() or ["OK"],
                "far": line.far_alarms.names() or ["OK"],
                "faults": [str(f) for f in line.faults.values()],
                "counters": vars(line.counters()),
                "dchannel_open": far.dchan_link is not None,
                "media_open": far.media_link is not None,
                "dchannel": _dchannel_condition(line),
                "frames_dropped": far.stats["frames_dropped"],
                "bad_fcs": far.stats["bad_fcs"],
                "aborts": far.stats["aborts"],
                "near_bad_fcs": far.stats["near_bad_fcs"],
                "near_aborts": far.stats["near_aborts"],
            }

    def port_report(self, channo: int) -> dict:
        """One FXS port's phone for ``qbox sim status``: hook and ring state, zone, cadence."""
        with self._lock:
            self._sync_clock()
            port = self.port(channo)
            return {**port.phone.report(), "open": port.link is not None}

    # -- the line between the ends -----------------------------------------------------

    def _frame_to_near(self, far: FarSpan, frame: bytes) -> None:
        line = far.line
        if line.dchannel_down:                  # the far end's HDLC sends nothing, not even into a loop
            far.stats["frames_dropped"] += 1
            return
        if line.looped:
            far.frames.put(frame)               # a looped-up near end returns what it receives
        if not line.reaches_near or far.dchan_link is None:
            far.stats["frames_dropped"] += 1
            return
        damage = line.frame_damage(len(frame))
        if damage is None:
            far.dchan_link.send(wire.KIND_DATA + frame)
        else:                                   # DAHDI drops the frame and queues the event instead
            far.stats[_DAMAGE_STAT[damage]] += 1
            far.stats["near_" + _DAMAGE_STAT[damage]] += 1
            far.dchan_link.send_event(far.spec.dchannel_channo, damage)

    def _frame_to_far(self, far: FarSpan, frame: bytes) -> None:
        line = far.line
        if line.dchannel_down or not line.reaches_far:
            far.stats["frames_dropped"] += 1
            return
        damage = line.frame_damage(len(frame))
        if damage is None:
            far.frames.put(frame)
        else:                                   # the far end's receiver discards it
            far.stats[_DAMAGE_STAT[damage]] += 1

    def _alarm_changed(self, line: SpanLine, old: Alarm, new: Alarm) -> None:
        # DAHDI queues ALARM (or NOALARM once none is left) on every open channel of the span.
        log.info("alarms span=%d near=%s far=%s", line.spec.number,
                 ",".join(new.names()) or "OK", ",".join(line.far_alarms.names()) or "OK")
        kind = EventType.ALARM if new else EventType.NOALARM
        for link in self._spans[line.spec.number].links():
            for channo in link.channos:
                link.send_event(channo, kind)

    def _port_event(self, port: FarPort, kind: EventType) -> None:
        log.info("phone channel=%d event=%s", port.channo, kind.name)
        if port.link is not None:
            port.link.send_event(port.channo, kind)

    def _ensure_ticking(self, key: int) -> None:
        if key not in self._ticking:
            self._ticking.add(key)
            self.clock.call_later(TICK, self._tick, key, self.clock.now() + TICK)

    def _tick(self, key: int, due: float) -> None:
        """One 20 ms block each way for span ``key`` (or the FXS ports)."""
        if key == self.analog_span:
            busy = self._tick_ports()
        else:
            busy = self._tick_span(self._spans[key])
        if busy and not self._stopping:
            self.clock.call_at(due + TICK, self._tick, key, due + TICK)
        else:
            self._ticking.discard(key)

    def _tick_span(self, far: FarSpan) -> bool:
        if not far.has_media():
            return False
        line = far.line
        sent = far.outbox.popleft() if far.outbox else far.idle * len(far.spec.bchannel_channos)
        if line.looped:
            far.media.put(sent)
        if line.sending_ais:
            received = bytes([_AIS_CODE]) * far.block_size
        elif not line.reaches_near:
            received = far.idle * len(far.spec.bchannel_channos)
        else:
            received = sent
        if far.media_link is not None:
            far.media_link.send(wire.KIND_DATA + received)
        if far.channel_links:
            columns = dict(zip(far.spec.bchannel_channos,
                               (received[i:i + BLOCK_SAMPLES] for i in range(0, far.block_size, BLOCK_SAMPLES))))
            for channo, link in far.channel_links.items():
                link.send(wire.KIND_DATA + columns.get(channo, far.idle))
            self._read_channel_writes(far)
            written = b"".join(far.pending[c].popleft() if far.pending.get(c) else far.idle
                               for c in far.spec.bchannel_channos)
            if line.reaches_far:
                far.media.put(written)
        return True

    def _read_channel_writes(self, far: FarSpan) -> None:
        """Take in what the near end has written on the span's single B-channels.

        A write is complete once the near end's send() returns, and the tick runs on
        whichever thread moves the clock: reading here, rather than waiting for the
        server thread to be scheduled, is what makes a block go out on the next tick.
        """
        for link in list(far.channel_links.values()):
            while (message := _waiting_message(link.sock)) is not None:
                self._data_from_near(link, message)

    def _tick_ports(self) -> bool:
        busy = False
        for port in self._ports.values():
            if port.link is None:
                continue
            busy = True
            port.link.send(wire.KIND_DATA + (port.outbox.popleft() if port.outbox else port.idle))
        return busy

    # -- status -------------------------------------------------------------------------

    def _sync_source(self) -> int:
        """The span DAHDI would take timing from: best priority among spans not in alarm."""
        candidates = [(s.spec.timing, n) for n, s in self._spans.items()
                      if s.spec.timing and not s.line.near_alarms & (Alarm.RED | Alarm.BLUE | Alarm.LOOPBACK)]
        return min(candidates)[1] if candidates else 0

    def _span_status(self, far: FarSpan, with_channels: bool) -> SpanStatus:
        spec, alarms = far.spec, far.line.near_alarms
        channels = self._channel_rows(far) if with_channels else ()
        return SpanStatus(
            number=spec.number, name=spec.name,
            description=spec.description or f"qbox simulated {spec.type} span {spec.number}",
            type=spec.type, framing=spec.framing, coding=spec.coding, crc4=spec.crc4,
            alarms=alarms, counters=far.line.counters(), lbo=spec.lbo_text,
            sync_source=self._sync_source(), channels=channels,
        )

    @staticmethod
    def _channel_rows(far: FarSpan) -> tuple[ChannelStatus, ...]:
        spec, alarms = far.spec, far.line.near_alarms
        in_use = {c for link in far.links() for c in link.channos}
        return tuple(
            ChannelStatus(
                channo=channo, chanpos=pos, name=f"{spec.name}/{pos}",
                signalling=spec.signalling_of(channo),
                state="alarm" if alarms & _ALARM_STATES else ("in use" if channo in in_use else "idle"),
            )
            for pos, channo in enumerate(spec.channos, start=1)
        )

    def _analog_status(self, with_channels: bool) -> SpanStatus:
        channels = []
        for pos, channo in enumerate(self._card_channos if with_channels else (), start=1):
            port = self._ports.get(channo)
            if port is None:
                channels.append(ChannelStatus(channo=channo, chanpos=pos, name=f"SIM/FXS/{pos}",
                                              signalling="Unconfigured"))
                continue
            state = port.phone.state
            if state == "on-hook":
                state = "in use" if port.link is not None else "idle"
            elif state == "ring-pause":
                state = "ringing"      # the channel rings on through the silence between bursts
            channels.append(ChannelStatus(channo=port.channo, chanpos=pos, name=f"SIM/FXS/{pos}",
                                          signalling=SIGNALLING_TEXT[port.spec.signalling], state=state))
        groups = sorted({p.spec.group for p in self._ports.values() if p.spec.group})
        return SpanStatus(
            number=self.analog_span, name="SIM/FXS",
            description="qbox simulated FXS ports" + (f" ({', '.join(groups)})" if groups else ""),
            type="analog", framing="", coding="", lbo="", sync_source=self._sync_source(),
            channels=tuple(channels),
        )

    # -- sockets ----------------------------------------------------------------------

    def bind(self) -> None:
        """Create the sockets (done by start/serve_forever); DahdiError if another simulator serves here.

        A bind that fails stops the simulator: what it had created is closed again.
        """
        if self._bound:
            return
        try:
            self._bind()
        except BaseException:
            self.stop()
            raise

    def _bind(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        control = self.directory / wire.CONTROL
        if _someone_serves(control):
            raise dahdi_error(errno.EADDRINUSE, f"a simulator is already running in {self.directory}")
        listeners: list[tuple[Path, Callable[[socket.socket], None]]] = [
            (control, self._accept_control),
            (self.directory / wire.CHANNEL, lambda s: self._accept_data(s, "channel", None)),
        ]
        for number in self._spans:
            listeners.append((wire.dchan_socket(self.directory, number),
                              lambda s, n=number: self._accept_data(s, "dchan", n)))
            listeners.append((wire.media_socket(self.directory, number),
                              lambda s, n=number: self._accept_data(s, "media", n)))
        longest = max((path for path, _ in listeners), key=lambda p: len(os.fsencode(p)))
        if len(os.fsencode(longest)) > _MAX_SOCKET_PATH:
            raise dahdi_error(errno.ENAMETOOLONG, f"{longest}: longer than the {_MAX_SOCKET_PATH} bytes a Unix "
                                                  f"socket path may have; use a shorter directory")
        for path, on_ready in listeners:
            _remove_stale_socket(path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            sock.bind(os.fspath(path))
            sock.listen(16)
            sock.setblocking(False)
            self._socket_paths.append(path)
            self._selector.register(sock, selectors.EVENT_READ, on_ready)
        self._selector.register(self._wake_r, selectors.EVENT_READ, lambda fd: _drain(fd))
        with self._lock:
            for far in self._spans.values():
                far.line.start()
        self._bound = True
        log.info("serving dir=%s spans=%s ports=%d clock=%s", self.directory, _numbers(self._spans),
                 len(self._ports), "realtime" if self.realtime else "manual")

    def _sync_clock(self) -> None:
        """In real time, bring the clock (and every timer due by now) up to the present."""
        if self.realtime:
            self.clock.advance_to(time.monotonic() - self._origin)

    def _serve(self) -> None:
        self._serving = True
        try:
            while not self._stopping:
                timeout = None
                with self._lock:
                    self._sync_clock()
                    due = self.clock.next_due() if self.realtime else None
                if due is not None:
                    timeout = max(0.0, due - (time.monotonic() - self._origin))
                for key, _ in self._selector.select(timeout):
                    with self._lock:
                        self._sync_clock()
                        try:
                            key.data(key.fileobj)
                        except Exception:   # one bad connection must never stop the simulator
                            self.stats["handler_errors"] += 1
                            log.exception("handler failed fileobj=%r", key.fileobj)
                            if isinstance(key.fileobj, socket.socket) and key.fileobj in self._conns:
                                self._drop(key.fileobj)
        finally:
            self._serving = False
            self._close_all()

    def _wake(self) -> None:
        if self._closed:
            return
        try:
            os.write(self._wake_w, b"!")
        except BlockingIOError:
            pass   # already awake

    def _close_all(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            for sock in list(self._conns):
                self._drop(sock)
            for key in list(self._selector.get_map().values()):
                self._selector.unregister(key.fileobj)
                if isinstance(key.fileobj, socket.socket):
                    key.fileobj.close()
            for path in self._socket_paths:
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
            self._socket_paths.clear()
            self._selector.close()
            if self._bound:
                log.info("stopped dir=%s", self.directory)

    def _close_wake(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _accept(self, listener: socket.socket, on_message: Callable[[socket.socket], None]) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        self._conns.add(sock)
        self._selector.register(sock, selectors.EVENT_READ, on_message)

    def _receive(self, sock: socket.socket) -> bytes | None:
        """The next message, or None when the peer has gone (the connection is then dropped)."""
        try:
            message = sock.recv(wire.MAX_MESSAGE)
        except BlockingIOError:
            return b""
        except OSError:
            message = b""
        if not message:
            self._drop(sock)
            return None
        return message

    def _drop(self, sock: socket.socket) -> None:
        self._conns.discard(sock)
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        for far in self._spans.values():
            if far.dchan_link is not None and far.dchan_link.sock is sock:
                far.dchan_link = None
            if far.media_link is not None and far.media_link.sock is sock:
                far.media_link = None
            for channo, link in list(far.channel_links.items()):
                if link.sock is sock:
                    del far.channel_links[channo]
                    far.pending.pop(channo, None)
        for port in self._ports.values():
            if port.link is not None and port.link.sock is sock:
                port.link = None
                port.phone.hook(HookOp.RINGOFF)   # closing the channel stops the ringer
        sock.close()

    # -- control connections ----------------------------------------------------------

    def _accept_control(self, listener: socket.socket) -> None:
        self._accept(listener, self._on_control)

    def _on_control(self, sock: socket.socket) -> None:
        message = self._receive(sock)
        if not message:
            return
        try:
            request = wire.decode_json(message)
            handler = self._CONTROL_OPS.get(str(request.get("op")))
            if handler is None:
                reply = wire.error_reply(errno.EINVAL, f"unknown request {request.get('op')!r} "
                                                       f"(known: {', '.join(sorted(self._CONTROL_OPS))})")
            else:
                reply = {"ok": True, **(handler(self, request) or {})}
        except (ValueError, KeyError, TypeError) as exc:
            self.stats["bad_requests"] += 1
            reply = wire.error_reply(errno.EINVAL, f"bad request: {exc}")
        except DahdiError as exc:
            reply = wire.error_reply(exc.errno or errno.EIO, str(exc))
        try:
            sock.send(wire.encode_json(reply), socket.MSG_DONTWAIT)
        except OSError:
            self._drop(sock)

    def _op_hello(self, request: dict) -> dict:
        return {
            "version": wire.PROTOCOL_VERSION, "spans": list(self._spans), "analog_span": self.analog_span,
            "ports": list(self._ports), "clock": "realtime" if self.realtime else "manual",
            "now": self.clock.now(),
        }

    def _op_spans(self, request: dict) -> dict:
        return {"spans": [wire.status_to_wire(s) for s in self.statuses(bool(request.get("channels", True)))]}

    def _op_span(self, request: dict) -> dict:
        return {"status": wire.status_to_wire(self.status(int(request["span"]), bool(request.get("channels", True))))}

    def _op_line(self, request: dict) -> dict:
        numbers = [int(request["span"])] if "span" in request else list(self._spans)
        return {"lines": [self.line_report(n) for n in numbers]}

    def _op_fault(self, request: dict) -> dict:
        self.inject(int(request["span"]), str(request["fault"]))
        return {"line": self.line_report(int(request["span"]))}

    def _op_advance(self, request: dict) -> dict:
        self.advance(float(request["seconds"]))
        return {"now": self.clock.now()}

    def _op_ports(self, request: dict) -> dict:
        return {"ports": [self.port_report(c) for c in self._ports]}

    def _op_phone(self, request: dict) -> dict:
        port = self.port(int(request["channo"]))
        action = {"offhook": port.lift, "onhook": port.hang_up, "flash": port.flash}.get(request["action"])
        if action is None:
            raise ValueError(f"phone action {request['action']!r} is not offhook, onhook or flash")
        action()
        return {"state": port.phone.state}

    def _op_hook(self, request: dict) -> dict:
        channo, op = int(request["channo"]), HookOp(int(request["hook"]))
        port = self._ports.get(channo)
        if port is None:
            if channo in self._channels:
                raise dahdi_error(errno.EINVAL, f"channel {channo} is a clear channel: no hook signalling")
            raise self._cannot_open(channo)
        if port.link is None:
            raise dahdi_error(errno.EBADF, f"channel {channo} is not open")
        port.phone.hook(op)
        return {"state": port.phone.state}

    _CONTROL_OPS: dict[str, Callable[["FarEnd", dict], dict]] = {
        "hello": _op_hello, "spans": _op_spans, "span": _op_span, "line": _op_line,
        "fault": _op_fault, "advance": _op_advance, "phone": _op_phone, "hook": _op_hook, "ports": _op_ports,
    }

    # -- data connections -------------------------------------------------------------

    def _accept_data(self, listener: socket.socket, kind: str, span: int | None) -> None:
        self._accept(listener, lambda sock: self._on_open(sock, kind, span))

    def _on_open(self, sock: socket.socket, kind: str, span: int | None) -> None:
        """The near end's first message on a data connection: what it opens."""
        message = self._receive(sock)
        if not message:
            return
        try:
            request = wire.decode_json(message)
            link, reply = self._open(sock, kind, span, request)
        except (ValueError, KeyError, TypeError) as exc:
            link, reply = None, wire.error_reply(errno.EINVAL, f"bad open request: {exc}")
        except DahdiError as exc:
            link, reply = None, wire.error_reply(exc.errno or errno.EIO, str(exc))
        sock.send(wire.encode_json(reply), socket.MSG_DONTWAIT)
        if link is None:
            self._drop(sock)
            return
        self._selector.modify(sock, selectors.EVENT_READ, lambda s: self._on_data(s, link))
        link.flush()   # events raised between the open and now
        if link.kind != "dchan":
            self._ensure_ticking(self.analog_span if link.span == self.analog_span else link.span)
        log.info("open kind=%s span=%s channels=%s", kind, link.span, _numbers(link.channos))

    def _open(self, sock: socket.socket, kind: str, span: int | None, request: dict) -> tuple[_Link, dict]:
        if kind == "channel":
            return self._open_channel(sock, int(request["channo"]))
        far = self.span(span)
        if kind == "dchan":
            if far.spec.dchannel_channo is None:
                raise dahdi_error(errno.ENODEV, f"span {span} has no D-channel")
            if far.dchan_link is not None:
                raise dahdi_error(errno.EBUSY, f"span {span}: the D-channel is already open")
            far.dchan_link = _Link(sock, "dchan", far.number, (far.spec.dchannel_channo,), self._watch)
            return far.dchan_link, {"ok": True, "channo": far.spec.dchannel_channo}
        busy = sorted(far.channel_links)
        if far.media_link is not None or busy:
            raise dahdi_error(errno.EBUSY, f"span {span}: B-channels already open "
                                           f"({_numbers(busy) if busy else 'span media'})")
        far.media_link = _Link(sock, "media", far.number, far.spec.bchannel_channos, self._watch)
        return far.media_link, {"ok": True, "channels": list(far.spec.bchannel_channos), "law": far.spec.law}

    def _open_channel(self, sock: socket.socket, channo: int) -> tuple[_Link, dict]:
        port = self._ports.get(channo)
        if port is not None:
            if port.link is not None:
                raise dahdi_error(errno.EBUSY, f"channel {channo} is already open")
            port.link = _Link(sock, "channel", self.analog_span, (channo,), self._watch)
            return port.link, {"ok": True, "law": port.spec.law, "span": self.analog_span}
        far = self._channels.get(channo)
        if far is None:
            raise self._cannot_open(channo)
        if channo == far.spec.dchannel_channo:
            # The real backend's words, and DAHDI's EINVAL for audio calls on an HDLC channel.
            raise dahdi_error(errno.EINVAL, f"DAHDI channel {channo} is {far.spec.signalling_of(channo)}, "
                                            f"not a voice channel (open_dchannel({far.number}) opens it)")
        if far.media_link is not None or channo in far.channel_links:
            raise dahdi_error(errno.EBUSY, f"channel {channo} is already open")
        link = far.channel_links[channo] = _Link(sock, "channel", far.number, (channo,), self._watch)
        far.pending[channo] = collections.deque(maxlen=_INBOX_BLOCKS)
        return link, {"ok": True, "law": far.spec.law, "span": far.number}

    def _cannot_open(self, channo: int) -> DahdiError:
        """What DAHDI_SPECIFY answers for a channel no span or port configures, in the real
        backend's words: ENXIO for one on the FXS card but not configured, EINVAL for none."""
        if channo in self._card_channos:
            return dahdi_error(errno.ENXIO, f"DAHDI channel {channo} is not configured "
                                            f"(see the fxs channels of the box configuration)")
        return dahdi_error(errno.EINVAL, f"DAHDI channel {channo} does not exist")

    def _watch(self, link: _Link, writable: bool) -> None:
        """Have the selector report (or stop reporting) room to write on ``link``."""
        if link.watching != writable and link.sock in self._conns:
            mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if writable else 0)
            self._selector.modify(link.sock, mask, lambda s: self._on_data(s, link))
            link.watching = writable

    def _on_data(self, sock: socket.socket, link: _Link) -> None:
        if link.backlog:
            link.flush()
        message = self._receive(sock)
        if message:
            self._data_from_near(link, message)

    def _data_from_near(self, link: _Link, message: bytes) -> None:
        kind, payload = message[:1], message[1:]
        if kind != wire.KIND_DATA:
            self.stats["malformed"] += 1
            log.warning("malformed message kind=%r len=%d link=%s span=%s", kind, len(message), link.kind, link.span)
            return
        if link.kind == "dchan":
            if not 0 < len(payload) <= _MAX_FRAME:
                self.stats["malformed"] += 1
                return
            self._frame_to_far(self._spans[link.span], payload)
            return
        if link.span == self.analog_span:
            if len(payload) != BLOCK_SAMPLES:
                self.stats["malformed"] += 1
                return
            self._ports[link.channos[0]].audio.put(payload)
            return
        far = self._spans[link.span]
        if link.kind == "media":
            if len(payload) != far.block_size:
                self.stats["malformed"] += 1
                return
            if far.line.reaches_far:
                far.media.put(payload)
        else:
            if len(payload) != BLOCK_SAMPLES:
                self.stats["malformed"] += 1
                return
            blocks = far.pending[link.channos[0]]
            if len(blocks) == blocks.maxlen:
                far.stats["blocks_dropped"] += 1   # the oldest goes: a second of media is already waiting
            blocks.append(payload)


def _dchannel_condition(line: SpanLine) -> str:
    """``ok``, or the D-channel fault's mode (``down``, ``corrupt``, ``abort``)."""
    fault = line.faults.get(FaultKind.DCHAN)
    return "ok" if fault is None else fault.mode


def _numbers(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in values) or "none"


def _waiting_message(sock: socket.socket) -> bytes | None:
    """The next message already queued on ``sock``, else None.

    None also when the peer has gone: the server thread sees that and drops the connection.
    """
    try:
        return sock.recv(wire.MAX_MESSAGE, socket.MSG_DONTWAIT) or None
    except OSError:
        return None


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _someone_serves(path: Path) -> bool:
    try:
        wire.connect(path, timeout=1.0).close()
        return True
    except DahdiError:
        return False


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket left behind by a simulator that died; refuse to touch anything else."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise dahdi_error(errno.EEXIST, f"{path} exists and is not a socket")
    path.unlink()
