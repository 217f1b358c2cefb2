"""``qbox bench bhca``: busy-hour call attempts the box can carry, from the service's CPU per call.

The whole call path runs for real: the rig process (hil_tests/rigs, its own process)
dials in over ISDN on the trunks, hears the IVR's menu prompt, presses a digit as DTMF
audio, waits in the queue; an agent answers on an agent span, talks, hangs up; the
service (``qbox run --lockstep``) writes the CDR (and the call's recording).  Lock-step
means simulated time: the line moves 20 ms each time the service has answered every
span's block, so the run is as fast as the machine allows.

The box is ``examples/branch.yaml`` resized to the load a BHCA rating is about: by
default 8 trunk E1s (240 lines) and 8 agent E1s (240 agents), every agent staffed, no
wrap-up; callers are regulars who key their choice half a second into the menu (barge-in)
and talk 2 s on average, agents answer within 0.2-0.6 s.  A BHCA figure is a processing
capacity: one branch's 60 lines and 13 s of menu per call would measure the prompt, not
the box (``--trunks 2 --agent-spans 1 --barge-in -1`` gives that figure).  The working
directory (database, recordings) is on tmpfs where there is one, so the figure is the
service's, not this machine's disk's.

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
from appliance.config import load_config
from appliance.errors import BadInput

__all__ = ["measure", "median_run", "register"]

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "branch.yaml"
# Short calls keep the box busy: a digit, a queue, 2 s of talk on average, nobody gives up.
RIG_OPTIONS = ("--script", "1", "--handling", "2", "--patience", "600", "--no-answer", "0",
               "--ring-delay", "0.2,0.6", "--breaks", "0", "--peak", "20000", "--drain", "60",
               "--log-level", "warning")
AGENTS_PER_SPAN = 30
FIRST_AGENT = 8001


def busy_hour(config: dict, trunks: int | None = None, agent_spans: int | None = None,
              recording: bool = True) -> None:
    """The box as the bench loads it: every agent-span channel staffed, no wrap-up pauses,
    so the trunks, not the agents, limit the call rate.

    ``trunks``/``agent_spans`` resize the box: copies of its first trunk and first agent
    span, numbered after each other (a BHCA rating is a capacity figure, and one branch's
    60 lines cannot offer a busy hour's worth of calls to a box that carries far more).
    ``recording=False`` records no queue, to show what recording costs.
    """
    trunk_side = _resized(config, "trunk", trunks, "exchange")
    agent_side = _resized(config, "agent", agent_spans, "agent-pbx")
    if trunks is not None or agent_spans is not None:
        config.pop("fxs", None)               # its channel numbers would fall inside the new spans
    config["spans"] = trunk_side + agent_side
    for number, span in enumerate(config["spans"], start=1):
        span["number"] = number
        span["timing"] = number if number <= len(trunk_side) else 0      # trunks come first
    for q in config["queues"]:
        q["wrapuptime"] = 0
        q["maxlen"] = 0          # the opening burst queues every trunk at once: no overflow for it
    if not recording:
        config["recording"]["queues"] = []
    queue = config["queues"][0]["name"]
    config["agents"] = [
        {"id": str(FIRST_AGENT + n), "interface": f"span{span['number']}/{FIRST_AGENT + n}",
         "queues": [{"queue": queue, "penalty": 0}]}
        for index, span in enumerate(agent_side) for n in range(index * AGENTS_PER_SPAN, (index + 1) * AGENTS_PER_SPAN)]


def _resized(config: dict, role: str, count: int | None, name: str) -> list[dict]:
    """The configuration's spans of ``role``, or ``count`` copies of the first one."""
    spans = [s for s in config["spans"] if s.get("role", "trunk") == role]
    if count is None:
        return spans
    return [dict(spans[0], name=f"{name}-{n + 1}") for n in range(count)]


def register(subparsers) -> None:
    parser = subparsers.add_parser("bhca", help="busy-hour call attempts from the service's CPU per call")
    parser.add_argument("--calls", type=int, default=5000, help="calls to offer (default 5000)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="box configuration (default examples/branch.yaml)")
    parser.add_argument("--trunks", type=int, default=8, metavar="N",
                        help="resize the box to N trunk spans (default %(default)s)")
    parser.add_argument("--agent-spans", type=int, default=8, metavar="N",
                        help=f"resize the box to N agent spans of {AGENTS_PER_SPAN} agents each (default %(default)s)")
    parser.add_argument("--barge-in", type=float, default=0.5, metavar="S",
                        help="callers key their digit S seconds into the menu prompt (default %(default)s; "
                             "negative: after the whole prompt)")
    parser.add_argument("--no-recording", action="store_true",
                        help="record no queue (what recording costs is the difference)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, metavar="N",
                        help="measure N times (the same calls each time) and report the median run: a shared "
                             "machine's speed drifts by a tenth or more (default %(default)s)")
    add_json_flag(parser)
    parser.set_defaults(func=_run)


def measure(calls: int, config: str | Path = DEFAULT_CONFIG, seed: int = 1, *, trunks: int | None = None,
            agent_spans: int | None = None, barge_in: float | None = None, recording: bool = True) -> dict:
    from hil_tests.branch import SimulatedBranch   # the bench drives the simulated world

    barge = ("--barge-in", str(barge_in)) if barge_in is not None and barge_in >= 0 else ()
    with tempfile.TemporaryDirectory(prefix="qbox-bhca-", dir=_memory_dir()) as tmp, \
            SimulatedBranch(config, tmp, duration=86400, lockstep=True, calls=calls, seed=seed,
                            rig_options=RIG_OPTIONS + barge + ("--go", str(Path(tmp) / "go")),
                            adjust=lambda c: busy_hour(c, trunks, agent_spans, recording)) as branch:
        branch.start()
        box = load_config(branch.config_path)
        cpu_before, status_before = branch.service_cpu_seconds(), branch.request("status")
        (Path(tmp) / "go").touch()        # the rig offers its first call only now
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
        "trunks": len(box.trunk_spans), "agent_spans": len(box.agent_spans),
        "recorded_queues": list(box.recording.queues),
        "wall_s": round(wall, 1), "simulated_s": round(status_after["uptime_s"] - status_before["uptime_s"], 1),
        "profile": profile,
    }


def median_run(results: list[dict]) -> dict:
    """The run with the median CPU per call (the lower of the middle two for an even
    count), with every run's ``cpu_s_per_call`` under ``runs`` when there are several."""
    ordered = sorted(results, key=lambda r: r["cpu_s_per_call"])
    result = dict(ordered[(len(ordered) - 1) // 2])
    if len(results) > 1:
        result["runs"] = [r["cpu_s_per_call"] for r in results]
    return result


def _memory_dir() -> str | None:
    """/dev/shm where there is one: the bench measures the service, not this machine's disk
    (creating a recording file costs 0.03-0.6 ms of CPU on some virtual disks, 10 us on tmpfs)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _run(args) -> None:
    for name in ("trunks", "agent_spans", "runs"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise BadInput(f"--{name.replace('_', '-')} {getattr(args, name)}: give at least 1")
    results = [measure(args.calls, args.config, args.seed, trunks=args.trunks, agent_spans=args.agent_spans,
                       barge_in=args.barge_in, recording=not args.no_recording) for _ in range(args.runs)]
    result = median_run(results)
    if args.json:
        print_json(result)
        return
    print(f"{result['calls']} calls through the whole path on {result['trunks']} trunk and "
          f"{result['agent_spans']} agent spans in {result['simulated_s']} s of line time ({result['wall_s']} s wall)")
    if "runs" in result:
        print(f"{len(result['runs'])} runs, ms per call: "
              f"{' '.join(f'{run * 1e3:.3f}' for run in result['runs'])}; the median run:")
    print(f"service CPU {result['service_cpu_s']} s = {result['cpu_s_per_call'] * 1e3:.3f} ms per call; "
          f"{result['cores']} cores -> {result['bhca']:,} BHCA")
    print(format_table(["where the service's CPU went", "CPU s", "share"],
                       [[kind, v["cpu_s"], v["share"]] for kind, v in result["profile"].items()]))
