"""``qbox bench alarms``: latency from the end of an alarm's debounce to the tower command on the wire.

The real path on a real asyncio loop: a span condition is reported, the debounce timer
fires (that instant is the end of debounce), the manager writes the alarm to an
SQLite store in WAL mode, the tower output encodes the command and the driver writes
it; the figure stops when the tower emulator's thread has read the command from its
pty, FIFO or TCP socket.  Each family is measured ``--runs`` times; the goal is at
most 100 ms.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from appliance.cli._output import add_json_flag, format_table, print_json

__all__ = ["register", "measure"]

FAMILIES = ("adafruit", "lr6", "pns")
GOAL_MS = 100.0


def register(subparsers) -> None:
    parser = subparsers.add_parser("alarms", help="alarm latency: end of debounce -> tower command on the wire")
    parser.add_argument("--runs", type=int, default=50, help="alarms raised per tower family (default 50)")
    parser.add_argument("--family", choices=FAMILIES + ("all",), default="all")
    add_json_flag(parser)
    parser.set_defaults(func=_run)


def _emulator(family: str):
    from drivers.tower.emulators import AdafruitEmulator, HidrawEmulator, PnsEmulator

    return {"adafruit": AdafruitEmulator, "lr6": lambda: HidrawEmulator(model="lr6"), "pns": PnsEmulator}[family]()


async def _measure_family(family: str, runs: int, db_path: Path) -> list[float]:
    from appliance.alarms import AlarmManager, AlarmsConfig, Debounce, TowerOutput
    from appliance.store import Store
    from appliance.store.alarms import AlarmStore
    from drivers.clock import LoopClock
    from drivers.tower import open_tower

    clock = LoopClock()
    raise_s, clear_s = 0.05, 0.02
    config = AlarmsConfig(syslog="", tower_buzzer=False)
    debounce = Debounce(raise_s, clear_s)
    latencies = []
    store = Store(db_path)
    with _emulator(family) as emulator:
        tower = TowerOutput(config, clock, lambda: open_tower(emulator.url))
        manager = AlarmManager(config, clock, AlarmStore(store), [tower])
        manager.restore()
        for run in range(runs):
            obj = f"span{run + 1}"   # a new span each run: no flap folding between runs
            reported = clock.now()
            manager.report(obj, "lossOfSignal", True, severity="critical", debounce=debounce)
            end_of_debounce = reported + raise_s
            await asyncio.sleep(raise_s)
            change = await _shown(emulator.recorder, end_of_debounce)
            if change is None:
                raise RuntimeError(f"{family}: run {run}: the tower did not show the alarm within 2 s")
            latencies.append((change.t - end_of_debounce) * 1000.0)
            manager.report(obj, "lossOfSignal", False, debounce=debounce)
            await asyncio.sleep(clear_s + 0.03)
        manager.close()
        tower.close()
    store.close()
    return latencies


async def _shown(recorder, after: float, timeout: float = 2.0):
    """The emulator's first change to red flashing at or after ``after`` (None on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        change = next((c for c in recorder.changes if c.t >= after and c.state.red == "flash"), None)
        if change is not None:
            return change
        await asyncio.sleep(0.005)
    return None


def measure(runs: int = 50, families: tuple[str, ...] = FAMILIES) -> dict[str, dict[str, float]]:
    """Per family: min, median, p95 and max latency in ms over ``runs`` alarms."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="qbox-bench-alarms-") as tmp:
        for family in families:
            latencies = asyncio.run(_measure_family(family, runs, Path(tmp) / f"{family}.db"))
            ordered = sorted(latencies)
            results[family] = {
                "runs": runs,
                "min_ms": ordered[0],
                "median_ms": statistics.median(ordered),
                "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
                "max_ms": ordered[-1],
            }
    return results


def _run(args) -> int:
    import logging

    # Every run raises an alarm: keep their warnings out of the figures.
    logging.getLogger("appliance.alarms").setLevel(logging.ERROR)
    families = FAMILIES if args.family == "all" else (args.family,)
    started = time.monotonic()
    results = measure(args.runs, families)
    if args.json:
        print_json({"goal_ms": GOAL_MS, "families": results, "seconds": round(time.monotonic() - started, 1)})
        return 0
    print(format_table(
        ["TOWER", "RUNS", "MIN ms", "MEDIAN ms", "P95 ms", "MAX ms", f"<= {GOAL_MS:g} ms"],
        [[family, r["runs"], f"{r['min_ms']:.2f}", f"{r['median_ms']:.2f}", f"{r['p95_ms']:.2f}",
          f"{r['max_ms']:.2f}", "yes" if r["max_ms"] <= GOAL_MS else "NO"] for family, r in results.items()]))
    return 0
