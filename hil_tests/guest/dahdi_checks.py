"""qbox's real DAHDI backend against the kernel driver: checks run by pytest INSIDE the qemu guest.

``hil_tests/test_qemu_dahdi.py`` boots the appliance image with this file, ``loc_pair.yaml``
and the qbox wheel on the payload disk, and runs ``python3 -m pytest`` on it as root.  Two
E1-sized ``dahdi_dynamic_loc`` spans are cross-connected in the guest's kernel: channel n of
span 1 (the exchange's side) is wired to channel n of span 2 (the box's side).

qbox is driven only as a user drives it: ``qbox config dahdi`` writes system.conf,
``qbox span list|show`` report, and the D-channel and alarm checks go through
``drivers.dahdi.open_backend`` (the interface every qbox component uses).  The references
qbox is held against are DAHDI's own: ``/proc/dahdi/N``, ``dahdi_scan``, ``dahdi_cfg``.  No
check issues an ioctl itself.  The alarm check comes last: it destroys and re-creates span 1.
"""
from __future__ import annotations

import configparser
import contextlib
import io
import json
import random
import re
import select
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from appliance.cli import main as cli_main
from appliance.config import load_config
from drivers.dahdi import Alarm, EventType, open_backend

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "loc_pair.yaml"
SYSTEM_CONF = Path("/etc/dahdi/system.conf")
DEVICE = "dahdi:///dev/dahdi"
EXCHANGE, BOX = 1, 2
HDLC_SETTLE = 0.2         # seconds a freshly opened D-channel pair idles before the first frame
DEADLINE = 10.0           # seconds any one wait may take before the check fails


# --- helpers ----------------------------------------------------------------------------------

def run(*command: str) -> str:
    """Run a command; its stdout, or an assertion error carrying its stderr."""
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}"
    return done.stdout


def qbox(*args: str) -> str:
    """``qbox ARGS`` run in this process (starting the CLI costs seconds in a TCG guest); its stdout."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli_main(list(args))
    assert status == 0, f"qbox {' '.join(args)} exited {status}: {err.getvalue().strip()}"
    return out.getvalue()


def qbox_json(*args: str):
    return json.loads(qbox(*args, "--json"))


def wait_for(predicate, what: str, deadline: float = DEADLINE):
    """Poll ``predicate`` until it returns something true; fail naming ``what`` after ``deadline`` s."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"gave up after {deadline:.0f} s waiting for {what}")
        time.sleep(0.05)


_PROC_HEADER = re.compile(r'^Span (\d+): (\S+) "(.*)"(.*)$')
_PROC_CHANNEL = re.compile(r"^\s+(\d+) (\S+)(?: (\S+))?")


def proc_span(number: int) -> dict:
    """``/proc/dahdi/N`` read directly (independently of qbox's own parser)."""
    lines = Path(f"/proc/dahdi/{number}").read_text().splitlines()
    header = _PROC_HEADER.match(lines[0])
    assert header, f"/proc/dahdi/{number}: unexpected first line {lines[0]!r}"
    channels = []
    for line in lines[1:]:
        match = _PROC_CHANNEL.match(line)
        if match:
            channels.append((int(match.group(1)), match.group(2), match.group(3) or ""))
    flags = header.group(4).split()
    return {"number": int(header.group(1)), "name": header.group(2), "description": header.group(3),
            "alarms": [w for w in flags if w in ("RED", "YELLOW", "BLUE", "RECOVERING", "LOOP", "NOTOPEN")],
            "channels": channels}


