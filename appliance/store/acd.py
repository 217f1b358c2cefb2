"""The ACD's tables: every queue event, agent login/pause state and counters, and the
per-interval service-level figures.

The events of one engine operation are written in one transaction together with the
agent and interval rows they changed, so after a ``kill -9`` the store holds exactly
the operations the engine had finished, and rows that match them.

An agent's row is rewritten when its record (login, pause, counters, memberships)
changes, not on every state change: its seconds in each state are those of the row
(as of event ``through``) plus the ``agent_state`` events recorded after it, which
:meth:`AcdStore.load_agents` replays.  :meth:`AcdStore.snapshot_agents` writes every
row afresh, so that replay stays short.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Optional

from appliance.acd.agents import AgentRecord
from appliance.acd.events import AcdEvent, event_data
from appliance.acd.stats import AgentTimes, IntervalStats
from appliance.store.db import Store

__all__ = ["AcdStore", "MIGRATIONS"]

MIGRATIONS = [
    """
    CREATE TABLE acd_events (
        id INTEGER PRIMARY KEY,
        wall REAL NOT NULL,
        kind TEXT NOT NULL,
        queue TEXT,
        caller TEXT,
        agent TEXT,
        data TEXT NOT NULL
    );
    CREATE INDEX acd_events_wall ON acd_events (wall);
    CREATE TABLE acd_agents (
        agent TEXT PRIMARY KEY,
        logged_in INTEGER NOT NULL,
        pause_reason TEXT NOT NULL,
        calls INTEGER NOT NULL,
        talk_time REAL NOT NULL,
        last_call_end REAL,
        state_seconds TEXT NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE acd_members (
        agent TEXT NOT NULL,
        queue TEXT NOT NULL,
        penalty INTEGER NOT NULL,
        paused INTEGER NOT NULL,
        pause_reason TEXT NOT NULL,
        calls INTEGER NOT NULL,
        PRIMARY KEY (agent, queue)
    );
    CREATE TABLE acd_intervals (
        queue TEXT NOT NULL,
        start REAL NOT NULL,
        figures TEXT NOT NULL,
        PRIMARY KEY (queue, start)
    );
    """,
    # a configured membership taken out at run time stays out after a restart
    "ALTER TABLE acd_members ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;",
    # agent rows as of an event: the state the agent was in then (since: engine clock),
    # the last event they include; rows written before were rewritten on every event
    """
    ALTER TABLE acd_agents ADD COLUMN state TEXT NOT NULL DEFAULT 'logged_out';
    ALTER TABLE acd_agents ADD COLUMN since REAL NOT NULL DEFAULT 0;
    ALTER TABLE acd_agents ADD COLUMN through INTEGER NOT NULL DEFAULT 0;
    UPDATE acd_agents SET through = (SELECT IFNULL(MAX(id), 0) FROM acd_events);
    """,
]

_COUNTS = ("offered", "answered", "abandoned", "timed_out", "exited_empty", "exited_key", "completed",
           "lost", "lost_in_call", "wait_answered", "wait_abandoned", "talk", "wrapup", "longest_wait")


# one encoder for every event record (json.dumps with ``default`` builds a new one a call);
# sets in event fields (queue lists) are written as lists
_encode_event = json.JSONEncoder(default=list).encode

_MemberRows = dict[str, tuple[int, bool, str, int, bool]]    # queue -> (penalty, paused, reason, calls, removed)
_REMOVED = (0, False, "", 0, True)       # the row of a configured membership taken out at run time


class AcdStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("acd", MIGRATIONS)
        # agent -> its acd_members rows as committed by this object (or loaded by it), so a
        # write touches only the memberships that changed (on every call: one queue's count)
        self._members: dict[str, _MemberRows] = {}
        self._records: dict[str, AgentRecord] = {}     # agent -> its record as last committed

    def write(self, events: Iterable[AcdEvent], agents: Iterable[tuple[AgentRecord, AgentTimes]],
              intervals: Iterable[tuple[str, float, IntervalStats]]) -> None:
        """Record ``events``, the rows of those ``agents`` whose record changed, and the
        interval rows, atomically."""
        rows = []
        for event in events:
            data = event_data(event)
            rows.append((event.wall, event.kind, data.get("queue"), data.get("caller"), data.get("agent"),
                         _encode_event(data)))
        changed = [(record, times) for record, times in agents if self._records.get(record.id) != record]
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO acd_events (wall, kind, queue, caller, agent, data) VALUES (?, ?, ?, ?, ?, ?)", rows)
            if changed:
                through = db.execute("SELECT last_insert_rowid()").fetchone()[0] if rows else self._last_event(db)
                members = self._write_agents(db, changed, rows[-1][0] if rows else 0.0, through)
            for queue, start, stats in intervals:
                db.execute(
                    "INSERT INTO acd_intervals (queue, start, figures) VALUES (?, ?, ?)"
                    " ON CONFLICT(queue, start) DO UPDATE SET figures = excluded.figures",
                    (queue, start, json.dumps(_figures(stats))),
                )
        if changed:                       # only once they are committed
            self._remember(changed, members)

    def snapshot_agents(self, agents: Iterable[tuple[AgentRecord, AgentTimes]], wall: float) -> None:
        """Write these agents' rows as they are now, changed or not (their times then
        need no replay)."""
        agents = list(agents)
        with self.store.transaction() as db:
            members = self._write_agents(db, agents, wall, self._last_event(db))
        self._remember(agents, members)

    @staticmethod
    def _last_event(db) -> int:
        return db.execute("SELECT IFNULL(MAX(id), 0) FROM acd_events").fetchone()[0]

    def _write_agents(self, db, agents: list[tuple[AgentRecord, AgentTimes]], wall: float,
                      through: int) -> dict[str, _MemberRows]:
        return {record.id: self._write_agent(db, record, times, wall, through) for record, times in agents}

    def _remember(self, agents: list[tuple[AgentRecord, AgentTimes]], members: dict[str, _MemberRows]) -> None:
        self._records.update((record.id, record) for record, _ in agents)
        self._members.update(members)

    def _write_agent(self, db, record: AgentRecord, times: AgentTimes, wall: float,
                     through: int) -> _MemberRows:
        """Write the agent's row and its changed memberships; returns the memberships now written."""
        db.execute(
            "INSERT INTO acd_agents (agent, logged_in, pause_reason, calls, talk_time, last_call_end,"
            " state_seconds, updated, state, since, through) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(agent) DO UPDATE SET logged_in = excluded.logged_in,"
            " pause_reason = excluded.pause_reason, calls = excluded.calls, talk_time = excluded.talk_time,"
            " last_call_end = excluded.last_call_end, state_seconds = excluded.state_seconds,"
            " updated = excluded.updated, state = excluded.state, since = excluded.since,"
            " through = excluded.through",
            (record.id, int(record.logged_in), record.pause_reason, record.calls, record.talk_time,
             record.last_call_end_wall, json.dumps(times.seconds), wall, times.state, times.since, through),
        )
        written = self._members.get(record.id)
        if written is None:      # rows this object has not seen: replace them all
            db.execute("DELETE FROM acd_members WHERE agent = ?", (record.id,))
            written = {}
        rows: _MemberRows = {queue: (*member, False) for queue, member in record.members.items()}
        rows.update((queue, _REMOVED) for queue in record.removed)
        changed = [(record.id, queue, *row) for queue, row in rows.items() if written.get(queue) != row]
        if changed:
            db.executemany(
                "INSERT INTO acd_members (agent, queue, penalty, paused, pause_reason, calls, removed)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(agent, queue) DO UPDATE SET penalty = excluded.penalty,"
                " paused = excluded.paused, pause_reason = excluded.pause_reason, calls = excluded.calls,"
                " removed = excluded.removed",
                changed,
            )
        gone = [(record.id, queue) for queue in written if queue not in rows]
        if gone:
            db.executemany("DELETE FROM acd_members WHERE agent = ? AND queue = ?", gone)
        return rows

    def load_agents(self) -> tuple[list[AgentRecord], dict[str, AgentTimes]]:
        written: dict[str, _MemberRows] = {}
        for row in self.store.db.execute("SELECT * FROM acd_members ORDER BY agent, queue"):
            written.setdefault(row["agent"], {})[row["queue"]] = (
                row["penalty"], bool(row["paused"]), row["pause_reason"], row["calls"], bool(row["removed"]))
        self._members = written
        records, times, through = [], {}, {}
        for row in self.store.db.execute("SELECT * FROM acd_agents ORDER BY agent"):
            rows = written.get(row["agent"], {})
            members = {queue: member[:4] for queue, member in rows.items() if not member[4]}
            removed = frozenset(queue for queue, member in rows.items() if member[4])
            records.append(AgentRecord(row["agent"], bool(row["logged_in"]), row["pause_reason"], row["calls"],
                                       row["talk_time"], row["last_call_end"], members, removed))
            times[row["agent"]] = AgentTimes(seconds=json.loads(row["state_seconds"]), calls=row["calls"],
                                             state=row["state"], since=row["since"])
            through[row["agent"]] = row["through"]
        self._records = {record.id: record for record in records}
        self._replay_states(times, through)
        return records, times

    def _replay_states(self, times: dict[str, AgentTimes], through: dict[str, int]) -> None:
        """Add to each agent's times the state changes recorded after its row."""
        if not through:
            return
        for row in self.store.db.execute("SELECT id, agent, data FROM acd_events WHERE kind = 'agent_state'"
                                         " AND id > ? ORDER BY id", (min(through.values()),)):
            if row["id"] > through.get(row["agent"], row["id"]):
                data = json.loads(row["data"])
                times[row["agent"]].enter(data["state"], data["time"])

    def open_callers(self) -> tuple[list[tuple[dict[str, Any], bool]], float]:
        """Callers of the last run (since its engine_started) that joined and never
        ended, as ``(caller_joined fields, answered)``, and that run's last record's wall."""
        db = self.store.db
        row = db.execute("SELECT id FROM acd_events WHERE kind = 'engine_started' ORDER BY id DESC LIMIT 1").fetchone()
        since = row[0] if row else 0
        joined: dict[str, dict[str, Any]] = {}
        answered: set[str] = set()
        for row in db.execute("SELECT kind, caller, data FROM acd_events WHERE id > ? AND kind IN"
                              " ('caller_joined', 'connected', 'caller_left', 'call_completed', 'caller_lost')"
                              " ORDER BY id", (since,)):
            if row["kind"] == "caller_joined":
                joined[row["caller"]] = json.loads(row["data"])
            elif row["kind"] == "connected":
                answered.add(row["caller"])
            else:
                joined.pop(row["caller"], None)
        last_seen = db.execute("SELECT MAX(wall) FROM acd_events WHERE id > ?", (since,)).fetchone()[0]
        return [(data, caller in answered) for caller, data in joined.items()], last_seen or 0.0

    def load_intervals(self, thresholds: dict[str, tuple[float, ...]]) -> dict[str, dict[float, IntervalStats]]:
        result: dict[str, dict[float, IntervalStats]] = {}
        for row in self.store.db.execute("SELECT queue, start, figures FROM acd_intervals"):
            figures = json.loads(row["figures"])
            stats = IntervalStats(thresholds.get(row["queue"], tuple(float(t) for t in figures["answered_within"])))
            for name in _COUNTS:
                setattr(stats, name, figures.get(name, 0))     # rows older than a figure lack it
            for t, n in figures["answered_within"].items():
                stats.answered_within[float(t)] = n
            for t, n in figures["abandoned_within"].items():
                stats.abandoned_within[float(t)] = n
            result.setdefault(row["queue"], {})[row["start"]] = stats
        return result

    def events(self, kind: Optional[str] = None, since: Optional[float] = None) -> list[dict[str, Any]]:
        """Recorded events in order, each as its field dict plus ``kind``."""
        sql, args = "SELECT kind, data FROM acd_events WHERE 1=1", []
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if since is not None:
            sql += " AND wall >= ?"
            args.append(since)
        return [{"kind": row["kind"], **json.loads(row["data"])}
                for row in self.store.db.execute(sql + " ORDER BY id", args)]

    def count_events(self) -> int:
        return self.store.db.execute("SELECT COUNT(*) FROM acd_events").fetchone()[0]


def _figures(stats: IntervalStats) -> dict[str, Any]:
    figures: dict[str, Any] = {name: getattr(stats, name) for name in _COUNTS}
    figures["answered_within"] = {str(t): n for t, n in stats.answered_within.items()}
    figures["abandoned_within"] = {str(t): n for t, n in stats.abandoned_within.items()}
    return figures
