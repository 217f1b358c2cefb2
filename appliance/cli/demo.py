"""``qbox demo``: the simulated branch, run end to end in one command (``make demo``).

Two acts.  The line check (:class:`Demo`): the far-end simulator starts as its own
process, the spans come up, loss of signal is injected on a trunk and cleared, each
stage shown with the commands an operator would type.  The market open
(:class:`hil_tests.demo.TrafficDemo`): the rig and ``qbox run`` as separate processes,
callers dialling in, pressing digits and waiting, agents answering, ``qbox top`` live,
optional ``--fault`` specs, and a report where the bots' counts meet the service's.
"""
from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from appliance.cli._output import add_json_flag, format_table, print_json
from appliance.cli.span import render_span_list, render_span_show
from appliance.config import BoxConfig, load_config
from appliance.errors import BadInput, QboxError
from drivers.dahdi import Alarm, Backend, DahdiError, SpanStatus, open_backend

__all__ = ["register", "Demo", "DEFAULT_CONFIG"]

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "branch.yaml"

Step = Callable[[], dict]


def shown_path(path: str | Path) -> str:
    """PATH relative to the working directory when it lies inside it, so printed commands stay short."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the simulated branch: line check, market-open traffic, report")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), metavar="FILE",
                        help="box configuration to simulate (default: examples/branch.yaml)")
    parser.add_argument("--duration", type=float, default=60.0, metavar="S",
                        help="seconds of traffic (default 60)")
    parser.add_argument("--speed", type=float, default=10.0, metavar="X",
                        help="compress the market-open profile X times (default 10; audio is never sped up)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="inject a fault during the traffic, e.g. span1:los@10-30, span2:ais@5-15, "
                             "span1:rai@5, span2:ber@10-20, tower:unplug@20 (repeatable)")
    parser.add_argument("--span", type=int, metavar="N", help="span the line check cuts (default: the first trunk span)")
    parser.add_argument("--settle", type=float, default=2.0, metavar="S",
                        help="seconds RECOVERING lasts in the line check (DAHDI: 5; default 2)")
    parser.add_argument("--debounce", type=float, default=1.0, metavar="S",
                        help="seconds before a line fault raises an alarm in the line check (DAHDI: 2.5; default 1)")
    parser.add_argument("--no-line-check", action="store_true", help="skip the line check, go straight to traffic")
    add_json_flag(parser)
    parser.set_defaults(func=run)


# Line faults whose calls still end with a CDR on both sides, so the report's counts can meet.
DEMO_LINE_FAULTS = ("los", "lof", "ais", "rai", "ber")


def run(args) -> int:
    from hil_tests.demo import TrafficDemo          # the demo drives the simulated bench
    from hil_tests.faults import FaultSpecError, parse_faults

    config = load_config(args.config)
    span = args.span if args.span is not None else (config.trunk_spans or config.spans)[0].number
    if span not in [s.number for s in config.spans]:
        raise BadInput(f"--span {span}: {args.config} has no span {span}")
    try:
        faults = parse_faults(args.fault)
    except FaultSpecError as exc:
        raise BadInput(str(exc)) from None
    for fault in faults:
        if fault.span is not None and fault.span not in [s.number for s in config.spans]:
            raise BadInput(f"--fault {fault}: {args.config} has no span {fault.span}")
        if fault.span is not None and fault.kind not in DEMO_LINE_FAULTS:
            raise BadInput(f"--fault {fault}: the demo injects {', '.join(DEMO_LINE_FAULTS)}; a D-channel outage "
                           f"loses calls in signalling, which have no CDR to match (use `qbox sim fault "
                           f"{fault.span} dchan` beside `qbox run`)")
        if fault.target == "sound":
            raise BadInput(f"--fault {fault}: the demo has no sound device to unplug")
    if args.duration <= 0 or args.speed <= 0:
        raise BadInput("--duration and --speed must be positive")
    out = _Quiet() if args.json else sys.stdout
    summary: dict = {}
    if not args.no_line_check:
        line = Demo(config, span=span, settle=args.settle, debounce=args.debounce, out=out).run()
        summary["line_check"] = {"ok": line["ok"], "steps": line["steps"]}
    _say(out, "The market opens", f"Traffic for {args.duration:g} s through {config.node.name}: the rig "
              "(exchange, callers, agents) and `qbox run` are separate processes; `qbox top` is shown live.")
    with tempfile.TemporaryDirectory(prefix="qbox-demo-") as tmp:
        report = TrafficDemo(Path(args.config), Path(tmp), duration=args.duration, speed=args.speed,
                             faults=faults, out=out, live=not args.json).run()
    summary = {**report, **summary}
    consistent = report["digits_pressed"] == report["digits_detected"] and report["cdrs"] == report["offered"]
    summary["consistent"] = consistent
    if args.json:
        print_json(summary)
    else:
        _print_report(summary)
    return 0 if consistent and summary.get("line_check", {"ok": True})["ok"] else 1


def _say(out: TextIO, title: str, text: str) -> None:
    out.write(f"\n== {title}\n{textwrap.fill(text, 79)}\n")
    out.flush()


def _print_report(summary: dict) -> None:
    sl = summary["service_level"]
    print("\n== Report")
    print(format_table(("", "callers (bots)", "service"), [
        ("calls offered", summary["offered"], f"{summary['cdrs']} CDRs"),
        ("digits", f"{summary['digits_pressed']} pressed", f"{summary['digits_detected']} detected"),
        ("answered / abandoned", f"{summary['answered']} / {summary['abandoned']}", ""),
        ("service level", "", f"{sl:.0%} within {summary['service_level_threshold_s']:g} s" if sl is not None else "-"),
        ("average speed of answer", "", f"{summary['asa']} s" if summary["asa"] is not None else "-"),
        ("recordings", "", summary["recordings"]),
    ]))
    if summary["alarms"]:
        print("\nalarms:")
        print(format_table(("object", "cause", "severity", "raised s", "cleared s"),
                           [(a["object"], a["cause"], a["severity"], a["raised_s"], a["cleared_s"] or "-")
                            for a in summary["alarms"]]))
    if summary["tower_log"]:
        print("\ntower:")
        print(format_table(("t s", "red", "amber", "green", "buzzer", "latency ms"),
                           [(t["t_s"], t.get("red"), t.get("amber"), t.get("green"), t.get("buzzer"),
                             t.get("latency_ms", "")) for t in summary["tower_log"]]))
    print("\n" + ("The bots' counts and the service's agree." if summary["consistent"]
                   else "MISMATCH between the bots' counts and the service's (see above)."))


class _Quiet:
    """Where the narration goes when only the JSON summary is wanted."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Demo:
    """Runs the simulator as a separate process and walks through the steps."""

    def __init__(self, config: BoxConfig, *, span: int, settle: float | None = None,
                 debounce: float | None = None, out: TextIO = sys.stdout) -> None:
        self.config = config
        self.span = span
        self.settle = settle
        self.debounce = debounce
        self.out = out
        # Longest a line condition can take to show, with room for a loaded machine.
        self.patience = 3 * ((debounce if debounce is not None else 2.5) + (settle if settle is not None else 5.0)) + 10
        self.sim = None
        self.backend: Backend | None = None

    # -- the steps ---------------------------------------------------------------------

    def steps(self) -> list[Step]:
        return [self.spans_come_up, self.loss_of_signal, self.clear_fault]

    def spans_come_up(self) -> dict:
        self.say("1. The spans come up", "Every span frames up and stays RECOVERING for the settle time, as DAHDI does.")
        self.command("qbox span list --device sim://$SIM", render_span_list(self.backend.spans()))
        spans = self.wait_for("every span to come up", lambda all_spans: all(not s.alarms for s in all_spans))
        self.command("qbox span list --device sim://$SIM", render_span_list(spans))
        self.command(f"qbox span show {self.span} --device sim://$SIM",
                     render_span_show(self.backend.span_status(self.span)))
        return {"step": "spans up", "alarms": {str(s.number): s.alarm_names or ["OK"] for s in spans}}

    def loss_of_signal(self) -> dict:
        self.say("2. Loss of signal on span %d" % self.span,
                 "The exchange's signal is cut: the near end goes RED and answers with RAI, "
                 "so the far end shows YELLOW.")
        self.inject("los")
        status = self.wait_for(f"span {self.span} to go RED", lambda spans: self._span(spans).alarms & Alarm.RED)
        status = self._span(status)
        self.command(f"qbox span show {self.span} --device sim://$SIM  (channels omitted)",
                     render_span_show(status, channels=False))
        line = self.show_lines()
        return {"step": "loss of signal", "span": self.span, "near": line["near"], "far": line["far"]}

    def clear_fault(self) -> dict:
        self.say("3. The line is repaired", "The alarm clears into RECOVERING for the settle time, then OK.")
        recovering = self.inject("clear")["near"]        # as the fault took effect
        self.command(f"qbox span show {self.span} --device sim://$SIM  (channels omitted)",
                     render_span_show(self.backend.span_status(self.span), channels=False))
        cleared = self._span(self.wait_for(f"span {self.span} to clear", lambda spans: not self._span(spans).alarms))
        self.command(f"qbox span show {self.span} --device sim://$SIM  (channels omitted)",
                     render_span_show(cleared, channels=False))
        line = self.show_lines()
        return {"step": "recovered", "span": self.span, "recovering": recovering,
                "near": line["near"], "far": line["far"]}

    # -- running ----------------------------------------------------------------------

    def run(self) -> dict:
        from hil_tests.simbench import SimulatorFailed, SimulatorProcess   # the demo drives the bench

        summary: dict = {"config": self.config.source, "span": self.span, "steps": [], "ok": False}
        with tempfile.TemporaryDirectory(prefix="qbox-demo-") as tmp:
            self.sim = SimulatorProcess(self.config.source, Path(tmp) / "sim",
                                        settle=self.settle, debounce=self.debounce)
            summary["device"] = self.sim.url
            self.say("qbox demo", f"Simulating {self.config.node.name} from {self.config.source}: "
                                  f"the far-end simulator runs as its own process (qbox sim run) "
                                  f"with its sockets in SIM={self.sim.directory}")
            try:
                self.sim.start()
                self.backend = open_backend(self.sim.url)
                for step in self.steps():
                    summary["steps"].append(step())
                summary["ok"] = True
            except (DahdiError, SimulatorFailed) as exc:
                raise QboxError(f"demo failed: {exc}") from None
            finally:
                if self.backend is not None:
                    self.backend.close()
                self.sim.stop()
        self.say("Done", "The simulator has stopped. To run it yourself and watch the alarms:")
        self.out.write(f"  qbox sim run --config {shown_path(self.config.source)} \\\n"
                       "      --dir /tmp/qbox-sim\n"
                       "  qbox sim fault 1 los --dir /tmp/qbox-sim     (in another terminal)\n"
                       "  qbox span show 1 --device sim:///tmp/qbox-sim\n")
        return summary

    def inject(self, fault: str) -> dict:
        """``qbox sim fault``; returns both ends of the line just after the fault took effect."""
        self.command(f"qbox sim fault {self.span} {fault} --dir $SIM", None)
        return self.sim.control.fault(self.span, fault)

    def show_lines(self) -> dict:
        lines = self.sim.control.lines()
        rows = [(l["span"], " ".join(l["near"]), " ".join(l["far"]), ",".join(l["faults"]) or "-") for l in lines]
        self.command("qbox sim status --dir $SIM",
                     format_table(("SPAN", "NEAR END", "FAR END", "FAULTS"), rows))
        return next(l for l in lines if l["span"] == self.span)

    def wait_for(self, what: str, done: Callable[[list[SpanStatus]], object]) -> list[SpanStatus]:
        """Poll the spans until ``done(spans)``; QboxError after ``patience`` seconds."""
        deadline = time.monotonic() + self.patience
        while True:
            spans = self.backend.spans()
            if done(spans):
                return spans
            if time.monotonic() > deadline:
                raise QboxError(f"demo: timed out after {self.patience:g} s waiting for {what}")
            time.sleep(0.05)

    def _span(self, spans: list[SpanStatus]) -> SpanStatus:
        return next(s for s in spans if s.number == self.span)

    def say(self, title: str, text: str) -> None:
        self.out.write(f"\n== {title}\n{textwrap.fill(text, 79)}\n")
        self.out.flush()

    def command(self, line: str, output: str | None) -> None:
        self.out.write(f"\n$ {line}\n" + (f"{output}\n" if output else ""))
        self.out.flush()
