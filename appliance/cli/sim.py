"""``qbox sim ...``: the far-end simulator for simulated spans, and what a person does to it.

``qbox sim run --config FILE`` holds the far end of every span in the configuration
(and the phones on its FXS ports) in the foreground; the appliance and ``qbox span``
reach it through ``dahdi.device: sim:///DIR``.  From another terminal
``qbox sim fault 1 los`` cuts span 1, ``qbox sim status`` shows both ends of every
line, ``qbox sim phone 94 offhook`` lifts an agent's handset, and for a simulator
started with ``--manual-clock`` ``qbox sim advance 3600`` runs an hour of line time.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from appliance.cli._output import add_json_flag, format_table, print_json
from appliance.config import BoxConfig, load_config
from appliance.errors import BadInput, QboxError
from drivers.clock import ManualClock
from drivers.dahdi import DahdiError
from drivers.dahdi.sim import (
    DEFAULT_DIRECTORY, FarEnd, FaultKind, LineTiming, PortSpec, SimControl, SpanSpec, directory_of, parse_fault,
)

__all__ = ["register", "simulated_spans", "simulated_ports", "directory_for"]

_BAD_INPUT_ERRNOS = {errno.ENODEV, errno.EINVAL, errno.EBUSY, errno.EPERM}

_FAULTS_HELP = """\
faults (at the far end of SPAN's line; the near end alarms as a DAHDI card would):
  los                  loss of signal: near end RED after the debounce, far end YELLOW
  lof                  loss of frame alignment: the same alarms as los
  ais                  the far end sends all ones: near end BLUE
  rai                  the far end reports it lost us: near end YELLOW, far end RED
  loop                 the far end loops the line up: near end LOOP
  ber[:RATE]           bit errors both ways (default 1e-5): BPV, CRC4, FAS and E-bit
                       counters climb; hit D-channel frames fail their FCS
  slip[:PER_SECOND]    clocks out of step: controlled slips (default 0.1 a second)
  dchan, dchan:down    the D-channel dies, layer 1 stays up (no span alarm): no frame
                       crosses either way; the box's Q.921 polls within T203 (10 s),
                       retries N200 times T200 (3 x 1 s), drops the link and raises
                       its D-channel alarm
  dchan:corrupt[:FRACTION]
                       that fraction of D-channel frames (default all) fails its FCS:
                       the box gets DAHDI's BADFCS event instead, counted in status
  dchan:abort[:FRACTION]
                       the same, ended by an HDLC abort: DAHDI's ABORT event
  clear                removes every fault; the span shows RECOVERING for the settle
                       time after an alarm, a D-channel fault ends at once
A fault replaces one of the same kind (one dchan fault at a time); faults of
different kinds combine."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("sim", help="run the far-end span simulator and inject line faults")
    commands = parser.add_subparsers(dest="sim_command", metavar="ACTION", required=True)

    run = commands.add_parser("run", help="hold the far end of the configuration's spans (foreground)")
    run.add_argument("--config", required=True, metavar="FILE", help="box configuration (spans, FXS ports)")
    run.add_argument("--dir", metavar="DIR",
                     help=f"socket directory (default: the config's sim:// device, else {DEFAULT_DIRECTORY})")
    run.add_argument("--settle", type=float, metavar="S",
                     help="seconds a span stays RECOVERING after its alarms clear (DAHDI: 5)")
    run.add_argument("--debounce", type=float, metavar="S",
                     help="seconds before LOS/AIS/RAI raise an alarm (DAHDI: 2.5, 2.5, 0.5)")
    run.add_argument("--manual-clock", action="store_true",
                     help="line time moves only with `qbox sim advance` (for tests)")
    run.set_defaults(func=run_run)

    fault = commands.add_parser(
        "fault", help="inject a line fault: los|lof|ais|rai|loop|ber[:RATE]|slip[:RATE]|dchan[:MODE]|clear",
        epilog=_FAULTS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    fault.add_argument("span", type=int, metavar="SPAN")
    fault.add_argument("fault", metavar="FAULT", help="one of the faults below, e.g. los, ber:1e-4, dchan, clear")
    _add_dir(fault)
    add_json_flag(fault)
    fault.set_defaults(func=run_fault)

    status = commands.add_parser("status", help="both ends of every simulated line: alarms, faults, errors")
    _add_dir(status)
    add_json_flag(status)
    status.set_defaults(func=run_status)

    phone = commands.add_parser("phone", help="act as the agent at an FXS phone: offhook, onhook, flash")
    phone.add_argument("channel", type=int, metavar="CHANNEL")
    phone.add_argument("action", choices=("offhook", "onhook", "flash"))
    _add_dir(phone)
    phone.set_defaults(func=run_phone)

    advance = commands.add_parser("advance", help="move a --manual-clock simulator's line time forward")
    advance.add_argument("seconds", type=float, metavar="SECONDS")
    _add_dir(advance)
    advance.set_defaults(func=run_advance)


def _add_dir(parser) -> None:
    parser.add_argument("--dir", default=DEFAULT_DIRECTORY, metavar="DIR",
                        help=f"the simulator's socket directory (default {DEFAULT_DIRECTORY})")


# -- from the box configuration to the simulator -------------------------------------------

def simulated_spans(config: BoxConfig) -> list[SpanSpec]:
    """One SpanSpec per configured span, numbered and laid out as DAHDI would."""
    specs = []
    for span in config.spans:
        kind = span.type.upper()
        label = f"qbox simulated {kind} span {span.number}" + (f": {span.name}" if span.name else "")
        specs.append(SpanSpec(
            number=span.number, type=kind, framing=span.framing.upper(), coding=span.coding.upper(),
            crc4=span.crc4, first_channo=span.first_channo, dchannel=span.dchannel,
            dchan_mode=span.dchan_mode, timing=span.timing, lbo=span.lbo, description=label,
        ))
    return specs


def simulated_ports(config: BoxConfig) -> list[PortSpec]:
    """The FXS ports, in the law of the first span (A-law beside E1, mu-law beside T1), ringing
    in the cadence of DAHDI's default zone."""
    law = "alaw" if config.spans[0].type == "e1" else "ulaw"
    return [PortSpec(channo=c, signalling=group.signalling, law=law, group=group.name, zone=config.dahdi.defaultzone)
            for group in config.fxs for c in group.channels]


def directory_for(config: BoxConfig) -> str:
    device = config.dahdi.device
    return directory_of(device) if device.startswith("sim:") else DEFAULT_DIRECTORY


# -- commands --------------------------------------------------------------------------------

def run_run(args) -> int:
    config = load_config(args.config)
    for name in ("settle", "debounce"):
        value = getattr(args, name)
        if value is not None and not 0 <= value <= 3600:
            raise BadInput(f"--{name} {value:g}: expected 0 to 3600 seconds")
    directory = Path(args.dir or directory_for(config)).resolve()
    spans, ports = simulated_spans(config), simulated_ports(config)
    farend = FarEnd(directory, spans, ports, clock=ManualClock() if args.manual_clock else None,
                    timing=LineTiming.scaled(debounce=args.debounce, settle=args.settle))
    with _driver_errors():
        farend.bind()                   # (a bind that fails stops the simulator itself)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    summary = ", ".join(f"{s.number} ({s.type})" for s in spans)
    if ports:
        summary += f", {len(ports)} FXS ports as span {farend.analog_span}"
    print(f"qbox sim: spans {summary} at sim://{directory}", flush=True)
    print(f"qbox sim: inject faults with `qbox sim fault SPAN FAULT --dir {directory}`; Ctrl-C stops", flush=True)
    previous = {sig: signal.signal(sig, lambda *_: farend.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        farend.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def run_fault(args) -> None:
    try:
        fault = parse_fault(args.fault)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with _control(args) as control:
        line = control.fault(args.span, str(fault))
    if args.json:
        print_json(line)
        return
    done = "faults cleared" if fault.kind is FaultKind.CLEAR else f"{fault} injected"
    after = ("D-channel only: no span alarm" if fault.kind is FaultKind.DCHAN
             else "alarms follow after the debounce")
    print(f"span {args.span}: {done}; near end {' '.join(line['near'])}, far end {' '.join(line['far'])} ({after})")


def run_status(args) -> None:
    with _control(args) as control:
        lines = control.lines()
        ports = control.ports() if control.info["ports"] else []
        clock = control.info["clock"]
    if args.json:
        print_json({"clock": clock, "lines": lines, "ports": ports})
        return
    rows = []
    for line in lines:
        c = line["counters"]
        rows.append((line["span"], line["type"], " ".join(line["near"]), " ".join(line["far"]),
                     ",".join(line["faults"]) or "-", c["bpv"], c["crc4"], c["fas"], c["ebit"], c["slips"]))
    print(format_table(("SPAN", "TYPE", "NEAR END", "FAR END", "FAULTS", "BPV", "CRC4", "FAS", "EBIT", "SLIPS"),
                       rows))
    for line in lines:
        if line["dchannel"] != "ok" or line["bad_fcs"] or line["aborts"] or line["frames_dropped"]:
            print(_dchannel_summary(line))
    if ports:
        print()
        print(format_table(("CHANNEL", "GROUP", "SIGNALLING", "ZONE", "CADENCE", "PHONE", "BURSTS", "OPEN"),
                           [(p["channo"], p["group"] or "-", p["signalling"], p["zone"], _cadence_text(p["cadence"]),
                             p["phone"], p["bursts"] or "-", "yes" if p["open"] else "no") for p in ports]))
    print(f"clock: {clock}")


def _cadence_text(cadence: list[float]) -> str:
    """Ring and silence in turn: ``1-4`` for 1 s on, 4 s off; ``-`` when the zone has none."""
    return "-".join(f"{seconds:g}" for seconds in cadence) or "-"


def _dchannel_summary(line: dict) -> str:
    """One line on a span's D-channel frames: its fault, the frames damaged and lost."""
    return (f"span {line['span']} D-channel: {line['dchannel']}; bad FCS {line['bad_fcs']}, aborts {line['aborts']}, "
            f"lost {line['frames_dropped']}; BADFCS/ABORT to box {line['near_bad_fcs']}/{line['near_aborts']}")


def run_phone(args) -> None:
    with _control(args) as control:
        state = control.phone(args.channel, args.action)
    print(f"channel {args.channel}: phone {state}")


def run_advance(args) -> None:
    with _control(args) as control:
        now = control.advance(args.seconds)
    print(f"line time is now {now:.3f} s")


@contextlib.contextmanager
def _driver_errors() -> Iterator[None]:
    """DahdiError -> the qbox command's errors: the user's mistake (exit 2) or a failure (exit 1)."""
    try:
        yield
    except DahdiError as exc:
        if exc.errno in _BAD_INPUT_ERRNOS:
            raise BadInput(str(exc)) from None
        raise QboxError(str(exc)) from None


@contextlib.contextmanager
def _control(args) -> Iterator[SimControl]:
    with _driver_errors():
        control = SimControl(args.dir)
        try:
            yield control
        finally:
            control.close()