def dahdi_scan() -> dict[int, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(run("dahdi_scan"))
    return {int(section): dict(parser[section]) for section in parser.sections()}


def apply_config(path: Path) -> None:
    """``qbox config dahdi PATH`` (the installed command) into system.conf, then ``dahdi_cfg``."""
    SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SYSTEM_CONF.write_text(run("qbox", "config", "dahdi", str(path)))
    run("dahdi_cfg", "-c", str(SYSTEM_CONF))


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def box():
    """The box configuration the guest runs, loaded by qbox itself."""
    return load_config(str(CONFIG))


@pytest.fixture(scope="module")
def dahdi(box):
    """The two spans configured from the YAML by qbox, applied by dahdi_cfg, out of alarm."""
    for module in ("dahdi", "dahdi_dynamic", "dahdi_dynamic_loc"):
        run("modprobe", module)
    apply_config(CONFIG)
    for span in box.spans:
        wait_for(lambda: Path(f"/proc/dahdi/{span.number}").exists() and not proc_span(span.number)["alarms"],
                 f"span {span.number} to come up without alarms")
    return box


@pytest.fixture
def backend(dahdi):
    opened = open_backend(DEVICE)
    yield opened
    opened.close()


# --- configuration and status -----------------------------------------------------------------

def test_dahdi_cfg_applies_qbox_config(dahdi):
    """Every channel of both spans carries the signalling qbox's system.conf gave it."""
    for span in dahdi.spans:
        proc = proc_span(span.number)
        assert proc["description"] == f"Dynamic 'loc' span at '{span.dynamic.address}'"
        signalling = {channo: sig for channo, _, sig in proc["channels"]}
        assert sorted(signalling) == list(span.channos)
        assert {c: signalling[c] for c in span.bchannel_channos} == dict.fromkeys(span.bchannel_channos, "Clear")
        assert signalling[span.dchannel_channo] == "HDLCFCS"


def test_span_list_agrees_with_dahdi_scan(dahdi):
    scan = dahdi_scan()
    listed = {entry["number"]: entry for entry in qbox_json("span", "list")}
    assert sorted(listed) == sorted(scan) == [s.number for s in dahdi.spans]
    for number, fields in scan.items():
        entry = listed[number]
        assert entry["name"] == fields["name"]
        assert entry["description"] == fields["description"]
        assert entry["basechan"] == int(fields["basechan"])
        assert entry["totchans"] == int(fields["totchans"])
        assert entry["lbo"] == fields["lbo"]
        assert entry["sync_source"] == int(fields["syncsrc"])
        assert " ".join(entry["alarms"]) == fields["alarms"]


@pytest.mark.parametrize("number", [EXCHANGE, BOX])
def test_span_show_agrees_with_proc(dahdi, number):
    proc = proc_span(number)
    shown = qbox_json("span", "show", str(number))
    assert (shown["number"], shown["name"], shown["description"]) == (
        proc["number"], proc["name"], proc["description"])
    assert [(c["channo"], c["name"], c["signalling"]) for c in shown["channels"]] == proc["channels"]
    assert shown["alarms"] == (proc["alarms"] or ["OK"])
    text = qbox("span", "show", str(number))
    assert text.startswith(f"Span {number}: {proc['name']} ")


# --- D-channel HDLC ---------------------------------------------------------------------------

def lapd_frames(rng: random.Random, count: int) -> list[bytes]:
    """LAPD-shaped frames (SAPI 0, TEI 0, I-frame control) with random information fields,
    from an empty information field up to the 260 octets Q.921 allows."""
    sizes = [0, 1, 2, 31, 128, 260] + [rng.randrange(3, 260) for _ in range(count - 6)]
    return [bytes([0x00, 0x01, 2 * n % 256, 0x00]) + rng.randbytes(size) for n, size in enumerate(sizes)]


def receive_frames(channel, count: int) -> list[bytes]:
    frames: list[bytes] = []

    def got_all() -> bool:
        select.select([channel.fileno()], [], [], 0.1)
        while (frame := channel.recv()) is not None:
            frames.append(frame)
        return len(frames) >= count

    end = time.monotonic() + DEADLINE
    while not got_all() and time.monotonic() < end:
        pass
    return frames


def test_hdlc_frames_cross_dchannels_intact(backend, dahdi):
    """Frames sent on one D-channel arrive whole on the other, both ways; the backend adds
    the two FCS octets the kernel fills in, and takes the FCS off what it receives."""
    rng = random.Random("qbox-hdlc")
    exchange = backend.open_dchannel(EXCHANGE)
    box = backend.open_dchannel(BOX)
    try:
        # Opening a D-channel restarts DAHDI's HDLC framer on it; a frame sent in the first
        # milliseconds after either end opened is lost without an event (seen on 2.11.1 in this
        # guest).  Q.921 would resend it; a link is up long before it carries frames, so wait.
        time.sleep(HDLC_SETTLE)
        for sender, receiver, name in ((exchange, box, "span 1 -> span 2"), (box, exchange, "span 2 -> span 1")):
            frames = lapd_frames(rng, 12)
            for frame in frames:
                sender.send(frame)
            got = receive_frames(receiver, len(frames))
            events = [e.type.name for side in (exchange, box) for e in side.events()]
            assert got == frames, (
                f"{name}: received {[len(f) for f in got]}, sent {[len(f) for f in frames]} (lengths); "
                f"events {events}; receiver {receiver.stats}")
            assert not {"BADFCS", "ABORT", "OVERRUN"} & set(events)
    finally:
        exchange.close()
        box.close()


# --- alarms (last: it takes span 1 down and brings it back) ----------------------------------

def test_peer_span_destroyed_gives_red_alarm_cleared_on_recreation(backend, dahdi, tmp_path):
    """Destroying span 1 (``dahdi_cfg -s`` on a system.conf with only its ``dynamic=`` line)
    leaves span 2 without a far end: span 2 goes RED (SPANSTAT and an ALARM event reach
    qbox); re-creating span 1 (``dahdi_cfg`` on the same file) clears it (NOALARM)."""
    exchange_only = yaml.safe_load(CONFIG.read_text())
    exchange_only["spans"] = [s for s in exchange_only["spans"] if s["number"] == EXCHANGE]
    exchange_yaml = tmp_path / "exchange-only.yaml"
    exchange_yaml.write_text(yaml.safe_dump(exchange_only))
    exchange_conf = tmp_path / "exchange-only.conf"
    exchange_conf.write_text(qbox("config", "dahdi", str(exchange_yaml)))

    events: list[EventType] = []

    def seen(event: EventType):
        events.extend(e.type for e in box_dchannel.events())
        return event in events

    box_dchannel = backend.open_dchannel(BOX)
    try:
        assert backend.span_status(BOX).alarms == Alarm.NONE
        box_dchannel.events()  # start from an empty queue
        # Stop mode destroys the dynamic spans the file names, then exits 1 whatever happened.
        subprocess.run(["dahdi_cfg", "-s", "-c", str(exchange_conf)], capture_output=True)
        wait_for(lambda: not Path(f"/proc/dahdi/{EXCHANGE}").exists(), "span 1 to be destroyed")

        status = wait_for(lambda: (s := backend.span_status(BOX)).alarms & Alarm.RED and s, "span 2 to go RED")
        assert status.alarm_names == ["RED"]
        wait_for(lambda: seen(EventType.ALARM), f"an ALARM event on span 2's D-channel (got {events})")
        assert qbox_json("span", "show", str(BOX))["alarms"] == proc_span(BOX)["alarms"] == ["RED"]

        run("dahdi_cfg", "-c", str(exchange_conf))
        assert proc_span(EXCHANGE)["name"] == "DYN/loc/1:0"
        wait_for(lambda: backend.span_status(BOX).alarms == Alarm.NONE, "span 2's alarm to clear")
        wait_for(lambda: seen(EventType.NOALARM), f"a NOALARM event on span 2's D-channel (got {events})")
        assert qbox_json("span", "show", str(BOX))["alarms"] == ["OK"]
        assert proc_span(BOX)["alarms"] == []
    finally:
        box_dchannel.close()
