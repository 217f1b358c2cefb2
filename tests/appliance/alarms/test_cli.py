"""`qbox alarms ...` and `qbox tower status` against a real store file and emulated towers."""
from __future__ import annotations

import json

import pytest

from appliance.alarms import AlarmManager, AlarmsConfig, Debounce
from appliance.cli.alarms import parse_since
from appliance.errors import BadInput
from appliance.store import Store
from appliance.store.alarms import AlarmStore
from drivers.clock import ManualClock
from drivers.tower import TowerState
from drivers.tower.emulators import HidrawEmulator, PnsEmulator


@pytest.fixture
def alarms_cli(run_qbox, tmp_path):
    """``qbox alarms ARGS --db DB`` with no service running (a socket path that does not exist)."""
    def run(db, *argv, service=None):
        socket = str(service or tmp_path / "no-service.sock")
        return run_qbox("alarms", "--db", db, "--socket", socket, *argv)
    return run


@pytest.fixture
def db(tmp_path):
    """A store with: span1 LOS (critical, active), dchan1 (major, active), queue (minor, cleared)."""
    path = tmp_path / "qbox.db"
    store = Store(path)
    clock = ManualClock()                   # wall clock starts 2026-01-01T00:00:00Z
    manager = AlarmManager(AlarmsConfig(syslog=""), clock, AlarmStore(store))
    manager.report("span1", "lossOfSignal", True, severity="critical", text="RED alarm")
    clock.advance(60)
    manager.report("dchan1", "communicationsSubsystemFailure", True, severity="major")
    clock.advance(60)
    manager.report("queue:sales", "queueSizeExceeded", True, severity="minor", debounce=Debounce(0, 0))
    clock.advance(60)
    manager.report("queue:sales", "queueSizeExceeded", False, debounce=Debounce(0, 0))
    store.close()
    return str(path)


def test_list_active_alarms_most_severe_first(alarms_cli, db):
    status, out, _ = alarms_cli(db)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "SEVERITY", "OBJECT", "CAUSE", "RAISED", "(UTC)", "ACK", "N"]
    assert lines[1].split()[:4] == ["1", "critical", "span1", "lossOfSignal"]
    assert "2026-01-01 00:00 " in lines[1]
    assert lines[2].split()[:3] == ["2", "major", "dchan1"]
    assert len(lines) == 3 and all(len(line) <= 80 for line in lines)


def test_list_all_as_json(alarms_cli, db):
    status, out, _ = alarms_cli(db, "--all", "--json")
    assert status == 0
    alarms = json.loads(out)["alarms"]
    assert [(a["object"], a["state"]) for a in alarms] == [
        ("span1", "active"), ("dchan1", "active"), ("queue:sales", "cleared")]
    assert alarms[2]["cleared_at"] == "2026-01-01T00:03:00.000Z"
    assert set(alarms[0]) >= {"id", "object", "cause", "severity", "event_type", "raised_at", "changed_at",
                              "cleared_at", "acked_by", "acked_at", "count", "comments"}


def test_ack_one_then_all_with_comment(alarms_cli, db):
    status, out, _ = alarms_cli(db, "ack", "1", "--by", "anna", "--comment", "LOS at MDF")
    assert status == 0 and out.strip() == "acknowledged 1 critical span1 lossOfSignal"
    status, out, _ = alarms_cli(db, "ack", "1", "--by", "bob")
    assert "already acknowledged by anna" in out
    status, out, _ = alarms_cli(db, "ack", "--all", "--by", "bob")
    assert out.strip() == "acknowledged 2 major dchan1 communicationsSubsystemFailure"
    alarms = json.loads(alarms_cli(db, "--json")[1])["alarms"]
    assert [a["acked_by"] for a in alarms] == ["anna", "bob"]
    assert alarms[0]["comments"][0]["text"] == "LOS at MDF"


@pytest.mark.parametrize("argv, message", [
    (["ack"], "give one alarm ID or --all"),
    (["ack", "7", "--all"], "give one alarm ID or --all"),
    (["ack", "99"], "no alarm with id 99"),
    (["history", "--since", "last tuesday"], "--since 'last tuesday': not a date/time"),
])
def test_bad_input_is_one_line_exit_2(alarms_cli, db, argv, message):
    status, _, err = alarms_cli(db, *argv)
    assert status == 2 and message in err and err.count("\n") == 1


