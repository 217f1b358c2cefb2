"""``qbox span list`` / ``qbox span show N`` over simulated spans laid out from examples/branch.yaml."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from appliance.cli.sim import simulated_ports, simulated_spans
from appliance.cli.span import render_span_list, render_span_show
from appliance.config import load_config
from drivers.clock import ManualClock
from drivers.dahdi import Alarm, ChannelStatus, SpanCounters, SpanStatus
from drivers.dahdi.sim import FarEnd, LineTiming

BRANCH = Path(__file__).resolve().parents[2] / "examples" / "branch.yaml"
T1 = BRANCH.with_name("t1.yaml")


@pytest.fixture
def farend():
    config = load_config(BRANCH)
    directory = tempfile.mkdtemp(prefix="qspan")       # short: Unix socket paths max out at 108 bytes
    far = FarEnd(directory, simulated_spans(config), simulated_ports(config),
                 clock=ManualClock(), timing=LineTiming()).start()
    far.advance(5.0)
    yield far
    far.stop()
    shutil.rmtree(directory, ignore_errors=True)


def url(farend) -> str:
    return f"sim://{farend.directory}"


def assert_fits_80_columns(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide


def test_span_list_text(run_qbox, farend):
    farend.inject(2, "los")
    farend.advance(2.5)
    status, out, _ = run_qbox("span", "list", "--device", url(farend))
    assert status == 0
    assert out.splitlines() == [
        "SPAN  NAME     TYPE    CHANNELS  LINE           CLOCK  ALARMS",
        "1     SIM/1    E1      1-31      HDB3/CCS/CRC4  yes    OK",
        "2     SIM/2    E1      32-62     HDB3/CCS/CRC4         RED",
        "3     SIM/3    E1      63-93     HDB3/CCS/CRC4         OK",
        "4     SIM/FXS  analog  94-97     -                     OK",
    ]


def test_span_list_json(run_qbox, farend):
    status, out, _ = run_qbox("span", "list", "--device", url(farend), "--json")
    spans = json.loads(out)
    assert [(s["number"], s["basechan"], s["totchans"], s["line"]) for s in spans] == [
        (1, 1, 31, "HDB3/CCS/CRC4"), (2, 32, 31, "HDB3/CCS/CRC4"), (3, 63, 31, "HDB3/CCS/CRC4"), (4, 94, 4, "-")]
    first = spans[0]
    assert first["alarms"] == ["OK"] and first["sync_source"] == 1 and "channels" not in first
    assert first["counters"] == {"bpv": 0, "crc4": 0, "fas": 0, "ebit": 0, "slips": 0}
    assert first["description"] == "qbox simulated E1 span 1: exchange-a"


def test_span_show_text_during_loss_of_signal(run_qbox, farend):
    farend.inject(1, "ber:1e-6")
    farend.advance(10)
    farend.inject(1, "los")
    farend.advance(2.5)
    status, out, _ = run_qbox("span", "show", "1", "--device", url(farend))
    assert status == 0
    assert_fits_80_columns(out)
    lines = out.splitlines()
    assert lines[:6] == [
        'Span 1: SIM/1 "qbox simulated E1 span 1: exchange-a"',
        "  Type      E1 (HDB3/CCS/CRC4)",
        "  LBO       0 db (CSU)/0-133 feet (DSX-1)",
        "  Alarms    RED",
        "  Timing    span 2 is the clock source",
        "  Errors    BPV 20  CRC4 20  FAS 0  E-bit 20  slips 0",
    ]
    assert lines[7].split() == ["CHAN", "NAME", "SIGNALLING", "STATE"]
    channels = [line.split(None, 2) for line in lines[8:]]
    assert len(channels) == 31
    assert channels[15] == ["16", "SIM/1/16", "Hardware-assisted HDLC  alarm"]
    assert channels[0] == ["1", "SIM/1/1", "Clear                   alarm"]


def test_span_show_json_has_every_channel(run_qbox, farend):
    status, out, _ = run_qbox("span", "show", "3", "--device", url(farend), "--json")
    data = json.loads(out)
    assert (data["number"], data["type"], data["framing"], data["coding"], data["crc4"]) == (3, "E1", "CCS", "HDB3", True)
    assert data["line"] == "HDB3/CCS/CRC4" and data["alarms"] == ["OK"]
    assert [c["channo"] for c in data["channels"]] == list(range(63, 94))
    assert data["channels"][15]["signalling"] == "Hardware-assisted HDLC"
    assert {c["state"] for c in data["channels"]} == {"idle"}


def test_span_show_fxs_ports(run_qbox, farend):
    farend.port(95).lift()
    status, out, _ = run_qbox("span", "show", "4", "--device", url(farend))
    assert status == 0
    assert "  Type      analog" in out and "Errors" not in out
    assert "95    SIM/FXS/2  FXOKS       off-hook" in out


def test_device_from_the_configuration(run_qbox, farend, tmp_path):
    config = tmp_path / "box.yaml"
    config.write_text(BRANCH.read_text().replace("device: dahdi:///dev/dahdi", f"device: {url(farend)}"))
    status, out, _ = run_qbox("span", "list", "--config", str(config))
    assert status == 0 and out.count("SIM/") == 4


def test_unknown_span_is_bad_input(run_qbox, farend):
    status, _, err = run_qbox("span", "show", "7", "--device", url(farend))
    assert status == 2 and err.strip() == f"qbox: span 7 does not exist on {url(farend)} (spans: 1, 2, 3, 4)"


def test_no_simulator_is_a_failure(run_qbox, tmp_path):
    status, _, err = run_qbox("span", "list", "--device", f"sim://{tmp_path}")
    assert status == 1 and f"no simulator is running in {tmp_path}" in err


def test_unknown_scheme_and_bad_config(run_qbox, tmp_path):
    status, _, err = run_qbox("span", "list", "--device", "carrier-pigeon:///coop")
    assert status == 1 and "unknown DAHDI device scheme 'carrier-pigeon'" in err
    status, _, err = run_qbox("span", "list", "--config", str(tmp_path / "missing.yaml"))
    assert status == 2 and "missing.yaml: cannot read" in err
    status, _, err = run_qbox("span", "list", "--device", "sim:///x", "--config", str(BRANCH))
    assert status == 2 and "not allowed with argument" in err


def test_the_real_device_without_dahdi_fails_cleanly(run_qbox):
    status, out, err = run_qbox("span", "list", "--device", "dahdi:///nonexistent/dahdi")
    assert status == 1 and err.startswith("qbox: ") and out == ""


def test_rendering_worst_cases_fits_80_columns():
    every_alarm = Alarm.BLUE | Alarm.YELLOW | Alarm.RED | Alarm.LOOPBACK | Alarm.RECOVER | Alarm.NOTOPEN
    status = SpanStatus(
        number=12, name="TE4/0/4", description="Wildcard TE420 (4th Gen) Card 0 Span 4, a very long description",
        type="T1", framing="ESF", coding="B8ZS", alarms=every_alarm, lbo="-22.5db (CSU)", sync_source=0,
        counters=SpanCounters(bpv=4_294_967_295, crc4=4_294_967_295, fas=4_294_967_295, ebit=0, slips=65535),
        channels=tuple(ChannelStatus(300 + i, i + 1, f"TE4/0/4/{i + 1}", "Hardware-assisted HDLC", "in use")
                       for i in range(24)),
    )
    text = render_span_show(status)
    assert_fits_80_columns(text)
    assert "  Alarms    BLUE YELLOW RED LOOP RECOVERING NOTOPEN" in text
    assert "  Timing    internal (no span gives timing)" in text
    assert text.splitlines()[0].endswith('..."')
    listing = render_span_list([status] * 3)
    assert_fits_80_columns(listing)
    assert listing.splitlines()[1:3] == [
        "12    TE4/0/4  T1    300-323   B8ZS/ESF         BLUE YELLOW RED LOOP RECOVERING",
        "                                                NOTOPEN",
    ]


def test_t1_box(run_qbox):
    config = load_config(T1)
    directory = tempfile.mkdtemp(prefix="qspan")
    with FarEnd(directory, simulated_spans(config), simulated_ports(config), clock=ManualClock()) as far:
        status, out, _ = run_qbox("span", "show", "1", "--device", f"sim://{directory}", "--json")
        data = json.loads(out)
        assert (data["type"], data["line"], len(data["channels"])) == ("T1", "B8ZS/ESF", 24)
        assert data["channels"][23]["signalling"] == "Hardware-assisted HDLC"
        assert far.status(2).type == "analog" and [c.channo for c in far.status(2).channels] == list(range(25, 33))
    shutil.rmtree(directory, ignore_errors=True)
