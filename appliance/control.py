"""The control API: JSON lines over a Unix socket (``/run/qbox/control.sock``, mode 0660).

Each request is one line ``{"id": 7, "cmd": "queues", "args": {...}}``; each answer is one
line ``{"id": 7, "ok": true, "result": ...}`` or ``{"id": 7, "ok": false, "error": "..."}``.
``{"cmd": "subscribe", "args": {"events": ["call.*"]}}`` turns the connection into a stream:
after the answer, every matching event arrives as ``{"event": ..., "time": ..., "data": ...}``.

A malformed line is answered with an error and the connection stays open; a line
longer than ``MAX_LINE`` closes it.  Nothing a client sends can stop the service.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from appliance.errors import BadInput, QboxError
from appliance.events import Event, EventBus

__all__ = ["ControlServer", "ControlClient", "DEFAULT_SOCKET", "MAX_LINE", "Handler"]

log = logging.getLogger(__name__)

DEFAULT_SOCKET = "/run/qbox/control.sock"
MAX_LINE = 1 << 20
Handler = Callable[[dict[str, Any]], Any | Awaitable[Any]]


class ControlServer:
    """Serves ``handlers`` (command name -> function of the args dict) on a Unix socket."""

    def __init__(self, path: str | Path, handlers: dict[str, Handler], bus: EventBus, mode: int = 0o660) -> None:
        self.path = Path(path)
        self.handlers = handlers
        self.bus = bus
        self.mode = mode
        self.errors = 0
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_socket():
            self.path.unlink()  # left by a previous run that was killed
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path), limit=MAX_LINE)
        os.chmod(self.path, self.mode)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._clients):
                writer.close()
            await self._server.wait_closed()
            self._server = None
        if self.path.is_socket():
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        subscription = None
        try:
            while True:
                try:
                    line = await reader.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    self.errors += 1
                    await self._send(writer, {"id": None, "ok": False, "error": f"line longer than {MAX_LINE} bytes"})
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                answer, events = await self._answer(line)
                if events is not None:
                    if subscription is not None:
                        self.bus.unsubscribe(subscription)
                    subscription = self.bus.subscribe(events, lambda e, w=writer: self._push(w, e))
                await self._send(writer, answer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if subscription is not None:
                self.bus.unsubscribe(subscription)
            self._clients.discard(writer)
            writer.close()

    async def _answer(self, line: bytes) -> tuple[dict[str, Any], list[str] | None]:
        request_id = None
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise BadInput("a request is a JSON object")
            request_id = request.get("id")
            command, args = request.get("cmd"), request.get("args") or {}
            if not isinstance(args, dict):
                raise BadInput("'args' must be an object")
            if command == "subscribe":
                events = args.get("events", ["*"])
                if isinstance(events, str):
                    events = [events]
                if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                    raise BadInput("'events' is a list of patterns like 'call.*'")
                return {"id": request_id, "ok": True, "result": {"subscribed": events}}, events
            handler = self.handlers.get(command)
            if handler is None:
                raise BadInput(f"unknown command {command!r} (known: {', '.join(sorted(self.handlers))}, subscribe)")
            result = handler(args)
            if asyncio.iscoroutine(result):
                result = await result
            return {"id": request_id, "ok": True, "result": result}, None
        except json.JSONDecodeError as exc:
            self.errors += 1
            return {"id": None, "ok": False, "error": f"not JSON at byte {exc.pos}: {exc.msg}"}, None
        except QboxError as exc:
            return {"id": request_id, "ok": False, "error": str(exc)}, None
        except Exception as exc:  # a bug in a handler must not take the service down
            self.errors += 1
            log.exception("control request failed")
            return {"id": request_id, "ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}, None

    def _push(self, writer: asyncio.StreamWriter, event: Event) -> None:
        if writer.is_closing():
            return
        if writer.transport.get_write_buffer_size() > 4 * MAX_LINE:
            writer.close()  # a subscriber that stopped reading: drop it rather than grow
            return
        writer.write(_encode(event.as_dict()))

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        writer.write(_encode(message))
        await writer.drain()


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, default=str, separators=(",", ":")).encode() + b"\n"


class ControlClient:
    """A blocking client for the ``qbox`` console commands."""

    def __init__(self, path: str | Path = DEFAULT_SOCKET, timeout: float = 10.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._next_id = 0
        self._sock: socket.socket | None = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
            except OSError as exc:
                sock.close()
                raise QboxError(f"cannot reach the qbox service at {self.path}: {exc.strerror or exc}"
                                " (is `qbox run` running?)") from None
            self._sock = sock
        return self._sock

    def request(self, cmd: str, **args: Any) -> Any:
        """Send one request and return its result; BadInput/QboxError for an error answer."""
        self._next_id += 1
        sock = self._connect()
        sock.sendall(_encode({"id": self._next_id, "cmd": cmd, "args": args}))
        answer = self._read_message()
        if not answer.get("ok"):
            raise BadInput(answer.get("error", "request failed"))
        return answer.get("result")

    def subscribe(self, events: list[str] | None = None, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Subscribe now; the iterator yields events as they come (waiting up to ``timeout``
        seconds for each, or for ever with None)."""
        self.request("subscribe", events=events or ["*"])
        assert self._sock is not None
        self._sock.settimeout(timeout)
        return self._events()

    def _events(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                yield self._read_message()
            except TimeoutError:
                raise QboxError("no event from the qbox service in time") from None

    def _read_message(self) -> dict[str, Any]:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise QboxError("the qbox service closed the connection")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "ControlClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
