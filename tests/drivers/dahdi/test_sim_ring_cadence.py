"""Ringing an FXS port follows the tone zone's cadence, as DAHDI's ring state machine does.

Times are line time on a manual clock: each step lands exactly on a cadence boundary.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import time

import pytest

from drivers.clock import ManualClock
from drivers.dahdi import DahdiError, EventType, HookOp
from drivers.dahdi.sim.ports import FxsPort
from drivers.dahdi.sim.spec import PortSpec
from drivers.dahdi.zones import RING_CADENCES
from tests.drivers.dahdi.test_sim_backend import backend, drain_events, farend, sim_dir  # noqa: F401  (fixtures)

ON, OFF = EventType.RINGERON, EventType.RINGEROFF


def make_port(zone: str = "cn", signalling: str = "fxoks"):
    clock = ManualClock()
    events: list[tuple[float, EventType]] = []
    port = FxsPort(PortSpec(94, signalling, zone=zone), lambda kind: events.append((round(clock.now(), 3), kind)), clock)
    return port, clock, events


def sounding(port: FxsPort, clock: ManualClock, times: list[float]) -> list[bool]:
    """Whether the bell sounds at each of ``times`` (seconds since the ring began)."""
    seen = []
    for when in times:
        clock.advance_to(when)
        seen.append(port.ringing)
    return seen


@pytest.mark.parametrize("zone, transitions", [
    ("cn", [(1.0, OFF), (5.0, ON), (6.0, OFF), (10.0, ON), (11.0, OFF)]),       # 1 s on, 4 s off
    ("us", [(2.0, OFF), (6.0, ON), (8.0, OFF), (12.0, ON)]),                     # 2 s on, 4 s off
    ("uk", [(0.4, OFF), (0.6, ON), (1.0, OFF), (3.0, ON), (3.4, OFF), (3.6, ON), (4.0, OFF), (6.0, ON)]),
    ("fr", [(1.5, OFF), (5.0, ON), (6.5, OFF), (10.0, ON)]),                     # 1.5 s on, 3.5 s off
])
def test_ring_follows_the_zones_cadence(zone, transitions):
    port, clock, events = make_port(zone)
    port.hook(HookOp.RING)
    assert (port.state, port.ringing, port.bursts, events) == ("ringing", True, 1, [])   # no event at the start
    clock.advance(transitions[-1][0])
    assert events == transitions
    assert port.bursts == 1 + sum(kind is ON for _, kind in transitions)


def test_the_phone_hears_bursts_and_silences():
    port, clock, _ = make_port("cn")
    port.hook(HookOp.RING)
    times = [0.25 + 0.5 * n for n in range(40)]                               # 0.25 s to 19.75 s
    assert sounding(port, clock, times) == [t % 5.0 < 1.0 for t in times]     # 1 s of every 5
    assert port.bursts == 4
    assert port.state == "ring-pause" and port.alerting


@pytest.mark.parametrize("at", [0.5, 2.5])      # during a burst, during the silence
def test_answering_trips_the_ring_with_ringoffhook(at):
    port, clock, events = make_port("cn")
    port.hook(HookOp.RING)
    clock.advance(at)
    events.clear()
    port.lift()
    assert (port.state, port.ringing, port.alerting) == ("off-hook", False, False)
    assert events == [(at, EventType.RINGOFFHOOK)]
    clock.advance(60)
    assert events == [(at, EventType.RINGOFFHOOK)]                          # the cadence has stopped
    port.hang_up()
    assert events[-1] == (at + 60, EventType.ONHOOK)


@pytest.mark.parametrize("op", [HookOp.OFFHOOK, HookOp.ONHOOK, HookOp.RINGOFF])
def test_the_near_end_stops_the_ring_without_an_event(op):
    port, clock, events = make_port("us")
    port.hook(HookOp.RING)
    clock.advance(3.0)                                                       # in the silence after a burst
    port.hook(op)
    assert (port.state, port.alerting) == ("on-hook", False)
    clock.advance(60)
    assert events == [(2.0, OFF)]
    port.hook(HookOp.RING)                                                   # and it can ring afresh
    assert port.ringing and port.bursts == 1


def test_ring_is_refused_while_ringing_or_off_hook_or_without_a_zone():
    port, _, _ = make_port("cn")
    port.hook(HookOp.RING)
    with pytest.raises(DahdiError) as info:
        port.hook(HookOp.RING)
    assert info.value.errno == errno.EBUSY
    port.lift()
    with pytest.raises(DahdiError) as info:
        port.hook(HookOp.RING)
    assert info.value.errno == errno.EBUSY
    port, _, _ = make_port("hk")                                             # not among DAHDI's zones
    with pytest.raises(DahdiError) as info:
        port.hook(HookOp.RING)
    assert info.value.errno == errno.ENODATA and "no zone 'hk'" in str(info.value)


def test_the_report_shows_the_phone_and_its_cadence():
    port, clock, _ = make_port("uk")
    port.hook(HookOp.RING)
    clock.advance(3.0)
    assert port.report() == {"channo": 94, "group": "", "signalling": "fxoks", "zone": "uk",
                             "cadence": [0.4, 0.2, 0.4, 2.0], "phone": "ringing", "bursts": 3}


def test_cadences_are_dahdis_zonedata():
    """The table against libtonezone (the dahdi package): zone names and ring cadences."""
    path = ctypes.util.find_library("tonezone")
    assert path, "no libtonezone: install the dahdi package (make test does it: APT_TEST in the Makefile)"
    library = ctypes.CDLL(path)
    library.tone_zone_find_by_num.restype = ctypes.c_void_p
    library.tone_zone_find_by_num.argtypes = [ctypes.c_int]
    found = {}
    for number in range(128):
        zone = library.tone_zone_find_by_num(number)
        if zone:
            # struct tone_zone: int zone; char country[10]; char description[40]; int ringcadence[16]
            country = ctypes.string_at(zone + 4, 10).split(b"\0")[0].decode()
            cadence = (ctypes.c_int * 16).from_address(zone + 56)
            found[country] = tuple(ms for ms in cadence if ms)
    assert found == RING_CADENCES


# -- through the simulated backend ---------------------------------------------------------

def test_the_near_end_rings_an_agent_phone_in_cadence(farend, backend):
    channel = backend.open_channel(56)
    phone = farend.port(56)                                  # zone us: 2 s on, 4 s off
    channel.hook(HookOp.RING)
    assert phone.state == "ringing" and phone.ringing
    farend.advance(2.0)
    assert (phone.state, phone.ringing, phone.alerting) == ("ring-pause", False, True)
    assert [c.state for c in backend.span_status(3).channels] == ["ringing", "idle"]   # the channel rings on
    farend.advance(4.0)
    assert phone.ringing and farend.port_report(56)["bursts"] == 2
    phone.lift()
    assert [e.type for e in drain_events(channel, 3, channel.read)] == [OFF, ON, EventType.RINGOFFHOOK]
    assert farend.port_report(56) == {"channo": 56, "group": "agents", "signalling": "fxoks", "zone": "us",
                                      "cadence": [2.0, 4.0], "phone": "off-hook", "bursts": 0, "open": True}
    channel.close()


def test_closing_the_channel_stops_the_ring(farend, backend):
    channel = backend.open_channel(57)
    channel.hook(HookOp.RING)
    channel.close()
    for _ in range(500):                                     # the simulator notices the close on its thread
        if not farend.port(57).alerting:
            break
        time.sleep(0.01)
    assert farend.port_report(57)["phone"] == "on-hook"
