"""The ``dchan`` fault: the far end's D-channel fails while the span's layer 1 stays up.

On the line model alone and through the simulated backend (frames and DAHDI events on a
manual clock); the end-to-end case with ``qbox run`` is tests/appliance/service/test_dchan_fault.py.
"""
from __future__ import annotations

import pytest

from drivers.dahdi import EventType
from drivers.dahdi.interface import Alarm, ChannelEvent
from drivers.dahdi.sim.line import FaultKind, parse_fault
from tests.drivers.dahdi.test_sim_backend import backend, farend, read_one, ready, sim_dir  # noqa: F401  (fixtures)
from tests.drivers.dahdi.test_sim_line import make_line

SABME, UA = b"\x00\x01\x7f", b"\x00\x01\x73"


# -- the line model ------------------------------------------------------------------------

def test_a_dead_dchannel_raises_no_span_alarm_and_clears_at_once():
    line, clock, changes = make_line()
    line.inject(parse_fault("dchan"))
    assert line.dchannel_down and line.reaches_near and line.reaches_far
    clock.advance(600)
    assert (line.near_alarms, line.far_alarms, changes) == (Alarm.NONE, Alarm.NONE, [])
    line.inject(parse_fault("clear"))
    assert not line.dchannel_down and line.near_alarms == Alarm.NONE   # no RECOVERING: layer 1 never went
    assert changes == []


def test_corrupt_and_abort_damage_their_fraction_of_frames_exactly():
    line, _, _ = make_line()
    assert [line.frame_damage(30) for _ in range(3)] == [None] * 3
    line.inject(parse_fault("dchan:corrupt:0.25"))
    assert [line.frame_damage(30) for _ in range(8)] == [None, None, None, EventType.BADFCS] * 2
    line.inject(parse_fault("dchan:abort:0.1"))              # replaces the corrupt fault, counts afresh
    damage = [line.frame_damage(30) for _ in range(20)]
    assert damage.count(EventType.ABORT) == 2 and damage[9] == damage[19] == EventType.ABORT
    assert not line.dchannel_down and str(line.faults[FaultKind.DCHAN]) == "dchan:abort:0.1"


# -- through the simulated backend ---------------------------------------------------------

def test_dchan_down_carries_no_frame_either_way_while_layer_1_stays_up(farend, backend):
    dchan = backend.open_dchannel(1)
    far = farend.span(1)
    farend.inject(1, "dchan")
    dchan.send(SABME)
    far.send_frame(UA)
    farend.advance(60)
    assert far.recv_frame(timeout=0.2) is None
    assert not ready(dchan, 0.2)                               # no frame and no event: silence
    assert backend.span_status(1).alarms == Alarm.NONE          # no RED, no YELLOW: only layer 2 is gone
    report = farend.line_report(1)
    assert (report["near"], report["far"], report["faults"], report["dchannel"]) == (["OK"], ["OK"], ["dchan"], "down")
    assert report["frames_dropped"] == 2

    farend.inject(1, "clear")
    assert farend.line_report(1)["dchannel"] == "ok"
    dchan.send(SABME)
    assert far.recv_frame(timeout=5) == SABME
    far.send_frame(UA)
    assert read_one(dchan.recv, dchan) == UA
    dchan.close()


@pytest.mark.parametrize("fault, event, counter", [
    ("dchan:corrupt:0.5", EventType.BADFCS, "bad_fcs"),
    ("dchan:abort:0.5", EventType.ABORT, "aborts"),
])
def test_damaged_frames_reach_the_near_end_as_dahdi_events_and_are_counted(farend, backend, fault, event, counter):
    dchan = backend.open_dchannel(1)
    far = farend.span(1)
    farend.inject(1, fault)
    for _ in range(4):
        far.send_frame(UA)                                      # every other one is damaged
    assert [read_one(dchan.recv, dchan) for _ in range(2)] == [UA, UA]
    assert dchan.events() == [ChannelEvent(16, event, 1)] * 2   # in place of the damaged frames
    assert dchan.recv() is None

    for _ in range(4):
        dchan.send(SABME)                                       # the far end's receiver drops the damaged ones
    assert [far.recv_frame(timeout=5) for _ in range(2)] == [SABME, SABME]
    assert far.recv_frame(timeout=0.2) is None
    report = farend.line_report(1)
    assert (report[counter], report["near_" + counter], report["dchannel"]) == (4, 2, fault.split(":")[1])
    assert backend.span_status(1).alarms == Alarm.NONE
    dchan.close()
