"""``python -m hil_tests.rigs``: the simulated world as its own process.

Holds the far end of every span in the box configuration (the exchange and the agent
PBX, :class:`~drivers.dahdi.sim.FarEnd` serving ``--dir``) and runs the traffic rig on
it; the service (``qbox run`` with ``dahdi.device: sim:///DIR``) is started separately
and found through those sockets.  The report goes to ``--report FILE`` (or stdout) as
one JSON object.  ``--lockstep`` puts the far end on a manual clock that moves 20 ms
only once the service has answered every span's block: pair it with
``qbox run --lockstep``.

    python -m hil_tests.rigs --config examples/branch.yaml --dir /tmp/sim \\
        --duration 60 --speed 10 --control /tmp/qbox.sock --report report.json

Exit status: 0 with a report, 1 if the service never took up the spans, 2 for bad input.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from appliance.cli.sim import simulated_ports, simulated_spans
from appliance.config import ConfigError, load_config
from appliance.logs import setup_logging
from drivers.clock import ManualClock
from drivers.dahdi import DahdiError
from drivers.dahdi.sim import FarEnd, LineTiming
from hil_tests.rigs.profile import DEFAULT_SCRIPTS, TrafficProfile, parse_script
from hil_tests.rigs.traffic import RigNotReady, TrafficRig

log = logging.getLogger("hil_tests.rigs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hil_tests.rigs", description="The simulated world as its own process: the far end of every span (exchange, agent PBX) "
                                                 "and the caller and agent bots; the report is JSON.")
    parser.add_argument("--config", required=True, metavar="FILE", help="the box configuration (spans, agents)")
    parser.add_argument("--dir", required=True, metavar="DIR", help="the simulator's socket directory")
    parser.add_argument("--duration", type=float, default=60.0, metavar="S",
                        help="seconds of run time to offer calls (default 60)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="compress the traffic profile X times (arrivals, handling, patience; never audio)")
    parser.add_argument("--lockstep", action="store_true", help="simulated time, as fast as the service answers")
    parser.add_argument("--calls", type=int, metavar="N", help="stop offering after N calls")
    parser.add_argument("--peak", type=float, default=TrafficProfile.peak_per_minute, metavar="PER_MIN",
                        help="peak arrivals per profile minute (default %(default)g)")
    parser.add_argument("--handling", type=float, default=TrafficProfile.handling_mean, metavar="S",
                        help="mean talk time in profile seconds (default %(default)g)")
    parser.add_argument("--patience", type=float, default=TrafficProfile.patience_mean, metavar="S",
                        help="mean patience in the queue, profile seconds (default %(default)g)")
    parser.add_argument("--barge-in", type=float, metavar="S",
                        help="callers key each step S seconds into its prompt instead of after it "
                             "(regulars who know the menu; audio time)")
    parser.add_argument("--ring-delay", type=_seconds_range, default=TrafficProfile.ring_delay, metavar="LOW,HIGH",
                        help="an agent answers a ring after a uniform LOW..HIGH profile seconds (default %s)"
                             % ",".join(f"{s:g}" for s in TrafficProfile.ring_delay))
    parser.add_argument("--no-answer", type=float, default=TrafficProfile.no_answer_fraction, metavar="F",
                        help="fraction of rings an agent lets go (default %(default)g)")
    parser.add_argument("--breaks", type=float, default=0.1, metavar="F",
                        help="fraction of calls after which an agent takes a break (needs --control; default %(default)g)")
    parser.add_argument("--script", action="append", metavar="[WEIGHT:]STEP,...",
                        help="caller script, e.g. 0.7:1 or 0.3:2,{account}# (repeatable; default: "
                             + " ".join(str(s) for s in DEFAULT_SCRIPTS) + ")")
    parser.add_argument("--called", default=TrafficProfile.called_number, metavar="NUMBER",
                        help="the number callers dial (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--control", metavar="SOCKET", help="the service's control socket (agents' breaks)")
    parser.add_argument("--drain", type=float, default=120.0, metavar="S",
                        help="after the offer window, let calls finish this long before hanging up (default 120)")
    parser.add_argument("--wait", type=float, default=60.0, metavar="S",
                        help="real seconds to wait for the service to take up the spans (default 60)")
    parser.add_argument("--go", metavar="FILE",
                        help="offer the first call only once FILE exists (a bench reads its baseline first)")
    parser.add_argument("--settle", type=float, default=0.0, metavar="S",
                        help="seconds a span shows RECOVERING after it comes up (DAHDI: 5; default 0)")
    parser.add_argument("--pcap", metavar="DIR", help="capture each span's D-channel as DIR/spanN.pcap")
    parser.add_argument("--report", metavar="FILE", help="write the report here (default: stdout)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return parser


def _seconds_range(text: str) -> tuple[float, float]:
    """``"0.2,0.6"`` -> (0.2, 0.6); the profile checks the order."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give LOW,HIGH in seconds, e.g. 1,4") from None
    return low, high


def profile_from(args: argparse.Namespace) -> TrafficProfile:
    """The traffic profile the options describe; ValueError names the bad option."""
    scripts = tuple(parse_script(s) for s in args.script) if args.script else DEFAULT_SCRIPTS
    return TrafficProfile(peak_per_minute=args.peak, speed=args.speed, called_number=args.called, scripts=scripts,
                          patience_mean=args.patience, handling_mean=args.handling,
                          no_answer_fraction=args.no_answer, barge_in=args.barge_in, ring_delay=args.ring_delay,
                          break_fraction=args.breaks if args.control else 0.0, seed=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        profile = profile_from(args)
        if args.calls is not None and args.calls < 1:
            raise ValueError(f"--calls {args.calls}: give at least 1")
        if args.duration < 0 or args.drain < 0 or args.settle < 0:
            raise ValueError("--duration, --drain and --settle must not be negative")
        config = load_config(args.config)
    except (ValueError, ConfigError) as exc:
        print(f"python -m hil_tests.rigs: {exc}", file=sys.stderr)
        return 2
    farend = FarEnd(Path(args.dir).resolve(), simulated_spans(config), simulated_ports(config),
                    clock=ManualClock() if args.lockstep else None, timing=LineTiming.scaled(settle=args.settle))
    try:
        farend.start()
    except DahdiError as exc:
        print(f"python -m hil_tests.rigs: {exc}", file=sys.stderr)
        return 2
    rig = TrafficRig(farend, config, profile, lockstep=args.lockstep, control_socket=args.control,
                     max_calls=args.calls, capture_dir=args.pcap)
    rig.install_signal_handlers()
    try:
        go = Path(args.go) if args.go else None
        report = rig.run(args.duration, drain=args.drain, wait=args.wait,
                         start_when=go.exists if go is not None else None)
    except RigNotReady as exc:
        print(f"python -m hil_tests.rigs: {exc}", file=sys.stderr)
        return 1
    finally:
        rig.close()
        farend.stop()
    text = json.dumps(report, indent=1)
    if args.report:
        Path(args.report).write_text(text + "\n")
    else:
        print(text)
    log.info("event=rig_done offered=%d answered=%d abandoned=%d digits_pressed=%d", report["offered"],
             report["answered"], report["abandoned"], report["digits_pressed"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
