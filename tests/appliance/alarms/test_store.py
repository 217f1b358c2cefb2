"""The alarm tables: one active alarm per (object, cause), history in order, comments."""
from __future__ import annotations

import sqlite3

import pytest

from appliance.alarms import Alarm, AlarmEvent
from appliance.store import Store
from appliance.store.alarms import AlarmStore


def test_write_read_and_history(alarm_store):
    alarm = alarm_store.write(AlarmEvent("raised", Alarm(0, "span1", "aIS", "major", raised_at=10.0,
                                                          changed_at=10.0)), 10.0)
    assert alarm.id == 1 and alarm_store.get(1) == alarm
    acked = alarm_store.write(AlarmEvent("acknowledged", alarm.evolve(acked_by="noc", acked_at=11.0),
                                         "noc", "cable loose"), 11.0)
    alarm_store.write(AlarmEvent("cleared", acked.evolve(cleared_at=12.0)), 12.0)
    assert alarm_store.active() == []
    (stored,) = alarm_store.all()
    assert stored.comments[0].text == "cable loose" and stored.cleared_at == 12.0
    history = alarm_store.history()
    assert [(h.kind, h.severity, h.actor) for h in history] == [
        ("raised", "major", None), ("acknowledged", "major", "noc"), ("cleared", "cleared", None)]
    assert [h.kind for h in alarm_store.history(since=11.0)] == ["acknowledged", "cleared"]
    assert history[0].as_dict()["at"] == "1970-01-01T00:00:10.000Z"


def test_only_one_active_alarm_per_object_and_cause(alarm_store):
    alarm_store.write(AlarmEvent("raised", Alarm(0, "span1", "aIS", "major")), 1.0)
    with pytest.raises(Exception, match="cannot record alarm span1/aIS"):
        alarm_store.write(AlarmEvent("raised", Alarm(0, "span1", "aIS", "major")), 2.0)
    assert len(alarm_store.active()) == 1 and len(alarm_store.history()) == 1


def test_active_are_sorted_most_severe_first(alarm_store):
    for n, severity in enumerate(["minor", "critical", "warning", "major"]):
        alarm_store.write(AlarmEvent("raised", Alarm(0, f"o{n}", "aIS", severity, raised_at=n)), n)
    assert [a.severity for a in alarm_store.active()] == ["critical", "major", "minor", "warning"]


def test_schema_is_versioned_and_reopens(db_path):
    first = Store(db_path)
    AlarmStore(first)
    first.close()
    again = Store(db_path)
    AlarmStore(again)   # second ensure_schema is a no-op
    version = again.db.execute("SELECT version FROM schema_versions WHERE component='alarms'").fetchone()[0]
    assert version == 1
    again.close()
    assert isinstance(sqlite3.connect(db_path).execute("SELECT count(*) FROM alarms").fetchone()[0], int)
