"""What a kill -9 leaves behind is put right at the next start: callers it cut off are
closed once, memberships removed at run time stay removed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from appliance.store import Store
from appliance.store.acd import AcdStore

from . import kill_child
from .kill_child import EPOCH, build


def run_and_kill(db: Path, scenario: str) -> None:
    proc = subprocess.Popen([sys.executable, kill_child.__file__, str(db), scenario], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n", "the child service died on its own"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL


def lost_events(db: Path) -> list[tuple]:
    return sorted((e["caller"], e["queue"], e["answered"], e["waited"], e["wall"])
                  for e in AcdStore(Store(db)).events(kind="caller_lost"))


def test_callers_in_flight_at_a_kill_are_closed_as_lost_once(tmp_path):
    db = tmp_path / "qbox.db"
    run_and_kill(db, "callers_in_flight")
    engine, stats = build(str(db), 1000.0)          # restarted 1000 s later
    # waited: from the join to the last record of the killed run (t=16)
    assert lost_events(db) == [("c-talk", "q", True, 16.0, EPOCH + 1000), ("c-wait", "q", False, 11.0, EPOCH + 1000),
                               ("c-wait2", "q", False, 4.0, EPOCH + 1000)]
    q, r = stats.total("q"), stats.total("r")
    assert (q.offered, q.answered, q.completed, q.abandoned, q.lost, q.lost_in_call) == (3, 1, 0, 0, 2, 1)
    assert q.longest_wait == 11.0 and q.abandon_rate == 0.0
    assert (r.offered, r.abandoned, r.lost, r.lost_in_call) == (1, 1, 0, 0)
    assert engine.waiting("q") == []
    summary = q.summary()

    _, stats2 = build(str(db), 2000.0)               # and again: nothing is closed twice
    assert len(lost_events(db)) == 3
    assert stats2.total("q").summary() == summary


def test_a_clean_run_leaves_nothing_to_close(tmp_path):
    db = tmp_path / "qbox.db"
    engine, _ = build(str(db), 0.0)
    engine.agent_login("a")
    engine.join("q", "c1")
    engine.answer("c1", "a")
    engine.hangup("c1")
    engine.join("q", "c2")
    engine.hangup("c2")
    build(str(db), 100.0)
    assert lost_events(db) == []


def test_interval_rows_from_before_the_lost_figures_load_with_zero(tmp_path):
    store = Store(tmp_path / "qbox.db")
    acd = AcdStore(store)
    figures = ('{"offered": 2, "answered": 1, "abandoned": 1, "timed_out": 0, "exited_empty": 0, "exited_key": 0,'
               ' "completed": 1, "wait_answered": 3.0, "wait_abandoned": 4.0, "talk": 9.0, "wrapup": 0.0,'
               ' "longest_wait": 4.0, "answered_within": {"20.0": 1}, "abandoned_within": {"20.0": 1}}')
    with store.transaction() as db:
        db.execute("INSERT INTO acd_intervals (queue, start, figures) VALUES ('q', ?, ?)", (EPOCH, figures))
    stats = acd.load_intervals({"q": (20.0,)})["q"][EPOCH]
    assert (stats.offered, stats.abandoned, stats.lost, stats.lost_in_call) == (2, 1, 0, 0)


def test_memberships_removed_at_run_time_stay_removed_after_a_kill(tmp_path):
    db = tmp_path / "qbox.db"
    run_and_kill(db, "memberships_removed")
    engine, _ = build(str(db), 1000.0)
    assert set(engine.agent_status("a").queues) == {"q"}          # was logged in: REMOVEMEMBER
    assert set(engine.agent_status("c").queues) == set()          # was logged out: no queue event at all
    assert set(engine.agent_status("b").queues) == {"q", "r"}
    # the routing core agrees: a caller in r is not offered to a, though a is free
    assert engine.agent_status("a").state == "available"
    engine.join("r", "c1")
    assert engine.caller_status("c1").agents == ()
    engine.agent_login("c")
    engine.join("q", "c2")
    assert engine.caller_status("c2").agents == ("a",)
