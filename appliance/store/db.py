"""The SQLite connection and per-component schema migrations."""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance.errors import QboxError
from appliance.losses import LossCounter

__all__ = ["Store", "StoreError"]

log = logging.getLogger(__name__)


class StoreError(QboxError):
    """The store could not be opened or migrated."""


class Store:
    """One SQLite database in WAL mode.

    WAL with ``synchronous=NORMAL`` keeps every committed transaction across a
    ``kill -9`` of the service (only an OS crash may lose the last ones); pass
    ``synchronous="FULL"`` where power loss matters more than write rate.

    Group commit: after :meth:`group_commits` (the service schedules one a media tick),
    :meth:`submit` holds writes until :meth:`commit_pending` and commits them all in one
    transaction, each in a savepoint of its own; a transaction opened inside another
    becomes a savepoint.  The CDRs, queue events and agent rows of a tick then cost one
    COMMIT, not one each.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None)  # autocommit; explicit BEGIN
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={synchronous}")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions ("
                " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc
        self._depth = 0                                   # transactions open, outermost first
        self._schedule: Callable[[Callable[[], None]], object] | None = None
        self._pending: list[Callable[[], None]] = []
        self.lost_commits = LossCounter(        # group commits lost whole (a full disk)
            log, "store commit failed; its records are lost until commits succeed again", "store commits again",
            path=self.path)

    def ensure_schema(self, component: str, migrations: Sequence[str]) -> None:
        """Apply the migrations of ``component`` not yet applied (index + 1 = version).

        Migrations are append-only: never edit one that has shipped; add the next.
        """
        row = self.db.execute(
            "SELECT version FROM schema_versions WHERE component = ?", (component,)
        ).fetchone()
        current = row["version"] if row else 0
        for version, script in enumerate(migrations[current:], start=current + 1):
            with self.transaction():
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?, ?)"
                    " ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, version),
                )

    def transaction(self) -> "_Transaction":
        """``with store.transaction(): ...`` commits on success, rolls back on error;
        inside another transaction it is a savepoint that rolls back only its own writes."""
        return _Transaction(self)

    def group_commits(self, schedule: Callable[[Callable[[], None]], object]) -> None:
        """From now on :meth:`submit` defers writes to one commit that ``schedule`` runs."""
        self._schedule = schedule

    def submit(self, write: Callable[[], None], on_commit: Callable[[], None] | None = None,
               on_lost: Callable[[], None] | None = None) -> None:
        """Run ``write`` (which opens its own transaction) now, or with group commits set
        up, in the group's transaction when the scheduled commit runs; then
        ``on_commit()`` once what it wrote is committed, or ``on_lost()`` if its group
        commit is lost whole (a full disk), so the writer may keep the record and submit
        it again.  (A write that fails alone, a bad record, gets neither.)"""
        if self._schedule is None:
            write()
            if on_commit is not None:
                on_commit()
            return
        if not self._pending:
            self._schedule(self.commit_pending)
        self._pending.append((write, on_commit, on_lost))

    @property
    def pending(self) -> bool:
        """Writes are waiting for the group's commit."""
        return bool(self._pending)

    def commit_pending(self) -> None:
        """Commit the writes submitted so far, together.  One that fails is rolled back
        alone and logged; the others are kept.

        A commit that fails as a whole (SQLite rolls the transaction back itself on a full
        disk) loses its writes, counted in :attr:`lost_commits`, and never raises, so the
        service goes on with its calls while the disk is full."""
        while self._pending:                      # a write may submit another
            writes, self._pending = self._pending, []
            try:
                with self.transaction():
                    written = self._run(writes)
            except sqlite3.Error as exc:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                self._depth = 0
                self.lost_commits.lost(str(exc), writes=len(writes))
                for _, _, on_lost in writes:
                    if on_lost is not None:
                        on_lost()
            else:
                self.lost_commits.written()
                for on_commit in written:
                    on_commit()

    def _run(self, writes: list[tuple[Callable[[], None], Callable[[], None] | None, Callable[[], None] | None]]
             ) -> list[Callable[[], None]]:
        """Run the writes; returns the ``on_commit`` callbacks of those that succeeded."""
        written = []
        for write, on_commit, _ in writes:
            try:
                write()
            except Exception as exc:              # one bad record must not cost the others theirs
                log.error("store write failed; dropped", extra={"kv": {"error": repr(exc)}})
                if not self.db.in_transaction:
                    raise                         # the whole transaction is gone: nothing to keep
            else:
                if on_commit is not None:
                    written.append(on_commit)
        return written

    def close(self) -> None:
        self.commit_pending()
        self.db.close()


class _Transaction:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        store.db.execute("BEGIN IMMEDIATE" if store._depth == 0 else f"SAVEPOINT s{store._depth}")
        store._depth += 1
        return store.db

    def __exit__(self, exc_type, exc, tb) -> None:
        store = self.store
        store._depth -= 1
        if store._depth == 0:
            store.db.execute("ROLLBACK" if exc_type else "COMMIT")
        elif exc_type:
            store.db.execute(f"ROLLBACK TO s{store._depth}")
            store.db.execute(f"RELEASE s{store._depth}")
        else:
            store.db.execute(f"RELEASE s{store._depth}")


def _statements(script: str) -> list[str]:
    """Split a migration script on semicolons that end complete SQL statements."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements
