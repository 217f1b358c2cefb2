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
