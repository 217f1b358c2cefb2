"""``qbox staffing``: the least agents that meet a service-level target (Erlang C or A)."""
from __future__ import annotations

import argparse

from appliance.acd.staffing import load_day_profile, required_agents, staff_day
from appliance.cli._output import add_json_flag, format_table, print_json
from appliance.errors import BadInput


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "staffing", help="agents needed to meet a service level (Erlang C, or Erlang A with --patience)",
        description="The least number of agents whose predicted service level (answered within --threshold "
                    "seconds) reaches --target-sl, with the predicted SL, ASA and occupancy. With --profile, a "
                    "staffing table for a day of 15-minute intervals (see examples/day_profile.yaml).")
    parser.add_argument("--calls-per-hour", type=float, metavar="L", help="arrival rate")
    parser.add_argument("--aht", type=float, metavar="S", help="mean handling time, seconds")
    parser.add_argument("--target-sl", type=float, metavar="F", help="target service level, e.g. 0.8")
    parser.add_argument("--threshold", type=float, metavar="T", help="service level threshold, seconds, e.g. 20")
    parser.add_argument("--patience", type=float, metavar="S", help="mean caller patience, seconds (Erlang A)")
    parser.add_argument("--profile", metavar="FILE", help="day profile YAML: 15-minute intervals with calls and AHT")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.profile:
        return _day(args)
    if args.calls_per_hour is None or args.aht is None:
        raise BadInput("give --calls-per-hour and --aht (or --profile FILE)")
    target, threshold = _target(args.target_sl, args.threshold)
    result = required_agents(args.calls_per_hour, args.aht, target, threshold, args.patience)
    if args.json:
        print_json(result.as_json())
        return 0
    row = [result.agents, f"{result.service_level:.3f}", f"{result.asa:.1f}", f"{result.occupancy:.3f}"]
    headers = ["agents", f"SL({threshold:g}s)", "ASA s", "occupancy"]
    if result.p_abandon is not None:
        headers.append("abandon")
        row.append(f"{result.p_abandon:.3f}")
    print(format_table(headers, [row]))
    return 0


def _target(target_sl, threshold):
    if target_sl is None or threshold is None:
        raise BadInput("give --target-sl and --threshold (e.g. --target-sl 0.8 --threshold 20)")
    return target_sl, threshold


def _day(args: argparse.Namespace) -> int:
    profile = load_day_profile(args.profile)
    target, threshold = _target(args.target_sl if args.target_sl is not None else profile.target_sl,
                                args.threshold if args.threshold is not None else profile.threshold)
    patience = args.patience if args.patience is not None else profile.patience
    plan = staff_day(profile, target, threshold, patience)
    rows = [{"start": i.start, "calls": i.calls, "aht": i.aht, **s.as_json()} for i, s in plan]
    if args.json:
        print_json({"target_sl": target, "threshold": threshold, "patience": patience, "intervals": rows,
                    "peak_agents": max(r["agents"] for r in rows)})
        return 0
    print(format_table(["start", "calls", "AHT s", "agents", f"SL({threshold:g}s)", "ASA s", "occupancy"],
                       [(r["start"], f"{r['calls']:g}", f"{r['aht']:g}", r["agents"], f"{r['service_level']:.3f}",
                         f"{r['asa']:.1f}", f"{r['occupancy']:.3f}") for r in rows]))
    return 0
