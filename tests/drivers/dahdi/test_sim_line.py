"""The simulated line on its own: faults, DAHDI-like alarms and error counters on a manual clock."""
from __future__ import annotations

import pytest

from drivers.clock import ManualClock
from drivers.dahdi.interface import Alarm, SpanCounters
from drivers.dahdi.sim.line import Fault, FaultKind, SpanLine, parse_fault
from drivers.dahdi.sim.spec import LineTiming, SpanSpec

TIMING = LineTiming()   # DAHDI's: LOS/AIS 2.5 s, RAI 0.5 s, settle 5 s
E1 = SpanSpec(1, "E1", "CCS", "HDB3", crc4=True)


def make_line(spec: SpanSpec = E1, *, started: bool = True):
    clock = ManualClock()
    changes: list[tuple[Alarm, Alarm]] = []
    line = SpanLine(spec, clock, TIMING, lambda _line, old, new: changes.append((old, new)))
    if started:
        line.start()
        clock.advance(TIMING.settle)
        changes.clear()
    return line, clock, changes


@pytest.mark.parametrize("text, expected", [
    ("los", Fault(FaultKind.LOS)),
    ("lof", Fault(FaultKind.LOF)),
    ("AIS", Fault(FaultKind.AIS)),
    (" rai ", Fault(FaultKind.RAI)),
    ("loop", Fault(FaultKind.LOOP)),
    ("ber", Fault(FaultKind.BER, 1e-5)),
    ("ber:1e-3", Fault(FaultKind.BER, 1e-3)),
    ("slip:2", Fault(FaultKind.SLIP, 2.0)),
    ("clear", Fault(FaultKind.CLEAR)),
    ("dchan", Fault(FaultKind.DCHAN, 1.0, "down")),
    ("DCHAN:down", Fault(FaultKind.DCHAN, 1.0, "down")),
    ("dchan:corrupt", Fault(FaultKind.DCHAN, 1.0, "corrupt")),
    ("dchan:corrupt:0.25", Fault(FaultKind.DCHAN, 0.25, "corrupt")),
    ("dchan:abort:0.5", Fault(FaultKind.DCHAN, 0.5, "abort")),
])
def test_parse_fault(text, expected):
    assert parse_fault(text) == expected
    assert parse_fault(str(expected)) == expected          # what qbox sim status prints reads back


@pytest.mark.parametrize("text, message", [
    ("cut", "unknown fault 'cut'"),
    ("los:3", "fault 'los' takes no rate"),
    ("ber:lots", "ber rate 'lots' is not a number"),
    ("ber:0", "bit error rate 0 is not in (0, 0.5]"),
    ("ber:0.9", "bit error rate 0.9 is not in (0, 0.5]"),
    ("slip:-1", "slip rate -1 is not in (0, 1000]"),
    ("dchan:cut", "unknown D-channel fault 'cut'"),
    ("dchan:down:0.5", "fault 'dchan:down' takes no fraction"),
    ("dchan:corrupt:0", "dchan:corrupt fraction 0 is not in (0, 1]"),
    ("dchan:abort:1.5", "dchan:abort fraction 1.5 is not in (0, 1]"),
    ("dchan:corrupt:some", "dchan:corrupt fraction 'some' is not a number"),
])
def test_parse_fault_rejects(text, message):
    with pytest.raises(ValueError) as info:
        parse_fault(text)
    assert message in str(info.value)


def test_a_span_comes_up_through_recovering():
    line, clock, changes = make_line(started=False)
    line.start()
    assert line.near_alarms == Alarm.RECOVER
    assert line.far_alarms == Alarm.YELLOW            # RAI is sent while recovering
    clock.advance(TIMING.settle - 0.01)
    assert line.near_alarms == Alarm.RECOVER
    clock.advance(0.01)
    assert line.near_alarms == Alarm.NONE and line.far_alarms == Alarm.NONE
    assert changes == [(Alarm.NONE, Alarm.RECOVER), (Alarm.RECOVER, Alarm.NONE)]


def test_loss_of_signal_red_near_yellow_far_then_recovering():
    line, clock, changes = make_line()
    line.inject(parse_fault("los"))
    assert not line.reaches_near                      # the signal is gone at once...
    assert line.near_alarms == Alarm.NONE              # ...the alarm waits for the debounce
    clock.advance(TIMING.los_debounce - 0.1)
    assert line.near_alarms == Alarm.NONE
    clock.advance(0.1)
    assert line.near_alarms == Alarm.RED
    assert line.far_alarms == Alarm.YELLOW
    clock.advance(600)                                 # stays down as long as the fault does
    assert line.near_alarms == Alarm.RED

    line.inject(parse_fault("clear"))
    assert line.reaches_near
    assert line.near_alarms == Alarm.RECOVER
    assert line.far_alarms == Alarm.YELLOW
    clock.advance(TIMING.settle)
    assert line.near_alarms == Alarm.NONE and line.far_alarms == Alarm.NONE
    assert changes == [(Alarm.NONE, Alarm.RED), (Alarm.RED, Alarm.RECOVER), (Alarm.RECOVER, Alarm.NONE)]


