"""/proc/dahdi/N and dahdi_scan parsing, on texts in DAHDI 2.11's exact format."""
from __future__ import annotations

from pathlib import Path

import pytest

from drivers.dahdi.interface import Alarm, SpanCounters
from drivers.dahdi.procfs import (
    ProcFormatError, is_bearer, is_dchannel, line_format, parse_dahdi_scan, parse_proc_span,
)
from tests.drivers.dahdi.fakedahdi import FakeKernel, SIG_CLEAR, SIG_HARDHDLC, render_proc

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str):
    return parse_proc_span((FIXTURES / name).read_text(), source=name)


# file, span, name, type, framing, coding, crc4, alarms, channels, D-channel, in use
CASES = [
    ("e1_pri_ok.txt", 1, "TE4/0/1", "E1", "CCS", "HDB3", True, [], 31, 16, 31),
    ("e1_pri_red.txt", 2, "TE4/0/2", "E1", "CCS", "HDB3", True, ["RED"], 31, 47, 31),
    ("e1_pri_yellow_errors.txt", 3, "TE4/0/3", "E1", "CCS", "HDB3", True, ["YELLOW"], 31, 78, 31),
    ("e1_pri_recovering.txt", 2, "TE4/0/2", "E1", "CCS", "HDB3", True, ["RECOVERING"], 31, 47, 31),
    ("e1_unconfigured.txt", 4, "TE4/0/4", "E1", "", "", False, [], 31, None, 0),
    ("t1_pri_ok.txt", 1, "TE2/0/1", "T1", "ESF", "B8ZS", False, [], 24, 24, 24),
    ("t1_pri_blue.txt", 2, "TE2/0/2", "T1", "ESF", "B8ZS", False, ["BLUE"], 24, 48, 24),
    ("t1_dynamic_ok.txt", 1, "DYN/loc/1:0", "T1", "ESF", "B8ZS", False, [], 24, 24, 0),
    ("t1_dynamic_red.txt", 2, "DYN/loc/1:1", "T1", "ESF", "B8ZS", False, ["RED"], 24, 48, 3),
    ("analog_tdm410.txt", 3, "WCTDM/0", "analog", "", "", False, [], 4, None, 3),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fixture_parses_to_the_span_it_shows(case):
    fname, number, name, span_type, framing, coding, crc4, alarms, nchan, dchan, in_use = case
    proc = load(fname)
    status = proc.to_status()
    assert (status.number, status.name, status.type) == (number, name, span_type)
    assert (status.framing, status.coding, status.crc4) == (framing, coding, crc4)
    assert status.alarm_names == alarms
    assert len(status.channels) == nchan
    assert [c.chanpos for c in status.channels] == list(range(1, nchan + 1))
    assert [c.channo for c in proc.channels if is_dchannel(c.signalling)] == ([dchan] if dchan else [])
    assert sum(c.in_use for c in proc.channels) == in_use


def test_e1_ok_header_and_channels_in_detail():
    proc = load("e1_pri_ok.txt")
    assert proc.description == "T4XXP (PCI) Card 0 Span 1"
    assert proc.master and proc.clock_source and proc.lineconfig == ("CCS", "HDB3", "CRC4")
    assert proc.counters == SpanCounters()
    first, dchan = proc.channels[0], proc.channels[15]
    assert (first.channo, first.name, first.signalling) == (1, "TE4/0/1/1", "Clear")
    assert first.echo_canceller == "VPMOCT128" and first.echo_canceller_active
    assert not proc.channels[3].echo_canceller_active
    assert dchan.signalling == "Hardware-assisted HDLC" and dchan.echo_canceller == ""
    status = proc.to_status()
    assert status.sync_source == 1 and status.channels[0].state == "in use"
    assert status.as_dict()["alarms"] == ["OK"]


def test_every_counter_line_is_read():
    proc = load("e1_pri_yellow_errors.txt")
    assert proc.counters == SpanCounters(bpv=12, crc4=87, fas=3, ebit=40, slips=2)
    assert proc.irq_misses == 1
    assert not proc.master and not proc.clock_source
    assert proc.channels[15].signalling == "HDLCFCS"
    assert proc.channels[0].echo_canceller == "MG2"


def test_span_alarm_is_copied_to_every_channel():
    status = load("e1_pri_red.txt").to_status()
    assert status.alarms == Alarm.RED
    assert {c.state for c in status.channels} == {"alarm"}
    assert status.counters == SpanCounters(crc4=4, fas=1287)


def test_recovering_span_keeps_the_channel_alarm_it_entered_with():
    proc = load("e1_pri_recovering.txt")
    assert proc.alarms == Alarm.RECOVER
    assert {c.alarms for c in proc.channels} == {Alarm.RED}
    assert proc.counters.slips == 1


def test_unconfigured_channels_and_span():
    proc = load("e1_unconfigured.txt")
    assert {c.signalling for c in proc.channels} == {"Unconfigured"}
    assert not any(is_bearer(c.signalling) for c in proc.channels)
    assert {c.state for c in proc.to_status().channels} == {"idle"}


def test_analog_ports_fxs_and_fxo_with_a_dead_fxo_line():
    proc = load("analog_tdm410.txt")
    assert [c.signalling for c in proc.channels] == ["FXOKS", "FXOKS", "FXSKS", "FXSKS"]
    assert all(is_bearer(c.signalling) for c in proc.channels)
    assert [c.to_status(i).state for i, c in enumerate(proc.channels, 1)] == ["in use"] * 3 + ["alarm"]
    assert proc.channels[1].echo_canceller_active
    assert proc.lineconfig == () and proc.alarms == Alarm.NONE


def test_dynamic_span_is_t1_by_its_framing_and_channels_not_open():
    proc = load("t1_dynamic_ok.txt")
    assert proc.description == "Dynamic 'loc' span at '1:0'"
    assert proc.master and not proc.clock_source
    assert {c.state for c in proc.to_status(spantype="DYNAM").channels} == {"idle"}


def test_to_status_overrides_what_proc_cannot_know():
    status = load("t1_dynamic_red.txt").to_status(
        spantype="DYNAM", lbo="133-266 feet (DSX-1)", sync_source=0,
        alarms=Alarm.RED | Alarm.YELLOW, counters=SpanCounters(bpv=9))
    assert status.lbo == "133-266 feet (DSX-1)"
    assert status.alarm_names == ["YELLOW", "RED"]
    assert status.counters.bpv == 9


@pytest.mark.parametrize("fname", sorted(p.name for p in FIXTURES.glob("*.txt") if not p.name.startswith("dahdi_scan")))
def test_fixtures_end_every_line_with_the_kernels_trailing_space(fname):
    text = (FIXTURES / fname).read_text()
    lines = text.split("\n")
    assert lines[0].endswith(" ") and text.endswith(" \n")
    assert all(line.endswith(" ") for line in lines if line.startswith("\t ") or line.startswith("\t  "))


def test_fake_kernel_renders_what_the_fixture_shows():
    """Two independent transcriptions of dahdi_seq_show() agree (fixture and fake kernel)."""
    kernel = FakeKernel()
    sigs = [SIG_HARDHDLC if pos == 24 else SIG_CLEAR for pos in range(1, 25)]
    span = kernel.add_span("TE2/0/1", "T2XXP (PCI) Card 0 Span 1", sigs, spantype="T1",
                           lineconfig=(1 << 5) | (1 << 7), syncsrc=1, master=True)
    for chan in span.channels:
        chan.is_open = True
    assert render_proc(span, master=1) == (FIXTURES / "t1_pri_ok.txt").read_text()
    kernel.line_alarm(1, 16)
    span.master, span.syncsrc, span.bpv = False, 0, 3
    span.number, span.name, span.desc = 2, "TE2/0/2", "T2XXP (PCI) Card 0 Span 2"
    for index, chan in enumerate(span.channels):
        chan.channo, chan.name = 25 + index, f"TE2/0/2/{index + 1}"
    assert render_proc(span) == (FIXTURES / "t1_pri_blue.txt").read_text()


@pytest.mark.parametrize("words, spantype, sigs, expected", [
    (["CCS", "HDB3", "CRC4"], "", [], ("E1", "CCS", "HDB3", True)),
    (["HDB3"], "", [], ("E1", "CAS", "HDB3", False)),
    (["ESF", "B8ZS"], "DYNAM", [], ("T1", "ESF", "B8ZS", False)),
    (["D4", "AMI"], "", [], ("T1", "D4", "AMI", False)),
    (["AMI"], "", ["Clear"] * 31, ("E1", "CAS", "AMI", False)),
    (["AMI"], "J1", [], ("J1", "", "AMI", False)),
    ([], "", ["Unconfigured"] * 24, ("T1", "", "", False)),
    ([], "", ["Clear"] * 31, ("E1", "", "", False)),
    ([], "", ["FXOKS"] * 24, ("analog", "", "", False)),
    ([], "FXS", [], ("analog", "", "", False)),
    ([], "TE", [], ("BRI", "", "", False)),
    ([], "", ["Clear"] * 8, ("analog", "", "", False)),
])
def test_line_format(words, spantype, sigs, expected):
    assert line_format(words, spantype, sigs) == expected


@pytest.mark.parametrize("text, message", [
    ("", "x:.*empty"),
    ("Spam 1: X \"d\" \n\n", r"x:1: expected 'Span N"),
    ('Span 1: X "d" PURPLE \n\n', r"x:1: unexpected word 'PURPLE'"),
    ('Span 1: X "d" CCS/HDB4 \n\n', r"x:1: unexpected word 'CCS/HDB4'"),
    ('Span 1: X "d" \n\tBPV count: many\n\n', r"x:2: expected a counter line"),
    ('Span 1: X "d" \n\tJitter count: 3\n\n', r"x:2: expected a counter line"),
    ('Span 1: X "d" \n\t   1 X/1 Clear \n', r"x:2: expected a counter line"),
    ('Span 1: X "d" \n\n\t   1 X/1 Clear \nnot a channel\n', r"x:4: expected '<TAB>CHANNO"),
    ('Span 1: X "d" \n\n\t   1 X/1 Clear (Out of use) \n', r"x:3: unexpected '\(Out' on channel 1"),
    ('Span 1: X "d" \n\tBPV count: 1\n', r"x: no blank line"),
])
def test_malformed_proc_text_names_source_and_line(text, message):
    with pytest.raises(ProcFormatError, match=message):
        parse_proc_span(text, source="x")


def test_header_and_counters_alone_leave_the_channel_lines_unread():
    text = 'Span 1: X "d" \n\tIRQ misses: 2\n\tTiming slips: 3\n\n\t   1 X/1 Clear \nnot a channel line\n'
    with pytest.raises(ProcFormatError):
        parse_proc_span(text, source="x")                  # read whole, the bad line is found
    head = parse_proc_span(text, source="x", channels=False)
    assert (head.number, head.irq_misses, head.counters.slips, head.channels) == (1, 2, 3, ())


def test_dahdi_scan_output():
    spans = parse_dahdi_scan((FIXTURES / "dahdi_scan_branch.txt").read_text())
    assert [s.number for s in spans] == [1, 2, 3, 4]
    e1, red, analog, unconfigured = spans
    assert e1.active and e1.alarms == ("OK",) and e1.type == "digital-E1"
    assert (e1.basechan, e1.totchans, e1.syncsrc) == (1, 31, 1)
    assert e1.coding_opts == ("AMI", "HDB3") and e1.framing_opts == ("CCS", "CRC4")
    assert (e1.coding, e1.framing, e1.lbo) == ("HDB3", "CCS/CRC4", "0 db (CSU)/0-133 feet (DSX-1)")
    assert e1.devicetype == "Wildcard TE420 (5th Gen) (VPMOCT128)"
    assert red.alarms == ("RED", "LFA") and red.basechan == 32
    assert analog.type == "analog" and analog.ports == ((63, "FXS"), (64, "FXS"), (65, "FXO"), (66, "FXO"))
    assert unconfigured.alarms == ("UNCONFIGURED",) and unconfigured.coding == ""


@pytest.mark.parametrize("text, message", [
    ("active=yes\n", r"scan:1: 'active=yes' before the first"),
    ("[1]\nactive\n", r"scan:2: expected KEY=VALUE"),
    ("[1]\ncolour=blue\n", r"scan:2: unknown key 'colour'"),
    ("[1]\nbasechan=one\n", r"scan:2: basechan: 'one' is not a number"),
    ("[1]\nport=x,FXS\n", r"scan:2: port: 'x,FXS' is not a number"),
])
def test_malformed_dahdi_scan_names_line(text, message):
    with pytest.raises(ProcFormatError, match=message):
        parse_dahdi_scan(text, source="scan")
