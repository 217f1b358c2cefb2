"""``qbox run --config FILE``: the service (see appliance.daemon)."""
from __future__ import annotations

import os
import time

from appliance.control import DEFAULT_SOCKET
from appliance.logs import setup_logging


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="run the qbox service (what systemd starts)")
    parser.add_argument("--config", required=True, help="the box configuration (YAML)")
    parser.add_argument("--state-dir", default="/var/lib/qbox", help="store, queue_log (default /var/lib/qbox)")
    parser.add_argument("--socket", default=DEFAULT_SOCKET, help=f"control socket (default {DEFAULT_SOCKET})")
    parser.add_argument("--lockstep", action="store_true",
                        help="time moves only with media blocks (simulators and benchmarks)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--cprofile", metavar="FILE", help="write a cProfile of the whole run to FILE at exit")
    parser.set_defaults(func=run)


def run(args) -> int:
    from appliance.daemon import run_service

    setup_logging(args.log_level, journald="JOURNAL_STREAM" in os.environ)
    if not args.cprofile:
        return run_service(args.config, args.state_dir, args.socket, args.lockstep)
    import cProfile

    profiler = cProfile.Profile(time.process_time)   # CPU, not wall: what the box pays
    try:
        return profiler.runcall(run_service, args.config, args.state_dir, args.socket, args.lockstep)
    finally:
        profiler.dump_stats(args.cprofile)
