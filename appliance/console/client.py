"""The console's side of the control API: socket trouble becomes a one-line error.

``ControlClient`` reports a service that is not there; a service that dies or hangs in
the middle of a request surfaces as ``OSError`` or a half line.  :class:`Console` turns
both into ``QboxError`` (exit 1) and reconnects on the next request, which is what
``qbox top`` needs to ride through a restart of the service.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from appliance.cli._output import add_json_flag, print_json
from appliance.control import DEFAULT_SOCKET, ControlClient
from appliance.errors import BadInput, QboxError

__all__ = ["Console", "add_socket_option", "ask", "add_view"]


def add_socket_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--socket", default=DEFAULT_SOCKET, metavar="PATH",
                        help=f"the service's control socket (default {DEFAULT_SOCKET})")


class Console:
    """Requests to the service at ``path`` over one connection, reopened after a failure."""

    def __init__(self, path: str = DEFAULT_SOCKET, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._client: ControlClient | None = None

    def request(self, cmd: str, **args: Any) -> Any:
        """The result of ``cmd``; BadInput (exit 2) if the service refuses it, QboxError (exit 1)
        if the service cannot be reached or stops answering."""
        if self._client is None:
            self._client = ControlClient(self.path, self.timeout)
        try:
            return self._client.request(cmd, **args)
        except BadInput:
            raise                       # the service answered; the connection is fine
        except QboxError:
            self.close()
            raise
        except (OSError, ValueError) as exc:   # reset, timeout, or a line cut short
            self.close()
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise QboxError(f"lost the qbox service at {self.path}: {reason}") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "Console":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ask(path: str, cmd: str, **args: Any) -> Any:
    """One request on its own connection (the one-shot console commands)."""
    with Console(path) as console:
        return console.request(cmd, **args)


def add_view(parser: argparse.ArgumentParser, cmd: str, render: Callable[[Any], list[str]],
             json_key: str | None = None) -> None:
    """Make ``parser`` a read-only view: ask the service ``cmd`` and print ``render(result)``,
    or with ``--json`` the result itself (under ``json_key`` when given)."""
    def run(args) -> None:
        result = ask(args.socket, cmd)
        if args.json:
            print_json({json_key: result} if json_key else result)
        else:
            print("\n".join(render(result)))

    add_socket_option(parser)
    add_json_flag(parser)
    parser.set_defaults(func=run)
