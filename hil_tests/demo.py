"""``qbox demo``'s traffic act: a market open through a simulated branch, watched live.

The rig process (exchange, callers, agents) and ``qbox run`` run as two processes
(:class:`~hil_tests.branch.SimulatedBranch`); an alarm tower emulator (Patlite PNS on
127.0.0.1) stands on the desk.  While traffic runs, ``qbox top``'s screen is painted
every second and the ``--fault`` specs are applied on time: span faults through the
simulator's control socket, ``tower:unplug`` by pulling the emulator.  At the end the
report puts the bots' counts beside the service's (digits pressed and detected, calls
offered and CDRs written) with the alarms raised and what the tower showed.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from appliance.console import Console, error_frame, frame, take_snapshot
from appliance.console.screen import Screen
from appliance.ivr.default_prompts import generate_prompts
from appliance.store import Store
from appliance.store.cdr import CdrStore
from drivers.tower.emulators import PnsEmulator
from hil_tests.branch import SimulatedBranch
from hil_tests.faults import Fault

__all__ = ["TrafficDemo", "prompt_cache"]

SL_THRESHOLD = 20.0


def prompt_cache() -> Path:
    """The default prompts, spoken once per machine (espeak-ng takes a few seconds)."""
    directory = Path.home() / ".cache" / "qbox" / "prompts"
    generate_prompts(directory)
    return directory


@dataclass
class _FaultRun:
    fault: Fault
    started: bool = False
    ended: bool = False


@dataclass
class TrafficDemo:
    config: Path
    workdir: Path
    duration: float = 60.0
    speed: float = 10.0
    faults: list[Fault] = field(default_factory=list)
    out: TextIO = sys.stdout
    live: bool = True

    def run(self) -> dict:
        tower = PnsEmulator(clock=time.time)
        branch = SimulatedBranch(self.config, self.workdir, duration=self.duration, speed=self.speed,
                                 tower=tower.url, prompts=prompt_cache())
        runs = [_FaultRun(f) for f in self.faults]
        try:
            branch.start()
            t0 = time.time()
            self._watch(branch, tower, runs, t0)
            report = branch.wait()
            branch.wait_for_cdrs(report["offered"] - report.get("blocked", 0))
            return self._report(branch, report, tower, t0)
        finally:
            branch.stop()
            tower.close()

    # -- while traffic runs ----------------------------------------------------------------
    def _watch(self, branch: SimulatedBranch, tower: PnsEmulator, runs: list[_FaultRun], t0: float) -> None:
        screen = Screen(self.out, ansi=self.out.isatty())
        console = Console(str(branch.socket), timeout=10)
        last_paint = 0.0
        try:
            while branch.rig.process is not None and branch.rig.process.poll() is None:
                now = time.time() - t0
                for run in runs:
                    self._apply(branch, tower, run, now)
                if self.live and now - last_paint >= (1.0 if screen.ansi else 10.0):
                    try:
                        screen.paint(frame(take_snapshot(console)))
                    except Exception as exc:  # the screen must never stop the demo
                        screen.paint(error_frame(str(exc)))
                    last_paint = now
                time.sleep(0.1)
        finally:
            console.close()
            screen.close()
        for run in runs:                       # faults still on at the end are cleared
            if run.started and not run.ended:
                self._end(branch, tower, run)

    def _apply(self, branch: SimulatedBranch, tower: PnsEmulator, run: _FaultRun, now: float) -> None:
        fault = run.fault
        if not run.started and now >= fault.start_s:
            run.started = True
            if fault.target == "tower":
                tower.unplug()
            else:
                branch.rig.control.fault(fault.span, fault.kind)
        elif run.started and not run.ended and fault.end_s is not None and now >= fault.end_s:
            self._end(branch, tower, run)

    @staticmethod
    def _end(branch: SimulatedBranch, tower: PnsEmulator, run: _FaultRun) -> None:
        run.ended = True
        if run.fault.target == "tower":
            tower.plug()
        else:
            branch.rig.control.fault(run.fault.span, "clear")

    # -- the report ------------------------------------------------------------------------
    def _report(self, branch: SimulatedBranch, rig: dict, tower: PnsEmulator, t0: float) -> dict:
        status = branch.request("status")
        waits = _answered_waits(branch)
        alarms = branch.request("alarms", all=True)["alarms"]
        raised = [(_epoch(a["raised_at"]), a) for a in alarms]
        return {
            "offered": rig["offered"],
            "answered": rig["answered"],
            "abandoned": rig["abandoned"],
            "blocked": rig.get("blocked", 0),
            "service_level": round(sum(w <= SL_THRESHOLD for w in waits) / len(waits), 3) if waits else None,
            "service_level_threshold_s": SL_THRESHOLD,
            "asa": round(sum(waits) / len(waits), 2) if waits else None,
            "digits_pressed": rig["digits_pressed"],
            "digits_detected": status["counters"]["digits_detected"],
            "cdrs": status["counters"]["cdrs"],
            "recordings": len(list(branch.recordings.glob("*.wav"))) if branch.recordings.exists() else 0,
            "alarms": [{"object": a["object"], "cause": a["cause"], "severity": a["severity"],
                        "raised_s": round(at - t0, 2),
                        "cleared_s": round(_epoch(a["cleared_at"]) - t0, 2) if a["cleared_at"] else None}
                       for at, a in raised],
            "tower_log": [_tower_entry(change, raised, t0) for change in tower.recorder.changes],
        }


def _answered_waits(branch: SimulatedBranch) -> list[float]:
    """Queue waits of the answered calls, from the service's CDRs."""
    store = Store(branch.state / "qbox.db")
    try:
        return [row["wait"] for row in CdrStore(store).since()
                if row["disposition"] == "ANSWERED" and row["wait"] is not None]
    finally:
        store.close()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _tower_entry(change, raised: list[tuple[float, dict]], t0: float) -> dict:
    entry = {"t_s": round(change.t - t0, 3), **change.state.as_dict()}
    causes = [(at, alarm) for at, alarm in raised if 0 <= change.t - at <= 1.0]
    if causes:
        at, alarm = max(causes, key=lambda c: c[0])
        entry["alarm"] = f"{alarm['object']} {alarm['cause']}"
        entry["latency_ms"] = round((change.t - at) * 1000, 1)
    return entry
