"""The alarm manager: DAHDI-style debounce, flap suppression, acknowledge, restart."""
from __future__ import annotations

import pytest

from appliance.alarms import AlarmManager, Debounce, indicate
from appliance.errors import BadInput
from appliance.store import Store
from appliance.store.alarms import AlarmStore
from drivers.clock import ManualClock

SPAN = Debounce(2.5, 5.0)    # a site that asks for DAHDI-like timers on top of the source's own


def red(manager, present):
    manager.report("span1", "lossOfSignal", present, severity="critical", debounce=SPAN)


def test_raised_only_after_the_condition_held_for_the_raise_delay(manager, clock, recorder):
    red(manager, True)
    clock.advance(2.4)
    red(manager, False)
    clock.advance(10)
    assert recorder.events == [] and manager.active() == []
    red(manager, True)
    clock.advance(2.499)
    assert manager.active() == []
    clock.advance(0.001)
    (alarm,) = manager.active()
    assert (alarm.object, alarm.cause, alarm.severity, alarm.count) == ("span1", "lossOfSignal", "critical", 1)
    assert alarm.raised_at == clock.wall()


def test_cleared_only_after_the_settle_time(manager, clock, recorder):
    red(manager, True)
    clock.advance(3)
    red(manager, False)
    clock.advance(4.9)
    red(manager, True)            # back before the 5 s settle: still the same alarm
    clock.advance(1)
    red(manager, False)
    clock.advance(4.999)
    assert len(manager.active()) == 1
    clock.advance(0.001)
    assert manager.active() == []
    assert recorder.kinds() == [("raised", "span1", "lossOfSignal"), ("cleared", "span1", "lossOfSignal")]
    assert recorder.events[-1].alarm.count == 2


@pytest.mark.parametrize("up_s, down_s", [(3.0, 1.0), (0.2, 0.3), (3.0, 10.0)])
def test_a_span_flapping_100_times_makes_one_alarm_with_count_100(manager, clock, recorder, alarm_store,
                                                                   up_s, down_s):
    for _ in range(100):
        red(manager, True)
        clock.advance(up_s)
        red(manager, False)
        clock.advance(down_s)
    ids = {e.alarm.id for e in recorder.events}
    assert len(ids) == 1
    raises = [e for e in recorder.events if e.kind == "raised"]
    assert len(raises) == 1
    # Once flapping, it stays up: no raise/clear pair per flap.
    assert len(recorder.events) <= 12
    clock.advance(manager.config.flap_window_s)
    assert manager.active() == []
    assert alarm_store.get(ids.pop()).count == 100


def test_fast_flapping_raises_even_though_no_onset_lasted_the_raise_delay(manager, clock):
    for _ in range(manager.config.flap_threshold - 1):
        red(manager, True)
        clock.advance(0.5)
        red(manager, False)
        clock.advance(0.5)
    assert manager.active() == []
    red(manager, True)
    (alarm,) = manager.active()
    assert alarm.count == manager.config.flap_threshold


def test_acknowledge_silences_and_steadies_but_does_not_clear(manager, clock, recorder, config):
    red(manager, True)
    clock.advance(2.5)
    (alarm,) = manager.active()
    shown = indicate(manager.active(), config)
    assert (shown.lamps.red, shown.sound) == ("flash", "siren")
    acked = manager.acknowledge(alarm.id, "noc-anna", "on it")
    assert acked.acked_by == "noc-anna" and acked.active
    assert acked.comments[0].text == "on it"
    shown = indicate(manager.active(), config)
    assert (shown.lamps.red, shown.lamps.green, shown.sound) == ("on", "off", "none")
    assert recorder.events[-1].kind == "acknowledged"
    with pytest.raises(BadInput, match="no alarm with id 999"):
        manager.acknowledge(999, "x")


def test_a_worse_severity_rearms_an_acknowledged_alarm(manager, clock):
    manager.report("disk:/var", "storageCapacityProblem", True, severity="minor")
    (alarm,) = manager.active()
    manager.acknowledge(alarm.id, "noc")
    manager.report("disk:/var", "storageCapacityProblem", True, severity="minor")
    assert manager.active()[0].acknowledged
    manager.report("disk:/var", "storageCapacityProblem", True, severity="major")
    (alarm,) = manager.active()
    assert alarm.severity == "major" and not alarm.acknowledged and alarm.id == manager.active()[0].id


def test_restart_keeps_alarms_and_does_not_resound_acknowledged_ones(manager, clock, config, db_path):
    red(manager, True)
    manager.report("tower", "replaceableUnitMissing", True, severity="major")
    clock.advance(2.5)
    critical = next(a for a in manager.active() if a.severity == "critical")
    manager.acknowledge(critical.id, "noc")
    manager.close()

    # A new process: new clock, new store connection, same file.
    store = Store(db_path)
    later = ManualClock(start=0.0, epoch=clock.wall() + 60)
    reborn = AlarmManager(config, later, AlarmStore(store))
    restored = reborn.restore()
    assert [(a.object, a.acknowledged) for a in restored] == [("span1", True), ("tower", False)]
    shown = indicate(restored, config)
    # critical acked: steady, silent; the unacknowledged major still beeps.
    assert (shown.lamps.red, shown.sound) == ("on", "beep")
    reborn.acknowledge_all("noc")
    assert indicate(reborn.active(), config).sound == "none"
    # The span came back while we were down: it clears after the settle time.
    reborn.report("span1", "lossOfSignal", False, debounce=SPAN)
    later.advance(5)
    assert [a.object for a in reborn.active()] == ["tower"]
    kinds = [h.kind for h in AlarmStore(store).history() if h.object == "span1"]
    assert kinds == ["raised", "acknowledged", "cleared"]
    store.close()


def test_a_failing_output_does_not_stop_the_others(clock, alarm_store, config, recorder):
    class Broken:
        def update(self, event, active):
            raise RuntimeError("tower exploded")

    manager = AlarmManager(config, clock, alarm_store, [Broken(), recorder])
    manager.report("dchan1", "communicationsSubsystemFailure", True)
    assert recorder.kinds() == [("raised", "dchan1", "communicationsSubsystemFailure")]
    assert manager.output_errors == 1


def test_alarms_still_show_when_the_store_fails(clock, config, recorder, tmp_path):
    store = Store(tmp_path / "q.db")
    manager = AlarmManager(config, clock, AlarmStore(store), [recorder])
    store.db.execute("DROP TABLE alarm_events")       # the disk went bad under us
    manager.report("disk:/var", "storageCapacityProblem", True, severity="major")
    (alarm,) = manager.active()
    assert alarm.id < 0 and manager.store_errors == 1
    assert recorder.events[-1].kind == "raised"
    store.close()


def test_comments_are_kept_in_order(manager):
    manager.report("queue:sales", "queueSizeExceeded", True, severity="minor")
    (alarm,) = manager.active()
    manager.comment(alarm.id, "anna", "market open")
    updated = manager.comment(alarm.id, "bob", "two agents called in")
    assert [(c.by, c.text) for c in updated.comments] == [("anna", "market open"), ("bob", "two agents called in")]
