import sqlite3

import pytest

from appliance.store import Store


def test_migrations_apply_once_and_in_order(tmp_path):
    path = tmp_path / "qbox.db"
    migrations = ["CREATE TABLE t (a INTEGER);", "ALTER TABLE t ADD COLUMN b TEXT;"]
    store = Store(path)
    store.ensure_schema("demo", migrations[:1])
    store.ensure_schema("demo", migrations)
    store.close()
    store = Store(path)
    store.ensure_schema("demo", migrations)  # nothing left to apply: must not fail
    cols = [r["name"] for r in store.db.execute("PRAGMA table_info(t)")]
    assert cols == ["a", "b"]
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transaction_rolls_back_on_error(tmp_path):
    store = Store(tmp_path / "qbox.db")
    store.ensure_schema("demo", ["CREATE TABLE t (a INTEGER UNIQUE);"])
    with store.transaction() as db:
        db.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction() as db:
            db.execute("INSERT INTO t VALUES (2)")
            db.execute("INSERT INTO t VALUES (1)")
    assert [r[0] for r in store.db.execute("SELECT a FROM t")] == [1]


def _rows(path) -> list[int]:
    """What another connection (a process after a crash) sees committed."""
    return [r[0] for r in sqlite3.connect(path).execute("SELECT a FROM t ORDER BY a")]


def _insert(store: Store, value: int):
    def write() -> None:
        with store.transaction() as db:
            db.execute("INSERT INTO t VALUES (?)", (value,))
    return write


def test_group_commit_holds_writes_until_its_turn_then_commits_them_once(tmp_path):
    path = tmp_path / "qbox.db"
    store = Store(path)
    store.ensure_schema("demo", ["CREATE TABLE t (a INTEGER UNIQUE);"])
    turns = []
    store.group_commits(turns.append)
    commits = []
    store.db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    for value in (1, 2, 3):
        store.submit(_insert(store, value))
    assert len(turns) == 1 and _rows(path) == []      # one turn scheduled; nothing on disk yet
    turns.pop()()
    assert _rows(path) == [1, 2, 3] and commits == ["COMMIT"]


def test_a_failing_write_in_a_group_is_dropped_alone(tmp_path, caplog):
    path = tmp_path / "qbox.db"
    store = Store(path)
    store.ensure_schema("demo", ["CREATE TABLE t (a INTEGER UNIQUE);"])
    turns = []
    store.group_commits(turns.append)
    committed = []
    store.submit(_insert(store, 1), lambda: committed.append(1))
    store.submit(_insert(store, 1), lambda: committed.append("again"))    # violates UNIQUE: rolled back
    store.submit(_insert(store, 2), lambda: committed.append(2))          # to its savepoint, alone
    assert committed == []                             # nothing is committed before the turn
    turns.pop()()
    assert _rows(path) == [1, 2] and committed == [1, 2]
    [record] = caplog.records
    assert record.getMessage() == "store write failed; dropped" and "UNIQUE" in record.kv["error"]


def test_closing_the_store_commits_what_is_still_held(tmp_path):
    path = tmp_path / "qbox.db"
    store = Store(path)
    store.ensure_schema("demo", ["CREATE TABLE t (a INTEGER UNIQUE);"])
    store.group_commits(lambda turn: None)             # the loop has stopped: the turn never comes
    store.submit(_insert(store, 7))
    store.close()
    assert _rows(path) == [7]


def test_without_group_commit_a_write_is_committed_at_once(tmp_path):
    path = tmp_path / "qbox.db"
    store = Store(path)
    store.ensure_schema("demo", ["CREATE TABLE t (a INTEGER UNIQUE);"])
    committed = []
    store.submit(_insert(store, 5), lambda: committed.append(5))
    assert _rows(path) == [5] and committed == [5]


def _filler(store: Store, value: int):
    def write() -> None:
        with store.transaction() as db:
            db.execute("INSERT INTO t VALUES (?)", (value,))
            db.executemany("INSERT INTO big VALUES (?)", [(_BIG,)] * 3)    # more than the pages left
    return write


_BIG = "x" * 3000


def test_a_full_disk_loses_the_groups_it_cannot_commit_and_the_store_goes_on(tmp_path, caplog):
    path = tmp_path / "qbox.db"
    store = Store(path)
    store.ensure_schema("demo", ["CREATE TABLE t (a INTEGER UNIQUE);\nCREATE TABLE big (b TEXT);"])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")   # no page more: SQLite's 'database or disk is full'
    turns = []
    store.group_commits(turns.append)
    committed = []
    for _ in range(2):                                 # two ticks while the disk is full
        store.submit(_filler(store, 1), lambda: committed.append(1))
        store.submit(_insert(store, 2), lambda: committed.append(2))
        turns.pop()()                                  # raises nothing: the service's frames still go
    assert store.lost_commits.count == 2 and _rows(path) == [] and not store.db.in_transaction
    assert committed == []                             # a lost record is not counted as written
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("store commit failed; its records are lost until commits succeed again") == 1
    store.db.execute("PRAGMA max_page_count = 100000")  # space again
    store.submit(_insert(store, 3))
    turns.pop()()
    assert _rows(path) == [3] and caplog.records[-1].getMessage() == "store commits again"
