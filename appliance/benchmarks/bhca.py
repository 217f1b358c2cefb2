"""``qbox bench bhca``: busy-hour call attempts the box can carry, from the service's CPU per call.

The whole call path runs for real: the rig process (hil_tests/rigs, its own process)
dials in over ISDN on both E1 trunks of ``examples/branch.yaml``, listens to the IVR's
prompt, presses a digit as DTMF audio, waits in the queue; an agent answers on the agent
span, talks, hangs up; the service (``qbox run --lockstep``) writes the CDR.  Lock-step
means simulated time: the line moves 20 ms each time the service has answered every
span's block, so the run is as fast as the machine allows.

``cpu_s_per_call`` is the service process's CPU (user + system, from /proc) over the run
divided by the calls completed; ``bhca`` = 3600 / cpu_s_per_call x this machine's cores.
The profile splits the service's CPU by kind of work (see appliance.daemon).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from appliance.cli._output import add_json_flag, format_table, print_json

__all__ = ["register", "measure"]

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "branch.yaml"
# Short calls keep the box busy: a digit, a queue, 2 s of talk on average, nobody gives up.
RIG_OPTIONS = ("--script", "1", "--handling", "2", "--patience", "600", "--no-answer", "0",
               "--breaks", "0", "--peak", "1200", "--drain", "60", "--log-level", "warning")


def busy_hour(config: dict) -> None:
    """The box as the bench loads it: every agent-span channel staffed, no wrap-up pauses,
    so the trunks, not the agents, limit the call rate."""
    queue = config["queues"][0]["name"]
    for q in config["queues"]:
        q["wrapuptime"] = 0
    config["agents"] = [{"id": str(8001 + n), "queues": [{"queue": queue, "penalty": 0}]} for n in range(30)]


def register(subparsers) -> None:
    parser = subparsers.add_parser("bhca", help="busy-hour call attempts from the service's CPU per call")
    parser.add_argument("--calls", type=int, default=2000, help="calls to complete (default 2000)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="box configuration (default examples/branch.yaml)")
    parser.add_argument("--seed", type=int, default=1)
    add_json_flag(parser)
    parser.set_defaults(func=_run)


def measure(calls: int, config: str | Path = DEFAULT_CONFIG, seed: int = 1) -> dict:
    from hil_tests.branch import SimulatedBranch   # the bench drives the simulated world

    with tempfile.TemporaryDirectory(prefix="qbox-bhca-") as tmp, \
            SimulatedBranch(config, tmp, duration=86400, lockstep=True, calls=calls, seed=seed,
                            rig_options=RIG_OPTIONS, adjust=busy_hour) as branch:
        branch.start()
        cpu_before, status_before = branch.service_cpu_seconds(), branch.request("status")
        wall = time.monotonic()
        report = branch.wait()
        branch.wait_for_cdrs(report["offered"])
        wall = time.monotonic() - wall
        cpu_after, status_after = branch.service_cpu_seconds(), branch.request("status")
    completed = status_after["counters"]["cdrs"] - status_before["counters"]["cdrs"]
    cpu = cpu_after - cpu_before
    per_call = cpu / completed if completed else float("nan")
    cores = os.cpu_count() or 1
    kinds = {k: status_after["cpu_s"].get(k, 0.0) - status_before["cpu_s"].get(k, 0.0)
             for k in status_after["cpu_s"] if k != "process"}
    other = max(cpu - sum(kinds.values()), 0.0)
    profile = {k: {"cpu_s": round(v, 3), "share": round(v / cpu, 3) if cpu else None}
               for k, v in sorted({**kinds, "other (loop, control, I/O)": other}.items(), key=lambda kv: -kv[1])}
    return {
        "calls": completed, "offered": report["offered"], "answered": status_after["counters"]["answered"],
        "digits_pressed": report["digits_pressed"], "digits_detected": status_after["counters"]["digits_detected"],
        "service_cpu_s": round(cpu, 3), "cpu_s_per_call": round(per_call, 6),
        "cores": cores, "bhca": int(3600 / per_call * cores) if completed else 0,
        "wall_s": round(wall, 1), "simulated_s": round(status_after["uptime_s"] - status_before["uptime_s"], 1),
        "profile": profile,
    }


def _run(args) -> None:
    result = measure(args.calls, args.config, args.seed)
    if args.json:
        print_json(result)
        return
    print(f"{result['calls']} calls through the whole path in {result['simulated_s']} s of line time "
          f"({result['wall_s']} s wall)")
    print(f"service CPU {result['service_cpu_s']} s = {result['cpu_s_per_call'] * 1e3:.3f} ms per call; "
          f"{result['cores']} cores -> {result['bhca']:,} BHCA")
    print(format_table(["where the service's CPU went", "CPU s", "share"],
                       [[kind, v["cpu_s"], v["share"]] for kind, v in result["profile"].items()]))
