"""Agent state, statistics and every event survive a restart, kill -9 included."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.acd import AcdEngine, AgentConfig, Membership, QueueConfig
from appliance.acd.persistence import attach_store
from appliance.acd.queue_log import parse_line
from appliance.store import Store
from appliance.store.acd import AcdStore
from drivers.clock import ManualClock

from . import crash_child

QUEUES = [QueueConfig("q", wrapuptime=5, servicelevel=(20, 60)), QueueConfig("r")]
AGENTS = [AgentConfig("a", queues=(Membership("q"), Membership("r", 2))), AgentConfig("b", queues=(Membership("q"),))]


def start(db, clock):
    engine = AcdEngine(clock, QUEUES, AGENTS)
    stats = attach_store(engine, Store(db))
    engine.start()
    return engine, stats


def start_with_a_available_and_b_paused(db, clock, reason: str):
    engine, stats = start(db, clock)
    engine.agent_login("a")
    engine.agent_login("b")
    engine.agent_pause("b", reason)
    return engine, stats


def test_clean_restart_keeps_logins_pauses_penalties_counters_and_intervals(tmp_path):
    db = tmp_path / "qbox.db"
    clock = ManualClock()
    engine, stats = start_with_a_available_and_b_paused(db, clock, "meeting")
    engine.agent_pause("a", "coaching", queue="r")
    engine.set_penalty("a", "q", 3)
    engine.join("q", "c1")
    clock.advance(12)
    engine.answer("c1", "a")
    clock.advance(40)
    engine.agent_hangup("a")
    engine.join("q", "c2")
    clock.advance(8)
    engine.hangup("c2")
    before_total = stats.total("q").summary()
    before_a = engine.agent_status("a")
    before_times = dict(stats.agents["a"].seconds)

    clock2 = ManualClock(start=500.0, epoch=1_767_226_100.0)     # a new process, 500 s later
    engine2, stats2 = start(db, clock2)
    assert engine2.agent_status("b").state == "paused" and engine2.agent_status("b").reason == "meeting"
    status = engine2.agent_status("a")
    assert status.state == "available"
    assert status.queues == before_a.queues
    assert (status.calls, status.talk_time) == (1, 40.0)
    assert stats2.total("q").summary() == before_total
    assert stats2.agents["a"].seconds == pytest.approx(before_times)
    # leastrecent memory came back too: a's last call ended at wall T+52
    assert engine2.agents["a"].last_call_end == pytest.approx(500.0 - (1_767_226_100.0 - 1_767_225_652.0))
    kinds = [e["kind"] for e in AcdStore(Store(db)).events()]
    assert kinds.count("engine_started") == 2 and kinds.count("connected") == 1


@pytest.mark.slow
def test_kill_9_loses_nothing_that_was_done(tmp_path):
    db, log = tmp_path / "qbox.db", tmp_path / "queue_log"
    cycles = _run_and_kill(db, log, start=0.0, min_cycles=40)
    store = AcdStore(Store(db))
    events = store.events()
    done_calls = {f"call-0-{i}" for i in range(cycles)}
    # every finished cycle's caller has its join and its end in the store ...
    joined = {e["caller"] for e in events if e["kind"] == "caller_joined"}
    ended = {e["caller"] for e in events if e["kind"] in ("call_completed", "caller_left")}
    assert done_calls <= joined and done_calls <= ended
    # ... and in the queue_log, whose lines are all whole
    text = log.read_text()
    assert text.endswith("\n")
    rows = [parse_line(line) for line in text.splitlines()]
    logged_ends = {r["callid"] for r in rows if r["event"] in ("COMPLETECALLER", "ABANDON")}
    assert done_calls <= logged_ends
    # the interval figures match the recorded events exactly (same transactions)
    answered = sum(1 for e in events if e["kind"] == "connected")
    abandoned = sum(1 for e in events if e["kind"] == "caller_left" and e["reason"] == "abandon")
    engine, stats = _restart(db, start=10_000.0)
    total = stats.total("q")
    assert (total.answered, total.abandoned) == (answered, abandoned) and answered > 0
    # logins and the pause came back
    assert [engine.agent_status(a).state for a in "abc"] == ["available", "available", "paused"]
    assert engine.agent_status("c").reason == "lunch"
    # a second life, killed again, appends to the same records
    more = _run_and_kill(db, log, start=20_000.0, min_cycles=10)
    assert {f"call-20000-{i}" for i in range(more)} <= {
        e["caller"] for e in AcdStore(Store(db)).events() if e["kind"] == "call_completed" or e["kind"] == "caller_left"}


def _run_and_kill(db: Path, log: Path, start: float, min_cycles: int) -> int:
    proc = subprocess.Popen([sys.executable, crash_child.__file__, str(db), str(log), str(start)],
                            stdout=subprocess.PIPE, text=True)
    try:
        last = -1
        while last < min_cycles:
            line = proc.stdout.readline()
            assert line, "the child service died on its own"
            last = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # cycles it reported as done, even if more lines are still buffered in the pipe
        for line in proc.stdout:
            last = int(line)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return last + 1


def _restart(db: Path, start: float):
    clock = ManualClock(start=start, epoch=1_767_225_600.0 + start)
    engine = AcdEngine(clock, crash_child.QUEUES, crash_child.AGENTS)
    stats = attach_store(engine, Store(db))
    engine.start()
    return engine, stats


def test_the_store_keeps_memberships_added_changed_and_removed(tmp_path):
    db = tmp_path / "qbox.db"
    engine, _ = start(db, ManualClock())
    engine.agent_login("a")
    engine.agent_login("b")
    engine.remove_member("a", "r")
    engine.add_member("b", "r", penalty=4)
    engine.set_penalty("b", "q", 1)
    engine.agent_pause("a", "lunch")          # so the call goes to b
    engine.join("q", "c1")
    engine.answer("c1", "b")
    rows = Store(db).db.execute("SELECT agent, queue, penalty, removed FROM acd_members ORDER BY agent, queue")
    assert [tuple(row) for row in rows] == [("a", "q", 0, 0), ("a", "r", 0, 1),   # a/r: configured, taken out
                                            ("b", "q", 1, 0), ("b", "r", 4, 0)]
    engine2, _ = start(db, ManualClock(start=100.0))
    assert engine2.agent_status("b").queues == engine.agent_status("b").queues
    assert engine2.agent_status("a").queues == engine.agent_status("a").queues
    engine2.add_member("a", "r", penalty=1)          # back in: the tombstone is a member row again
    engine3, _ = start(db, ManualClock(start=200.0))
    assert engine3.agent_status("a").queues["r"]["penalty"] == 1


def test_a_queue_a_reload_takes_from_an_agent_comes_back_when_the_file_gives_it_back(tmp_path):
    db = tmp_path / "qbox.db"
    engine, _ = start(db, ManualClock())
    without_r = AgentConfig("a", queues=(Membership("q"),))
    engine.reconfigure_agent(without_r)          # what a reload does: the new file first...
    engine.remove_member("a", "r")               # ...then the membership it no longer lists
    assert engine.agent_record("a").removed == frozenset()
    engine2, _ = start(db, ManualClock(start=100.0))      # restarted with the file listing r again
    assert set(engine2.agent_status("a").queues) == {"q", "r"}


def test_reconfiguring_marks_a_run_time_removal_the_new_file_no_longer_lists(tmp_path):
    db = tmp_path / "qbox.db"
    engine, _ = start(db, ManualClock())
    engine.remove_member("a", "r")               # taken out at run time: remembered against the file
    assert engine.agent_record("a").removed == frozenset({"r"})
    engine.reconfigure_agent(AgentConfig("a", queues=(Membership("q"),)))
    rows = Store(db).db.execute("SELECT queue FROM acd_members WHERE agent = 'a' AND removed = 1")
    assert [r[0] for r in rows] == []            # the file dropped r: nothing to remember


def _agent_rows(db) -> dict[str, tuple]:
    rows = Store(db).db.execute("SELECT agent, calls, through FROM acd_agents ORDER BY agent")
    return {row["agent"]: (row["calls"], row["through"]) for row in rows}


def test_calls_and_state_changes_leave_the_agent_row_and_come_back_from_the_events(tmp_path):
    db = tmp_path / "qbox.db"
    clock = ManualClock()
    engine, stats = start_with_a_available_and_b_paused(db, clock, "lunch")
    clock.advance(3)
    engine.join("q", "c1")
    assert engine.caller_status("c1").agents == ("a",)
    rows_before = _agent_rows(db)
    clock.advance(4)
    engine.hangup("c1")                          # the caller gives up while offered to a
    clock.advance(7)
    engine.join("q", "c2")
    clock.advance(2)
    engine.answer("c2", "a")
    clock.advance(30)
    engine.agent_hangup("a")
    clock.advance(6)                             # wrap-up (5 s), then available again
    # a's times and counters changed, its settings did not: its row stayed as it was
    assert _agent_rows(db)["a"] == rows_before["a"]
    before = dict(stats.agents["a"].seconds)
    assert before["reserved"] == 6.0 and before["talking"] == 30.0 and before["wrapup"] == 5.0
    status = engine.agent_status("a")

    # no clean stop (as after kill -9): the next run replays the events after the row
    engine2, stats2 = start(db, ManualClock(start=1000.0))
    assert stats2.agents["a"].seconds == pytest.approx(before)
    assert stats2.agents["b"].seconds == pytest.approx(dict(stats.agents["b"].seconds))
    restored = engine2.agent_status("a")
    assert (restored.calls, restored.talk_time, restored.queues) == (1, 30.0, status.queues)
    assert restored.queues["q"]["calls"] == 1
    assert engine2.agent_record("a").last_call_end_wall == pytest.approx(engine.agent_record("a").last_call_end_wall)
    # and writes every row afresh, so the run after it replays nothing twice
    engine3, stats3 = start(db, ManualClock(start=2000.0))
    assert stats3.agents["a"].seconds == pytest.approx(before)
    assert (engine3.agent_status("a").calls, engine3.agent_status("a").queues) == (1, status.queues)


def test_agent_rows_are_written_afresh_once_a_snapshot_interval(tmp_path):
    from appliance.acd.persistence import SNAPSHOT_S

    db = tmp_path / "qbox.db"
    clock = ManualClock()
    engine, _ = start(db, clock)
    engine.agent_login("a")
    through = _agent_rows(db)["b"][1]
    clock.advance(SNAPSHOT_S + 1)
    engine.agent_pause("a", "break")             # any event: its commit takes the snapshot
    assert _agent_rows(db)["b"][1] > through     # b did nothing, yet its row is new


def test_rows_of_a_store_from_before_the_snapshots_are_taken_as_of_its_last_event(tmp_path):
    from appliance.store.acd import MIGRATIONS

    db = tmp_path / "qbox.db"
    old = Store(db)
    old.ensure_schema("acd", MIGRATIONS[:2])
    old.db.execute("INSERT INTO acd_events (wall, kind, agent, data) VALUES"
                   " (1.0, 'agent_state', 'a', '{\"agent\": \"a\", \"state\": \"available\", \"time\": 5.0}')")
    old.db.execute("INSERT INTO acd_agents (agent, logged_in, pause_reason, calls, talk_time, state_seconds,"
                   " updated) VALUES ('a', 1, '', 2, 30.0, '{\"available\": 12.5}', 1.0)")
    records, times = AcdStore(Store(db)).load_agents()
    assert [r.calls for r in records] == [2]
    assert times["a"].seconds == {"available": 12.5}      # the old row already held that event


def test_events_of_a_group_commit_a_full_disk_lost_are_written_first_with_the_next(tmp_path):
    db = tmp_path / "qbox.db"
    clock = ManualClock()
    store = Store(db)
    store.db.execute("CREATE TABLE big (b TEXT)")
    turns = []
    store.group_commits(turns.append)
    engine = AcdEngine(clock, QUEUES, AGENTS)
    stats = attach_store(engine, store, group_commit=True)
    engine.start()
    turns.pop()()
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")      # no page more
    engine.agent_login("a")                                   # its events fit, but in the same group
    store.submit(_big_write(store))                           # a write that does not fails it whole
    turns.pop()()
    assert store.lost_commits.count == 1 and _kinds(db) == ["engine_started"]
    store.db.execute("PRAGMA max_page_count = 100000")       # room again
    clock.advance(3)
    engine.agent_pause("a", "lunch")
    turns.pop()()
    assert _kinds(db) == ["engine_started", "member_added", "member_added", "agent_state",   # the login's,
                          "agent_paused", "agent_state"]                                    # then the pause's
    # a's row is written again (which rows reached the disk was unknown): a restart needs nothing lost
    engine2, stats2 = start(db, ManualClock(start=100.0))
    assert (engine2.agent_status("a").state, engine2.agent_status("a").reason) == ("paused", "lunch")
    assert stats2.agents["a"].seconds["available"] == stats.agents["a"].seconds["available"] == 3.0


def test_events_held_for_a_full_disk_are_bounded_the_oldest_go_first(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("appliance.acd.persistence.HELD_MAX", 2)
    db = tmp_path / "qbox.db"
    store = Store(db)
    store.db.execute("CREATE TABLE big (b TEXT)")
    turns = []
    store.group_commits(turns.append)
    engine = AcdEngine(ManualClock(), QUEUES, AGENTS)
    attach_store(engine, store, group_commit=True)
    engine.start()
    turns.pop()()
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    engine.agent_login("a")                                   # three events: one more than held
    store.submit(_big_write(store))
    turns.pop()()
    store.db.execute("PRAGMA max_page_count = 100000")
    engine.agent_pause("a", "lunch")
    turns.pop()()
    assert _kinds(db) == ["engine_started", "member_added", "agent_state", "agent_paused", "agent_state"]
    assert "ACD events dropped: more held for a full disk than can be kept" in caplog.messages


def _big_write(store: Store):
    def write() -> None:
        with store.transaction() as db:
            db.executemany("INSERT INTO big VALUES (?)", [("x" * 3000,)] * 3)
    return write


def _kinds(db) -> list[str]:
    return [event["kind"] for event in AcdStore(Store(db)).events()]
