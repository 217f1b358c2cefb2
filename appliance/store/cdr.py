"""Call detail records: one row per call, written in one transaction when the call ends.

A committed row survives ``kill -9`` (SQLite WAL); a call still up when the service
dies has no row, as in Asterisk's cdr modules.  The columns follow Asterisk's CDR
(``src``, ``dst``, ``disposition``, ``duration``, ``billsec``) plus what a queue machine
adds (queue, agent, wait, IVR path, recording).
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Literal

from appliance.store.db import Store

__all__ = ["Cdr", "CdrStore", "DISPOSITIONS", "BACKLOG_MAX"]

# CDRs kept in memory while the disk is full (about 1 kB each), to be written once it has room
BACKLOG_MAX = 100_000

DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "ABANDONED", "TRANSFERRED", "OVERFLOW")

_MIGRATIONS = [
    """
    CREATE TABLE cdr (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uniqueid TEXT NOT NULL UNIQUE,
        start REAL NOT NULL,
        answer REAL,
        end REAL NOT NULL,
        duration REAL NOT NULL,
        billsec REAL NOT NULL,
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        span INTEGER,
        channel INTEGER,
        disposition TEXT NOT NULL,
        cause INTEGER,
        hangup_by TEXT,
        ivr_path TEXT NOT NULL DEFAULT '',
        digits TEXT NOT NULL DEFAULT '',
        queue TEXT,
        agent TEXT,
        wait REAL,
        talk REAL,
        recording TEXT
    );
    CREATE INDEX cdr_start ON cdr (start);
    """,
]


@dataclass(frozen=True)
class Cdr:
    uniqueid: str
    start: float                 # epoch seconds: the SETUP arrived
    end: float                   # the call was released
    src: str                     # calling party number
    dst: str                     # called party number
    disposition: Literal["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "ABANDONED", "TRANSFERRED", "OVERFLOW"]
    answer: float | None = None  # the box answered (CONNECT)
    span: int | None = None
    channel: int | None = None
    cause: int | None = None     # Q.850 clearing cause
    hangup_by: str | None = None  # "caller", "agent", "system"
    ivr_path: str = ""           # nodes visited, space separated
    digits: str = ""             # every DTMF digit the caller pressed, in order
    queue: str | None = None
    agent: str | None = None
    wait: float | None = None    # seconds in queue
    talk: float | None = None    # seconds bridged to the agent
    recording: str | None = None  # path of the WAV file

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 3)

    @property
    def billsec(self) -> float:
        return round(self.end - self.answer, 3) if self.answer is not None else 0.0

    def as_row(self) -> dict:
        row = {name: getattr(self, name) for name in _FIELDS}   # shallow: asdict deep-copies
        row.update(duration=self.duration, billsec=self.billsec)
        return row


_FIELDS = tuple(f.name for f in fields(Cdr))
_COLUMNS = [*_FIELDS, "duration", "billsec"]
_INSERT = f"INSERT INTO cdr ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + name for name in _COLUMNS)})"
_INSERT_AGAIN = _INSERT.replace("INSERT", "INSERT OR IGNORE", 1)     # a record never goes in twice


class CdrStore:
    def __init__(self, store: Store, backlog_max: int = BACKLOG_MAX) -> None:
        self.store = store
        store.ensure_schema("cdr", _MIGRATIONS)
        self.committed = 0          # records written by this process and committed
        # records whose group commit was lost (a full disk), oldest first, for retry()
        self.backlog: deque[dict] = deque(maxlen=backlog_max)
        self.dropped = 0            # pushed out of a full backlog: lost for good

    def write(self, cdr: Cdr) -> None:
        """Commit one record: now, or in the store's group commit at the end of this loop
        iteration (see :class:`Store`).  Once committed it survives a crash, and counts
        in :attr:`committed`; if the commit is lost, the record waits in :attr:`backlog`."""
        row = cdr.as_row()
        self.store.submit(lambda: self._insert(row), self._count, lambda: self._keep(row))

    def retry(self) -> None:
        """Write the records a full disk kept back, in a transaction of their own (so they
        never cost a tick's fresh records their commit); they keep waiting while there is
        still no room.  The service calls it once a second."""
        rows = list(self.backlog)
        try:
            with self.store.transaction() as db:
                db.executemany(_INSERT_AGAIN, rows)
        except sqlite3.Error:
            return
        self.backlog.clear()
        self.committed += len(rows)

    def _count(self) -> None:
        self.committed += 1

    def _keep(self, row: dict) -> None:
        if len(self.backlog) == self.backlog.maxlen:
            self.dropped += 1       # the oldest goes: memory is not a disk
        self.backlog.append(row)

    def _insert(self, row: dict) -> None:
        with self.store.transaction() as db:
            db.execute(_INSERT, row)

    def count(self) -> int:
        return self.store.db.execute("SELECT COUNT(*) FROM cdr").fetchone()[0]

    def since(self, start: float = 0.0, limit: int | None = None) -> Iterator[dict]:
        columns = ", ".join(_COLUMNS)
        if limit is None:
            sql = f"SELECT {columns} FROM cdr WHERE start >= ? ORDER BY start, id"
            params: tuple = (start,)
        else:  # the newest N, still printed oldest first
            sql = (f"SELECT {columns} FROM (SELECT * FROM cdr WHERE start >= ?"
                   " ORDER BY start DESC, id DESC LIMIT ?) ORDER BY start, id")
            params = (start, limit)
        for row in self.store.db.execute(sql, params):
            yield {name: row[name] for name in _COLUMNS}

    @staticmethod
    def to_csv(rows: Iterable[dict]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    @staticmethod
    def to_json_lines(rows: Iterable[dict]) -> str:
        return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
