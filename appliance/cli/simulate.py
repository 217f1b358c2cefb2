"""``qbox simulate``: a capacity simulation through the real ACD engine, in simulated time."""
from __future__ import annotations

import argparse

from appliance.acd.simulate import simulate
from appliance.acd.strategies import STRATEGY_NAMES, resolve
from appliance.cli._output import add_json_flag, format_table, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate", help="simulate a queue (Poisson calls, exponential handling) and compare with Erlang",
        description="Discrete-event simulation through the real ACD engine in simulated time: Poisson "
                    "arrivals, exponential handling times and, with --patience, exponential caller patience. "
                    "Prints the simulated figures and the Erlang C (or, with --patience, Erlang A) prediction.")
    parser.add_argument("--agents", type=int, required=True, metavar="N", help="agents logged in")
    parser.add_argument("--calls-per-hour", type=float, required=True, metavar="L", help="arrival rate")
    parser.add_argument("--aht", type=float, required=True, metavar="S", help="mean handling time, seconds")
    parser.add_argument("--patience", type=float, metavar="S", help="mean caller patience, seconds (Erlang A)")
    parser.add_argument("--hours", type=float, default=100.0, metavar="H", help="simulated hours (default 100)")
    parser.add_argument("--seed", type=int, default=1, metavar="K", help="random seed (default 1)")
    parser.add_argument("--sl-threshold", type=float, default=20.0, metavar="T",
                        help="service level threshold, seconds (default 20)")
    parser.add_argument("--strategy", default="leastrecent", metavar="NAME",
                        help=f"ring strategy (default leastrecent): {', '.join(STRATEGY_NAMES)}")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    resolve(args.strategy)
    result = simulate(args.agents, args.calls_per_hour, args.aht, patience=args.patience, hours=args.hours,
                      seed=args.seed, sl_threshold=args.sl_threshold, strategy=args.strategy)
    figures = result.as_json()
    if args.json:
        print_json(figures)
        return 0
    model, analytic = ("erlang_a", figures["erlang_a"]) if "erlang_a" in figures else ("erlang_c", figures["erlang_c"])
    rows = [("offered", figures["offered"], ""), ("answered", figures["answered"], ""),
            ("abandoned", figures["abandoned"], ""),
            (f"service level ({args.sl_threshold:g} s)", f"{figures['service_level']:.3f}",
             _fmt(analytic.get("service_level"))),
            ("ASA, s", f"{figures['asa']:.1f}", _fmt(analytic.get("asa"), ".1f")),
            ("abandon rate", f"{figures['abandon_rate']:.3f}", _fmt(analytic.get("p_abandon"))),
            ("P(wait)", f"{result.p_wait:.3f}", _fmt(analytic.get("p_wait"))),
            ("occupancy", f"{figures['occupancy']:.3f}", "")]
    print(format_table(("figure", "simulated", model.replace("_", " ").title()), rows))
    return 0


def _fmt(value, spec: str = ".3f") -> str:
    return "" if value is None else format(value, spec)
