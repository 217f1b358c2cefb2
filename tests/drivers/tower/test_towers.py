"""Each tower driver against its family's emulator: commands arrive, unplug fails, replug works."""
from __future__ import annotations

import pytest

from drivers.tower import TowerError, TowerState, open_tower
from drivers.tower.emulators import AdafruitEmulator, HidrawEmulator, PnsEmulator

ALARM = TowerState(red="flash", buzzer=True)
ACKED = TowerState(red="on")
IDLE = TowerState(green="on")


@pytest.fixture(params=["adafruit", "lr6", "ne", "pns"])
def emulator(request):
    kind = request.param
    emu = {
        "adafruit": lambda: AdafruitEmulator(),
        "lr6": lambda: HidrawEmulator(model="lr6"),
        "ne": lambda: HidrawEmulator(model="ne"),
        "pns": lambda: PnsEmulator(),
    }[kind]()
    yield emu
    emu.close()


def test_states_reach_the_emulator_in_order(emulator):
    with open_tower(emulator.url) as tower:
        for state in (IDLE, ALARM, ACKED, IDLE):
            tower.set(state)
            assert emulator.recorder.wait_for(lambda s, want=state: s == want) == state
    seen = [change.state for change in emulator.recorder.changes]
    assert seen == [IDLE, ALARM, ACKED, IDLE]
    times = [change.t for change in emulator.recorder.changes]
    assert times == sorted(times)
    assert emulator.recorder.malformed == 0


def test_unplugged_tower_raises_and_replugged_tower_works(emulator):
    tower = open_tower(emulator.url)
    tower.set(IDLE)
    assert emulator.recorder.wait_for(lambda s: s == IDLE)
    emulator.unplug()
    with pytest.raises(TowerError):
        for _ in range(3):  # a socket may take one write to notice the reset
            tower.set(ALARM)
            tower.set(IDLE)
    tower.close()
    with pytest.raises(TowerError):
        open_tower(emulator.url).set(ALARM)
    emulator.plug()
    with open_tower(emulator.url) as tower:
        tower.set(ALARM)
        assert emulator.recorder.wait_for(lambda s: s == ALARM) == ALARM
    # power-on after replug shows as all-off between IDLE and ALARM
    assert [c.state for c in emulator.recorder.changes][-2:] == [TowerState(), ALARM]


def test_pns_reads_back_the_lamps_and_reports_nak():
    with PnsEmulator() as emu, open_tower(emu.url) as tower:
        tower.set(ALARM)
        assert tower.read() == ALARM
        emu.nak_next = 1
        with pytest.raises(TowerError, match="NAK"):
            tower.set(IDLE)
        assert emu.state == ALARM and emu.recorder.malformed == 1
        tower.set(IDLE)   # the driver does not think IDLE was taken
        assert emu.recorder.wait_for(lambda s: s == IDLE)


def test_pns_emulator_naks_garbage_and_stays_up():
    import socket

    with PnsEmulator() as emu:
        with socket.create_connection((emu.host, emu.port), timeout=2) as sock:
            sock.sendall(b"XY\x53\x00\x00\x06" + bytes(6))
            assert sock.recv(1) == b"\x15"
            sock.sendall(b"AB\x53\x00\x00\x06" + bytes([1, 0, 0, 9, 9, 0]))
            assert sock.recv(1) == b"\x06"
        assert emu.state == TowerState(red="on") and emu.recorder.malformed == 1


def test_hidraw_emulator_counts_reports_without_report_number_zero():
    import os

    with HidrawEmulator(model="lr6") as emu:
        fd = os.open(emu.path, os.O_WRONLY)
        os.write(fd, b"\x07" + bytes(8))                     # wrong report number
        os.write(fd, b"\x00" + bytes([0, 0, 0, 0xEF, 0x10, 0x0F, 0xF0, 0]))
        os.close(fd)
        assert emu.recorder.wait_frames(2)
        assert emu.recorder.malformed == 1 and emu.state == TowerState(red="on")


def test_adafruit_emulator_counts_unknown_bytes():
    import serial

    with AdafruitEmulator() as emu:
        port = serial.Serial(emu.link, 9600)
        port.write(bytes([0x99, 0x14]))
        port.close()
        assert emu.recorder.wait_frames(2)
        assert emu.recorder.malformed == 1 and emu.state == TowerState(green="on")


@pytest.mark.parametrize("url, message", [
    ("usb://x", "unknown tower scheme 'usb'"),
    ("serial://", "no serial device path"),
    ("serial:///dev/ttyUSB0?baud=fast", "baud must be a number"),
    ("hidraw://zz:8003", "not a USB id"),
    ("hidraw://191a:9999", "unknown Patlite product 9999"),
    ("hidraw://191a:8003", "no hidraw device with USB id 191a:8003"),
    ("tcp://:10000", "no host"),
    ("serial:///nonexistent/tty", "cannot open tower"),
])
def test_bad_urls_give_one_line_errors(url, message):
    with pytest.raises(TowerError, match=message) as info:
        open_tower(url)
    assert "\n" not in str(info.value) and url in str(info.value)
