"""Fault specs for `qbox demo --fault` and the bench's fault injector."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hil_tests.faults import Fault, FaultSpecError, parse_fault, parse_faults


@pytest.mark.parametrize("spec, fault, bits", [
    ("span1:los@10-30", Fault("span1", "los", 10.0, 30.0), 8 | 1 << 8),
    ("ais", Fault("span1", "ais", 0.0, None), 16),
    ("rai@5", Fault("span1", "rai", 5.0, None), 4),
    ("span2:ber@2.5-4", Fault("span2", "ber", 2.5, 4.0), 0),
    ("span3:lof", Fault("span3", "lof", 0.0, None), 8 | 1 << 9),
    ("tower:unplug@20", Fault("tower", "unplug", 20.0, None), 0),
    (" Span1:LOS@1 ", Fault("span1", "los", 1.0, None), 8 | 1 << 8),
])
def test_specs(spec, fault, bits):
    parsed = parse_fault(spec)
    assert parsed == fault and parsed.alarm_bits == bits


def test_span_number_window_and_round_trip():
    fault = parse_fault("span12:los@10-30")
    assert fault.span == 12 and parse_fault(str(fault)) == fault
    assert [fault.active_at(t) for t in (9.99, 10, 29.99, 30)] == [False, True, True, False]
    assert parse_fault("tower:unplug@3").span is None and parse_fault("tower:unplug@3").active_at(1e9)


def test_lists_and_repeats():
    assert [str(f) for f in parse_faults(["span1:los@10-30,ais@40", "tower:unplug@20"])] == [
        "span1:los@10-30", "span1:ais@40", "tower:unplug@20"]


@pytest.mark.parametrize("spec, offset, words", [
    ("span1:lso@10", 7, "unknown span fault 'lso'"),
    ("tower:los", 7, "unknown tower fault 'los' (use unplug)"),
    ("trunk1:los", 1, "unknown target 'trunk1'"),
    ("span0:los", 1, "spans are numbered from 1"),
    ("span1:los@", 11, "expected the start in seconds"),
    ("span1:los@10-", 14, "expected the end in seconds"),
    ("span1:los@30-10", 14, "ends at 10 s, not after it starts at 30 s"),
    ("span1:los@1s", 12, "unexpected 's'"),
    ("@10", 1, "expected [TARGET:]KIND[@START[-END]]"),
    ("span1:", 7, "expected a fault kind after 'span1':"),
])
def test_errors_are_one_line_and_point_at_the_character(spec, offset, words):
    with pytest.raises(FaultSpecError) as info:
        parse_fault(spec)
    message = str(info.value)
    assert f"fault {spec!r}, character {offset}: " in message and words in message and "\n" not in message


@given(st.text(max_size=20))
def test_anything_parses_or_raises_fault_spec_error(text):
    try:
        parse_fault(text)
    except FaultSpecError:
        pass
