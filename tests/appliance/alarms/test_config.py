"""The ``alarms:`` section through the box configuration's own validator."""
from __future__ import annotations

from appliance.alarms import AlarmsConfig, Annunciation, Debounce
from appliance.config.validate import INVALID, build
from appliance.config.yamlsource import parse_yaml


def load(text):
    return build(AlarmsConfig, parse_yaml(text), "box.yaml")


def test_defaults_match_the_issue_and_dahdi():
    config = AlarmsConfig()
    assert config.critical == Annunciation("red", True, "siren")
    assert config.major == Annunciation("red", False, "beep")
    assert config.minor == config.warning == Annunciation("amber", False, "none")
    assert config.idle_lamp == "green" and config.beep_interval_s == 60
    # DAHDI debounces span alarms itself (RED after 2.5 s, RECOVERING for 5 s): no second wait.
    assert config.span == Debounce(0.0, 0.0)
    # LAPD's T200/N200 have run before a link is reported down; clearing settles 5 s.
    assert config.dchannel == Debounce(0.0, 5.0)


def test_a_debounce_field_left_out_adds_no_wait():
    config, issues = load("span: {raise_s: 1}\ndchannel: {clear_s: 2}\n")
    assert issues == []
    assert config.span == Debounce(1.0, 0.0) and config.dchannel == Debounce(0.0, 2.0)


def test_a_yaml_mapping_overrides_what_it_names():
    config, issues = load(
        "tower: hidraw://191a:8003\n"
        "sound: alsa://default\n"
        "major: {lamp: amber, flash: true, sound: none}\n"
        "span: {raise_s: 1, clear_s: 10}\n"
        "flap_threshold: 20\n")
    assert issues == []
    assert config.major == Annunciation("amber", True, "none")
    assert config.span == Debounce(1.0, 10.0) and config.flap_threshold == 20
    assert config.critical == AlarmsConfig().critical


def test_mistakes_name_line_and_field():
    config, issues = load(
        "major: {lamp: purple}\n"
        "span: {raise_s: -1}\n"
        "disk_minor_percent: 95\n"
        "disk_major_percent: 90\n"
        "tower: usb://x\n")
    assert config is INVALID
    text = "\n".join(str(issue) for issue in issues)
    assert "box.yaml:1:" in text and "major.lamp" in text and "purple" in text
    assert "box.yaml:2:" in text and "span.raise_s" in text
    assert "disk_major_percent: must be above disk_minor_percent (95)" in text
    assert "'usb://x' is not a tower URL" in text
