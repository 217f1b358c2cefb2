"""The SQLite connection and per-component schema migrations."""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from appliance.errors import QboxError

__all__ = ["Store", "StoreError"]


class StoreError(QboxError):
    """The store could not be opened or migrated."""


class Store:
    """One SQLite database in WAL mode.

    WAL with ``synchronous=NORMAL`` keeps every committed transaction across a
    ``kill -9`` of the service (only an OS crash may lose the last ones); pass
    ``synchronous="FULL"`` where power loss matters more than write rate.
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
        """``with store.transaction(): ...`` commits on success, rolls back on error."""
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


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