def test_loss_of_frame_alignment_is_red():
    line, clock, _ = make_line()
    line.inject(parse_fault("lof"))
    assert not line.reaches_near
    clock.advance(TIMING.los_debounce)
    assert line.near_alarms == Alarm.RED and line.far_alarms == Alarm.YELLOW


def test_ais_is_blue():
    line, clock, _ = make_line()
    line.inject(parse_fault("ais"))
    assert line.sending_ais and not line.reaches_near
    clock.advance(TIMING.ais_debounce)
    assert line.near_alarms == Alarm.BLUE and line.far_alarms == Alarm.YELLOW


def test_rai_is_yellow_near_and_red_far():
    line, clock, _ = make_line()
    line.inject(parse_fault("rai"))
    assert not line.reaches_far and line.reaches_near
    assert line.far_alarms == Alarm.RED
    clock.advance(TIMING.rai_debounce)
    assert line.near_alarms == Alarm.YELLOW
    line.inject(parse_fault("clear"))
    assert line.near_alarms == Alarm.RECOVER          # wct4xxp recovers from yellow too


def test_loopback_shows_loop_at_once_and_no_recovery_after():
    line, clock, changes = make_line()
    line.inject(parse_fault("loop"))
    assert line.near_alarms == Alarm.LOOPBACK and line.looped
    assert not line.reaches_far                        # the far end hears itself instead
    line.inject(parse_fault("clear"))
    assert line.near_alarms == Alarm.NONE
    assert changes == [(Alarm.NONE, Alarm.LOOPBACK), (Alarm.LOOPBACK, Alarm.NONE)]


def test_faults_combine():
    line, clock, _ = make_line()
    line.inject(parse_fault("los"))
    line.inject(parse_fault("loop"))
    clock.advance(TIMING.los_debounce)
    assert line.near_alarms == Alarm.RED | Alarm.LOOPBACK
    assert Alarm(line.near_alarms).names() == ["RED", "LOOP"]


def test_a_fault_cleared_within_its_debounce_never_alarms():
    line, clock, changes = make_line()
    line.inject(parse_fault("los"))
    clock.advance(1.0)
    line.inject(parse_fault("clear"))
    line.inject(parse_fault("los"))                    # cut again: a fresh debounce
    clock.advance(TIMING.los_debounce - 1.0)           # the first timer fires here and must not count
    assert line.near_alarms == Alarm.NONE
    clock.advance(1.0)
    assert line.near_alarms == Alarm.RED
    assert changes == [(Alarm.NONE, Alarm.RED)]


@pytest.mark.parametrize("spec, expected", [
    # E1 with CRC-4: 2.048 Mbit/s * 3600 s * 1e-6 = 7372.8 BPV; 1000 CRC-4 blocks/s of 2048 bits:
    # 3.6e6 * (1 - (1 - 1e-6)**2048) = 7365.26, and the far end reports as many back in E-bits;
    # 4000 FAS words/s of 7 bits: 14.4e6 * (1 - (1 - 1e-6)**7) = 100.8.
    (E1, SpanCounters(bpv=7372, crc4=7365, fas=100, ebit=7365)),
    # E1 without CRC-4 multiframing has neither CRC nor E-bits.
    (SpanSpec(1, "E1", "CCS", "HDB3", crc4=False), SpanCounters(bpv=7372, fas=100)),
    # T1 ESF: 1.544e6 * 3600 * 1e-6 = 5558.4 BPV; 2000 FPS bits/s: 7.2 framing errors;
    # CRC-6 over 4632-bit superframes, 1000/3 a second: 1.2e6 * (1 - (1 - 1e-6)**4632) = 5545.5.
    (SpanSpec(1, "T1", "ESF", "B8ZS", dchannel=24), SpanCounters(bpv=5558, crc4=5545, fas=7)),
    # T1 D4: 8000 Ft+Fs bits/s: 28.8 framing errors, no CRC.
    (SpanSpec(1, "T1", "D4", "AMI", dchannel=24), SpanCounters(bpv=5558, fas=28)),
])
def test_an_hour_of_bit_errors(spec, expected):
    line, clock, _ = make_line(spec)
    line.inject(parse_fault("ber:1e-6"))
    clock.advance(3600)
    assert line.counters() == expected


def test_no_code_violations_are_counted_without_a_signal():
    line, clock, _ = make_line()
    line.inject(parse_fault("ber:1e-6"))
    clock.advance(1000)
    line.inject(parse_fault("los"))
    clock.advance(2600)
    assert line.counters().bpv == 2048                # only the first 1000 s: 2.048e6 * 1000 * 1e-6


def test_counters_survive_clear_and_slips_accrue():
    line, clock, _ = make_line()
    line.inject(parse_fault("slip:0.5"))
    clock.advance(60)
    line.inject(parse_fault("clear"))
    clock.advance(60)
    assert line.counters().slips == 30


def test_frames_hit_by_bit_errors():
    line, clock, _ = make_line()
    assert not any(line.frame_hit(98) for _ in range(100))
    line.inject(parse_fault("ber:1e-3"))
    hits = sum(line.frame_hit(98) for _ in range(100))
    # P(hit) for 100 bytes on the wire = 1 - 0.999**800 = 0.5508: 55 of 100, carried exactly
    assert hits == 55
