"""``qbox top``: a live 80x24 view of spans, queues, agents and calls.

    qbox top [--once] [--interval SECONDS] [--socket PATH]

Plain text for a serial console: no colour and no curses, only VT100 cursor moves,
repainted every second (``--interval``).  ``q`` or Ctrl-C quits; any other key
repaints at once.  ``--once`` prints one frame (24 lines) and exits, for scripts.
If the service goes away while ``top`` runs, the screen says so and ``top`` keeps
trying; if it is not there at the start, ``top`` exits 1.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from appliance.console import Console, add_socket_option, error_frame, frame, take_snapshot
from appliance.console.screen import Keys, Screen, run_live
from appliance.errors import BadInput, QboxError

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("top", help="live 80x24 view of spans, queues, agents and calls",
                                   description="Live view of the running service; q or Ctrl-C quits.")
    parser.add_argument("--once", action="store_true", help="print one frame and exit (scripts, tests)")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="time between repaints (default 1)")
    add_socket_option(parser)
    parser.set_defaults(func=run_top)


def run_top(args) -> int:
    if not args.interval > 0:
        raise BadInput(f"--interval must be a positive number of seconds, not {args.interval}")
    with Console(args.socket) as console:
        first = frame(take_snapshot(console))      # no service: exit 1 before touching the terminal
        if args.once:
            print("\n".join(first))
            return 0
        ansi = sys.stdout.isatty() and os.environ.get("TERM", "dumb") != "dumb"
        return run_live(_frames(console, first), Screen(sys.stdout, ansi), Keys(sys.stdin), args.interval)


def _frames(console: Console, first: list[str]) -> Iterator[list[str]]:
    yield first
    while True:
        try:
            yield frame(take_snapshot(console))
        except QboxError as exc:
            yield error_frame(str(exc))
