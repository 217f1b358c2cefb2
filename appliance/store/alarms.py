"""Alarms in the store: the alarm records and their history, surviving restarts.

Two tables: ``alarms`` holds one row per alarm (its current state, updated in place)
and ``alarm_events`` every change in order (raised, changed, reraised, cleared,
acknowledged, commented), which is ``qbox alarms history``.  Each change is written
in one transaction together with its history row, so the two never disagree.
At most one alarm is active per (object, cause): a partial unique index says so.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from appliance.alarms.model import Alarm, AlarmEvent, Comment, iso_time, severity_rank
from appliance.store.db import Store, StoreError

__all__ = ["AlarmStore", "HistoryEntry"]

MIGRATIONS = [
    """
    CREATE TABLE alarms (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        object TEXT NOT NULL,
        cause TEXT NOT NULL,
        severity TEXT NOT NULL,
        event_type TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        raised_at REAL NOT NULL,
        changed_at REAL NOT NULL,
        cleared_at REAL,
        acked_by TEXT,
        acked_at REAL,
        count INTEGER NOT NULL DEFAULT 1
    );
    CREATE UNIQUE INDEX alarms_one_active ON alarms (object, cause) WHERE cleared_at IS NULL;
    CREATE TABLE alarm_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alarm_id INTEGER NOT NULL REFERENCES alarms (id),
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        actor TEXT,
        text TEXT
    );
    CREATE INDEX alarm_events_at ON alarm_events (at);
    """,
]

_COLUMNS = ("object", "cause", "severity", "event_type", "text", "raised_at", "changed_at",
            "cleared_at", "acked_by", "acked_at", "count")


@dataclass(frozen=True)
class HistoryEntry:
    """One change to one alarm, oldest first in ``history()``."""

    seq: int
    at: float          # wall-clock seconds
    kind: str          # raised, changed, reraised, cleared, acknowledged, commented
    severity: str      # the severity after the change ("cleared" for a clear)
    actor: str | None
    text: str | None
    alarm_id: int
    object: str
    cause: str

    def as_dict(self) -> dict:
        data = asdict(self)
        data["at"] = iso_time(self.at)
        return data


class AlarmStore:
    """Alarm records in a :class:`Store` (creates its tables on first use)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("alarms", MIGRATIONS)

    @property
    def _db(self) -> sqlite3.Connection:
        return self.store.db

    def write(self, event: AlarmEvent, at: float) -> Alarm:
        """Persist one change: the alarm row (inserted if its id is 0) and its history row.

        Returns the alarm as stored (with its id).
        """
        alarm = event.alarm
        values = [getattr(alarm, c) for c in _COLUMNS]
        try:
            with self.store.transaction() as db:
                if alarm.id == 0:
                    cur = db.execute(
                        f"INSERT INTO alarms ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                        values)
                    alarm = alarm.evolve(id=cur.lastrowid)
                else:
                    db.execute(f"UPDATE alarms SET {', '.join(c + ' = ?' for c in _COLUMNS)} WHERE id = ?",
                               values + [alarm.id])
                severity = "cleared" if event.kind == "cleared" else alarm.severity
                db.execute(
                    "INSERT INTO alarm_events (alarm_id, at, kind, severity, actor, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (alarm.id, at, event.kind, severity, event.actor, event.text))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: cannot record alarm {alarm.object}/{alarm.cause}: {exc}") from exc
        return alarm

    def update_count(self, alarm_id: int, count: int) -> None:
        """A flap folded into an active alarm: only its count changes, no history row."""
        try:
            self._db.execute("UPDATE alarms SET count = ? WHERE id = ?", (count, alarm_id))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.store.path}: cannot update alarm {alarm_id}: {exc}") from exc

    def get(self, alarm_id: int) -> Alarm | None:
        row = self._db.execute("SELECT * FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
        return self._alarms([row])[0] if row else None

    def active(self) -> list[Alarm]:
        """Alarms not cleared, most severe first, then oldest first."""
        rows = self._db.execute("SELECT * FROM alarms WHERE cleared_at IS NULL ORDER BY id").fetchall()
        return _by_severity(self._alarms(rows))

    def all(self, limit: int = 1000) -> list[Alarm]:
        """Active alarms first (most severe first), then cleared ones, newest first."""
        rows = self._db.execute(
            "SELECT * FROM alarms WHERE cleared_at IS NOT NULL ORDER BY cleared_at DESC, id DESC LIMIT ?",
            (limit,)).fetchall()
        return self.active() + self._alarms(rows)

    def history(self, since: float | None = None, limit: int = 10000) -> list[HistoryEntry]:
        rows = self._db.execute(
            "SELECT e.seq, e.at, e.kind, e.severity, e.actor, e.text, e.alarm_id, a.object, a.cause"
            " FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id"
            " WHERE e.at >= ? ORDER BY e.seq LIMIT ?",
            (since if since is not None else float("-inf"), limit)).fetchall()
        return [HistoryEntry(*row) for row in rows]

    def _alarms(self, rows: Iterable[sqlite3.Row]) -> list[Alarm]:
        rows = list(rows)
        comments: dict[int, list[Comment]] = {}
        if rows:
            ids = [row["id"] for row in rows]
            for alarm_id, at, actor, text in self._db.execute(
                    f"SELECT alarm_id, at, actor, text FROM alarm_events WHERE kind IN ('commented', 'acknowledged')"
                    f" AND text IS NOT NULL AND alarm_id IN ({', '.join('?' * len(ids))}) ORDER BY seq", ids):
                comments.setdefault(alarm_id, []).append(Comment(at, actor or "", text))
        return [Alarm(id=row["id"], comments=tuple(comments.get(row["id"], ())),
                      **{c: row[c] for c in _COLUMNS}) for row in rows]


def _by_severity(alarms: list[Alarm]) -> list[Alarm]:
    return sorted(alarms, key=lambda a: (-severity_rank(a.severity), a.raised_at, a.id))
