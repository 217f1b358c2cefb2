"""Fixtures for the alarm tests: a store on disk, a manager on a manual clock, a recording output."""
from __future__ import annotations

import pytest

from appliance.alarms import AlarmManager, AlarmsConfig
from appliance.store import Store
from appliance.store.alarms import AlarmStore


class RecordingOutput:
    """Keeps every change and the last active list it was given."""

    def __init__(self) -> None:
        self.events = []
        self.active = []

    def update(self, event, active) -> None:
        if event is not None:
            self.events.append(event)
        self.active = list(active)

    def kinds(self):
        return [(e.kind, e.alarm.object, e.alarm.cause) for e in self.events]


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "qbox.db"


@pytest.fixture
def alarm_store(db_path):
    store = Store(db_path)
    yield AlarmStore(store)
    store.close()


@pytest.fixture
def config():
    return AlarmsConfig(syslog="")


@pytest.fixture
def recorder():
    return RecordingOutput()


@pytest.fixture
def manager(config, clock, alarm_store, recorder):
    mgr = AlarmManager(config, clock, alarm_store, [recorder])
    mgr.restore()
    yield mgr
    mgr.close()


@pytest.fixture
def alsa_pcm(tmp_path, monkeypatch):
    """An ALSA PCM named ``qbox_test`` that writes what it plays to a file: (url, file)."""
    from tests.drivers.sound_analysis import alsa_file_config

    asound_conf, played = alsa_file_config(tmp_path)
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(asound_conf))
    return "alsa://qbox_test", played
