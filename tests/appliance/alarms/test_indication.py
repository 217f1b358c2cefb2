"""Severity -> lamps and sound, with the issue's defaults and a configured mapping."""
from __future__ import annotations

from appliance.alarms import Alarm, AlarmsConfig, Annunciation, indicate, lamp_test_sequence
from drivers.tower import TowerState


def alarm(severity, acked=False, cleared=False, n=1):
    return Alarm(n, f"obj{n}", "lossOfSignal", severity, acked_by="noc" if acked else None,
                 acked_at=1.0 if acked else None, cleared_at=2.0 if cleared else None)


def test_defaults_from_the_issue():
    config = AlarmsConfig()
    assert indicate([], config) == indicate([alarm("major", cleared=True)], config)
    assert indicate([], config).lamps == TowerState(green="on")
    assert indicate([alarm("critical")], config).lamps == TowerState(red="flash")
    assert indicate([alarm("critical")], config).sound == "siren"
    assert indicate([alarm("major")], config).lamps == TowerState(red="on")
    assert indicate([alarm("major")], config).sound == "beep"
    for severity in ("minor", "warning"):
        shown = indicate([alarm(severity)], config)
        assert (shown.lamps, shown.sound) == (TowerState(amber="on"), "none")


def test_acknowledged_alarms_are_steady_and_silent_unacknowledged_ones_still_sound():
    config = AlarmsConfig()
    shown = indicate([alarm("critical", acked=True, n=1), alarm("major", n=2), alarm("minor", n=3)], config)
    assert shown.lamps == TowerState(red="on", amber="on")
    assert shown.sound == "beep"
    shown = indicate([alarm("critical", acked=True, n=1), alarm("critical", n=2)], config)
    assert (shown.lamps.red, shown.sound) == ("flash", "siren")


def test_mapping_is_configurable():
    config = AlarmsConfig(minor=Annunciation("red", True, "beep"), idle_lamp="none")
    assert indicate([], config).lamps == TowerState()
    shown = indicate([alarm("minor")], config)
    assert (shown.lamps, shown.sound) == (TowerState(red="flash"), "beep")


def test_lamp_test_lights_every_lamp_in_each_mode_and_the_buzzer():
    steps = lamp_test_sequence()
    for lamp in ("red", "amber", "green"):
        for mode in ("on", "flash"):
            assert TowerState().with_lamp(lamp, mode) in steps
    assert any(s.buzzer for s in steps)
    assert steps[0] == steps[-1] == TowerState()