def test_missing_store_is_a_failure_not_a_new_file(alarms_cli, tmp_path):
    status, _, err = alarms_cli(str(tmp_path / "none.db"))
    assert status == 1 and "no qbox store here" in err
    assert not (tmp_path / "none.db").exists()


def test_history_since(alarms_cli, db):
    status, out, _ = alarms_cli(db, "history", "--json")
    events = json.loads(out)["history"]
    assert [(e["kind"], e["object"]) for e in events] == [
        ("raised", "span1"), ("raised", "dchan1"), ("raised", "queue:sales"), ("cleared", "queue:sales")]
    status, out, _ = alarms_cli(db, "history", "--since", "2026-01-01T00:01:30")
    assert status == 0
    assert [line.split()[3] for line in out.splitlines()[1:]] == ["raised", "cleared"]


def test_parse_since():
    assert parse_since("30m", 10_000.0) == 8_200.0
    assert parse_since("2d", 200_000.0) == 200_000.0 - 172_800
    assert parse_since("2026-01-01", 0) == 1_767_225_600.0
    with pytest.raises(BadInput):
        parse_since("soon", 0)


def test_lamp_test_cycles_every_lamp_then_shows_the_alarms(alarms_cli, db):
    with HidrawEmulator(model="lr6") as tower:
        status, out, _ = alarms_cli(db, "test", "--tower", tower.url, "--step", "0")
        assert status == 0
        assert tower.recorder.wait_for(lambda s: s == TowerState(red="flash"))
        states = [c.state for c in tower.recorder.changes]
    for lamp in ("red", "amber", "green"):
        assert TowerState().with_lamp(lamp, "on") in states and TowerState().with_lamp(lamp, "flash") in states
    assert TowerState(buzzer=True) in states
    assert "lamp test done: tower shows red=flash amber=off green=off buzzer=off (2 active alarms)" in out


def test_tower_status(run_qbox, db):
    with PnsEmulator() as tower:
        status, out, _ = run_qbox("tower", "status", "--tower", tower.url, "--db", db, "--json")
        report = json.loads(out)
        assert status == 0 and report["reachable"] and report["model"] == "patlite-lr5-lan"
        assert report["lamps"] == TowerState().as_dict()
        assert report["expected"] == {"red": "flash", "amber": "off", "green": "off", "buzzer": False,
                                      "sound": "siren"}
        url = tower.url
    status, out, _ = run_qbox("tower", "status", "--tower", url, "--db", db)
    assert status == 1 and "UNREACHABLE: " + url in out and "expected  red=flash" in out
    with HidrawEmulator(model="ne") as tower:
        status, out, _ = run_qbox("tower", "status", "--tower", tower.url, "--db", db)
        assert status == 0 and "not readable (write-only protocol)" in out


def test_with_the_service_running_ack_goes_to_its_manager(alarms_cli, tmp_path, clock, config):
    """The running manager hears the ack at once: the buzzer stops without a restart."""
    import asyncio
    import threading

    from appliance.alarms import indicate
    from appliance.alarms.control import alarm_handlers
    from appliance.control import ControlServer
    from appliance.events import EventBus

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start_service():
        # The service's loop thread owns its store connection, as in `qbox run`.
        manager = AlarmManager(config, clock, AlarmStore(Store(tmp_path / "service.db")))
        manager.report("span1", "lossOfSignal", True, severity="critical")
        server = ControlServer(tmp_path / "control.sock", alarm_handlers(manager), EventBus(clock))
        await server.start()
        return manager, server

    manager, server = asyncio.run_coroutine_threadsafe(start_service(), loop).result(5)
    assert indicate(manager.active(), config).sound == "siren"
    try:
        db = str(tmp_path / "elsewhere.db")        # not read: the service answers
        status, out, _ = alarms_cli(db, "ack", "--all", "--by", "noc", service=server.path)
        assert status == 0 and out.strip() == "acknowledged 1 critical span1 lossOfSignal"
        status, out, _ = alarms_cli(db, "--json", service=server.path)
        assert json.loads(out)["alarms"][0]["acked_by"] == "noc"
        status, out, _ = alarms_cli(db, "history", service=server.path)
        assert [line.split()[3] for line in out.splitlines()[1:]] == ["raised", "acknowledged"]
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert indicate(manager.active(), config).sound == "none"
