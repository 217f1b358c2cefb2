"""The ACD's tables: every queue event, agent login/pause state and counters, and the
per-interval service-level figures.

The events of one engine operation are written in one transaction together with the
agent and interval rows they changed, so after a ``kill -9`` the store holds exactly
the operations the engine had finished, and rows that match them.

An agent's row (and its membership rows) is rewritten when its settings change (login,
pause, penalties, memberships), not on every call: its counters and seconds in each
state are those of the row, as of event ``through``, plus what the events recorded after
it carry (``agent_state``, ``connected``, ``call_completed``), which
:meth:`AcdStore.load_agents` replays.  :meth:`AcdStore.snapshot_agents` writes every row
afresh, so that replay stays short.
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

_REMOVED = (0, False, "", 0, True)       # the row of a configured membership taken out at run time


class AcdStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure_schema("acd", MIGRATIONS)

    def write(self, events: Iterable[AcdEvent], agents: Iterable[tuple[AgentRecord, AgentTimes]],
              intervals: Iterable[tuple[str, float, IntervalStats]]) -> None:
        """Record ``events``, the rows of ``agents`` (those whose settings changed: the
        caller knows; the rest come back from the events) and the interval rows, atomically."""
        rows = []
        for event in events:
            data = event_data(event)
            rows.append((event.wall, event.kind, data.get("queue"), data.get("caller"), data.get("agent"),
                         _encode_event(data)))
        agents = list(agents)
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO acd_events (wall, kind, queue, caller, agent, data) VALUES (?, ?, ?, ?, ?, ?)", rows)
            if agents:
                through = db.execute("SELECT last_insert_rowid()").fetchone()[0] if rows else self._last_event(db)
                self._write_agents(db, agents, rows[-1][0] if rows else 0.0, through)
            for queue, start, stats in intervals:
                db.execute(
                    "INSERT INTO acd_intervals (queue, start, figures) VALUES (?, ?, ?)"
                    " ON CONFLICT(queue, start) DO UPDATE SET figures = excluded.figures",
                    (queue, start, json.dumps(_figures(stats))),
                )

    def snapshot_agents(self, agents: Iterable[tuple[AgentRecord, AgentTimes]], wall: float) -> None:
        """Write these agents' rows as they are now, changed or not (they then need no
        replay)."""
        with self.store.transaction() as db:
            self._write_agents(db, list(agents), wall, self._last_event(db))

    @staticmethod
    def _last_event(db) -> int:
        return db.execute("SELECT IFNULL(MAX(id), 0) FROM acd_events").fetchone()[0]

    def _write_agents(self, db, agents: list[tuple[AgentRecord, AgentTimes]], wall: float, through: int) -> None:
        """The agents' rows and all their membership rows, as of event ``through``."""
        db.executemany(
            "INSERT INTO acd_agents (agent, logged_in, pause_reason, calls, talk_time, last_call_end,"
            " state_seconds, updated, state, since, through) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(agent) DO UPDATE SET logged_in = excluded.logged_in,"
            " pause_reason = excluded.pause_reason, calls = excluded.calls, talk_time = excluded.talk_time,"
            " last_call_end = excluded.last_call_end, state_seconds = excluded.state_seconds,"
            " updated = excluded.updated, state = excluded.state, since = excluded.since,"
            " through = excluded.through",
            [(record.id, int(record.logged_in), record.pause_reason, record.calls, record.talk_time,
              record.last_call_end_wall, json.dumps(times.seconds), wall, times.state, times.since, through)
             for record, times in agents])
        db.executemany("DELETE FROM acd_members WHERE agent = ?", [(record.id,) for record, _ in agents])
        db.executemany(
            "INSERT INTO acd_members (agent, queue, penalty, paused, pause_reason, calls, removed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(record.id, queue, *row) for record, _ in agents
             for queue, row in ({q: (*m, False) for q, m in record.members.items()}
                                | {q: _REMOVED for q in record.removed}).items()])

    def load_agents(self) -> tuple[list[AgentRecord], dict[str, AgentTimes]]:
        """Agents as their rows keep them, with the events recorded after each row
        replayed: state changes (times), answers (calls per queue), completed calls."""
        memberships: dict[str, dict[str, list]] = {}
        for row in self.store.db.execute("SELECT * FROM acd_members ORDER BY agent, queue"):
            memberships.setdefault(row["agent"], {})[row["queue"]] = [
                row["penalty"], bool(row["paused"]), row["pause_reason"], row["calls"], bool(row["removed"])]
        agents: dict[str, dict[str, Any]] = {}
        times: dict[str, AgentTimes] = {}
        for row in self.store.db.execute("SELECT * FROM acd_agents ORDER BY agent"):
            agents[row["agent"]] = dict(row)
            times[row["agent"]] = AgentTimes(seconds=json.loads(row["state_seconds"]), calls=row["calls"],
                                             state=row["state"], since=row["since"])
        self._replay(agents, memberships, times)
        records = []
        for agent_id, row in agents.items():
            members = memberships.get(agent_id, {})
            records.append(AgentRecord(
                agent_id, bool(row["logged_in"]), row["pause_reason"], row["calls"], row["talk_time"],
                row["last_call_end"], {q: tuple(m[:4]) for q, m in members.items() if not m[4]},
                frozenset(q for q, m in members.items() if m[4])))
        return records, times

    def _replay(self, agents: dict[str, dict[str, Any]], memberships: dict[str, dict[str, list]],
                times: dict[str, AgentTimes]) -> None:
        """Bring the rows up to the last event: each takes the events after its own."""
        if not agents:
            return
        since = min(row["through"] for row in agents.values())
        for event in self.store.db.execute(
                "SELECT id, kind, agent, data FROM acd_events WHERE id > ?"
                " AND kind IN ('agent_state', 'connected', 'call_completed') ORDER BY id", (since,)):
            row = agents.get(event["agent"])
            if row is None or event["id"] <= row["through"]:
                continue
            data = json.loads(event["data"])
            if event["kind"] == "agent_state":
                times[event["agent"]].enter(data["state"], data["time"])
            elif event["kind"] == "connected":
                member = memberships.get(event["agent"], {}).get(data["queue"])
                if member is not None:
                    member[3] += 1
            else:
                row["calls"] += 1
                row["talk_time"] += data["talktime"]
                row["last_call_end"] = data["wall"]
                times[event["agent"]].calls += 1

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
