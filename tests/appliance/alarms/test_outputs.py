"""Tower and buzzer outputs against an emulated tower and real ALSA, on a manual clock."""
from __future__ import annotations

import pytest

from appliance.alarms import AlarmManager, DeviceAlarms, SoundOutput, TowerOutput
from appliance.alarms.sounds import BEEP_HZ, SIREN_HZ
from drivers.sound import open_sound
from drivers.tower import TowerState, open_tower
from drivers.tower.emulators import AdafruitEmulator, PnsEmulator
from tests.drivers.sound_analysis import label_blocks, read_pcm, runs


@pytest.fixture
def emulator():
    emu = AdafruitEmulator()
    yield emu
    emu.close()


def shows(emulator, state):
    return emulator.recorder.wait_for(lambda s: s == state) == state


def test_tower_follows_the_alarms(clock, alarm_store, config, emulator):
    tower = TowerOutput(config, clock, lambda: open_tower(emulator.url))
    manager = AlarmManager(config, clock, alarm_store, [tower])
    manager.restore()
    assert shows(emulator, TowerState(green="on"))

    manager.report("span2", "aIS", True, severity="major")
    assert shows(emulator, TowerState(red="on", buzzer=True))         # the minute beep starts now
    clock.advance(config.beep_ms / 1000)
    assert shows(emulator, TowerState(red="on"))
    clock.advance(60 - config.beep_ms / 1000)
    assert shows(emulator, TowerState(red="on", buzzer=True))
    clock.advance(1)

    manager.report("span1", "lossOfSignal", True, severity="critical")
    assert shows(emulator, TowerState(red="flash", buzzer=True))
    clock.advance(120)                                                 # no beeps under a siren
    assert emulator.state == TowerState(red="flash", buzzer=True)

    manager.acknowledge_all("noc")
    assert shows(emulator, TowerState(red="on"))
    manager.report("span1", "lossOfSignal", False)
    manager.report("span2", "aIS", False)
    assert shows(emulator, TowerState(green="on"))
    beeps = [c for c in emulator.recorder.changes if c.state == TowerState(red="on", buzzer=True)]
    assert len(beeps) == 2
    tower.close()


def network_tower(clock, alarm_store, config, emulator, retry_s):
    """A manager showing its alarms on ``emulator``, whose absence is a device alarm."""
    manager = AlarmManager(config, clock, alarm_store)
    devices = DeviceAlarms(manager, config)
    tower = TowerOutput(config, clock, lambda: open_tower(emulator.url, timeout=0.5),
                        on_presence=devices.presence_callback("tower"), retry_s=retry_s)
    manager.add_output(tower)
    assert shows(emulator, TowerState(green="on"))
    return manager, tower


def test_unplugged_tower_raises_device_missing_and_comes_back(clock, alarm_store, config):
    with PnsEmulator() as emulator:
        manager, tower = network_tower(clock, alarm_store, config, emulator, retry_s=5)
        emulator.unplug()
        manager.report("dchan1", "communicationsSubsystemFailure", True, severity="major")
        assert tower.tower is None
        clock.advance(1)                                              # device debounce
        assert [a.object for a in manager.active()] == ["dchan1", "tower"]

        emulator.plug()
        clock.advance(4)                                              # retry after 5 s
        assert tower.tower is not None
        assert shows(emulator, TowerState(red="on"))          # between two minute beeps
        clock.advance(1)
        assert [a.object for a in manager.active()] == ["dchan1"]
        tower.close()


def test_supervision_finds_a_tower_gone_quietly(clock, alarm_store, config):
    """Nothing changes on the alarms, yet the tower vanished: supervision notices."""
    with PnsEmulator() as emulator:
        manager, tower = network_tower(clock, alarm_store, config, emulator, retry_s=60)
        emulator.unplug()
        clock.advance(5)
        assert tower.tower is not None and manager.active() == []   # no write, no news
        tower.supervise()
        clock.advance(1)                                              # device debounce
        assert tower.tower is None
        assert [(a.object, a.cause) for a in manager.active()] == [("tower", "replaceableUnitMissing")]
        tower.close()


def test_siren_plays_until_acknowledged(clock, alarm_store, config, alsa_pcm):
    url, played_file = alsa_pcm
    sound = SoundOutput(config, clock, lambda: open_sound(url))
    manager = AlarmManager(config, clock, alarm_store, [sound])
    manager.report("span1", "lossOfSignal", True, severity="critical")
    clock.advance(5)
    assert sound.device.drain()     # ALSA has all three chunks before the ack stops the rest
    manager.acknowledge_all("noc")
    clock.advance(30)
    assert sound.played == [(0.0, "siren"), (2.0, "siren"), (4.0, "siren")]
    sound.close()
    labels = label_blocks(read_pcm(played_file), SIREN_HZ)
    high, low = SIREN_HZ
    assert runs(labels) == [(high, 5), (low, 5)] * 12                # 3 chunks of 4 hi-lo cycles


def test_major_beeps_once_a_minute(clock, alarm_store, config, alsa_pcm):
    url, played_file = alsa_pcm
    sound = SoundOutput(config, clock, lambda: open_sound(url))
    manager = AlarmManager(config, clock, alarm_store, [sound])
    manager.report("dchan1", "communicationsSubsystemFailure", True, severity="major")
    clock.advance(150)
    assert sound.device.drain()
    manager.report("dchan1", "communicationsSubsystemFailure", False)
    clock.advance(300)
    assert sound.played == [(0.0, "beep"), (60.0, "beep"), (120.0, "beep")]
    sound.close()
    # The file plugin does not pace: the three 300 ms beeps lie back to back.
    assert runs(label_blocks(read_pcm(played_file), [BEEP_HZ])) == [(BEEP_HZ, 18)]


def test_missing_sound_device_is_reported(clock, alarm_store, config, alsa_pcm):
    manager = AlarmManager(config, clock, alarm_store)
    devices = DeviceAlarms(manager, config)
    SoundOutput(config, clock, lambda: open_sound("alsa://no_such_card"),
                on_presence=devices.presence_callback("sound"))
    clock.advance(1)
    (alarm,) = manager.active()
    assert (alarm.object, alarm.cause) == ("sound", "replaceableUnitMissing")
    assert "no_such_card" in alarm.text
