"""Run a qbox Stack against libpri, in lockstep virtual time.

libpri runs in ``libpri_peer`` (libpri_peer.c, compiled by the ``libpri_peer_binary``
fixture) over one end of a SOCK_SEQPACKET socketpair; the Stack sends and receives on
the other end.  Both clocks are virtual: the qbox side's ManualClock and libpri's
gettimeofday() move together, to whichever side's next timer is due first, so a
T309 of 90 seconds takes milliseconds and every run is the same.

``cut = True`` drops frames in both directions (a broken D-channel) until it is
set back to False.
"""
from __future__ import annotations

import os
import select
import socket
import subprocess
from pathlib import Path

from appliance.isdn.pcap import PcapWriter
from appliance.isdn.stack import Stack
from drivers.clock import ManualClock

__all__ = ["LibpriSession", "PeerEvent"]


_TEXT_KEYS = {"called", "calling", "digits", "text"}


class PeerEvent(dict):
    """``event ring id=3 channel=1 ...`` as {"event": "ring", "id": 3, ...}."""

    @classmethod
    def parse(cls, line: str) -> "PeerEvent":
        words = line.split()
        event = cls(event=words[1])
        for word in words[2:]:
            key, _, value = word.partition("=")
            numeric = key not in _TEXT_KEYS and value.lstrip("-").isdigit()
            event[key] = int(value) if numeric else value
        return event


class LibpriSession:
    def __init__(self, binary: Path, tmp_path: Path, qbox_role: str, variant: str = "euroisdn",
                 peer_timers: dict[str, int] | None = None, **stack_options) -> None:
        peer_role = "cpe" if qbox_role == "network" else "network"
        self.clock = ManualClock()
        self._ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._ours.setblocking(False)
        self.log_path = tmp_path / f"libpri-{peer_role}.log"
        self._log = open(self.log_path, "w")
        env = dict(os.environ, LIBPRI_DEBUG="1")
        self._proc = subprocess.Popen(
            [str(binary), peer_role, variant, str(theirs.fileno())], pass_fds=[theirs.fileno()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env)
        theirs.close()
        self._pending = b""
        self._expect_ok()
        self.events: list = []          # qbox CallEvents, in order
        self.peer_events: list[PeerEvent] = []
        self.on_event = None            # optional hook: f(event) for qbox events
        self.on_peer_event = None       # optional hook: f(peer_event)
        self.cut = False
        self._sent = False
        self.pcap_path = tmp_path / f"qbox-{qbox_role}.pcap"
        self._capture = PcapWriter(self.pcap_path, we_network=qbox_role == "network")
        for name, ms in (peer_timers or {}).items():
            self.command(f"timer {name} {ms}")
        self.stack = Stack(qbox_role, self._send, self.clock, on_event=self._event, variant=variant,
                           strict=True, capture=self._capture, **stack_options)

    # -- plumbing -----------------------------------------------------------------------

    def _send(self, frame: bytes) -> None:
        if not self.cut:
            self._ours.send(frame)
            self._sent = True

    def _event(self, event) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def _readline(self) -> str:
        # Our own line buffer over the raw pipe: select() on a buffered reader would
        # miss lines already read into the buffer.
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], 10)
            if not ready:
                raise TimeoutError(f"libpri_peer did not answer; see {self.log_path}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"libpri_peer exited ({self._proc.poll()}); see {self.log_path}")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode().strip()

    def _expect_ok(self) -> list[str]:
        out = []
        while (line := self._readline()) != "ok":
            if line.startswith("event "):
                event = PeerEvent.parse(line)
                self.peer_events.append(event)
                if self.on_peer_event is not None:
                    self.on_peer_event(event)
            else:
                out.append(line)
        return out

    def command(self, line: str) -> list[str]:
        """Send one harness command; its non-event output lines."""
        self._proc.stdin.write(line.encode() + b"\n")
        self._proc.stdin.flush()
        out = self._expect_ok()
        errors = [o for o in out if o.startswith("error")]
        if errors:
            raise RuntimeError(f"libpri_peer: {errors}")
        return out

    def settle(self) -> None:
        """Pass frames both ways until neither side has anything more to say."""
        for _ in range(10_000):
            moved = False
            while True:
                try:
                    frame = self._ours.recv(512)
                except BlockingIOError:
                    break
                moved = True
                if not self.cut:
                    self.stack.receive_frame(frame)
            if self._sent:
                self._sent = False
                moved = True
                self.command("poll")
            if not moved:
                return
        raise RuntimeError("the two stacks never went quiet")

    def _peer_next(self) -> float | None:
        ms = int(self.command("next")[0].split()[1])
        return None if ms < 0 else ms / 1000

    def run(self, seconds: float = 0.0) -> None:
        """Let ``seconds`` of virtual time pass on both sides, firing timers in order."""
        target = self.clock.now() + seconds
        for _ in range(100_000):
            self.settle()
            due = [t for t in (self.clock.next_due(), self._peer_next()) if t is not None]
            when = min(due) if due else None
            if when is None or when > target:
                break
            when = max(when, self.clock.now())
            self.clock.advance_to(when)
            self.command(f"time {round(when * 1000)}")
        self.clock.advance_to(target)
        self.command(f"time {round(target * 1000)}")
        self.settle()

    # -- what happened ------------------------------------------------------------------

    def kinds(self, call=None) -> list[str]:
        return [e.kind for e in self.events if call is None or e.call is call]

    def last(self, kind: str, call=None):
        for event in reversed(self.events):
            if event.kind == kind and (call is None or event.call is call):
                return event
        raise AssertionError(f"no qbox event {kind!r}; got {self.kinds()}")

    def peer(self, name: str, **match) -> PeerEvent:
        for event in reversed(self.peer_events):
            if event["event"] == name and all(event.get(k) == v for k, v in match.items()):
                return event
        raise AssertionError(f"no libpri event {name} {match}; got {self.peer_events}")

    def close(self) -> None:
        try:
            if self._proc.stdin:
                self._proc.stdin.close()
            self._proc.wait(timeout=5)
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            self._ours.close()
            self._capture.close()
            self._log.close()
            self.stack.close()
