"""The simulated backend end to end: a FarEnd on its own thread, the near end over real sockets.

The far end runs on a ManualClock, so media ticks, debounces and settle times happen
exactly when a test advances the clock.
"""
from __future__ import annotations

import errno
from dataclasses import replace
import select
import shutil
import socket
import tempfile
import threading

import pytest

from cython_ext import g711
from drivers.clock import ManualClock
from drivers.dahdi import DahdiError, EventType, HookOp, open_backend
from drivers.dahdi.interface import Backend, ChannelEvent
from drivers.dahdi.sim import FarEnd, LineTiming, PortSpec, SpanSpec, wire

TIMING = LineTiming(los_debounce=1.0, ais_debounce=1.0, rai_debounce=0.5, settle=2.0)
SPANS = [
    SpanSpec(1, "E1", "CCS", "HDB3", crc4=True, timing=1, first_channo=1, dchannel=16),
    SpanSpec(2, "T1", "ESF", "B8ZS", timing=2, first_channo=32, dchannel=24, dchan_mode="dchan"),
]
PORTS = [PortSpec(56, "fxoks", "alaw", "agents"), PortSpec(57, "fxols", "alaw", "agents")]
E1_BLOCK = 30 * 160


@pytest.fixture
def sim_dir():
    # Unix socket paths are limited to 108 bytes: keep them short, not under tmp_path.
    directory = tempfile.mkdtemp(prefix="qsim")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def farend(sim_dir):
    clock = ManualClock()
    far = FarEnd(sim_dir, SPANS, PORTS, clock=clock, timing=TIMING).start()
    far.advance(TIMING.settle)          # past the bring-up
    yield far
    far.stop()


@pytest.fixture
def backend(farend) -> Backend:
    near = open_backend(f"sim://{farend.directory}")
    yield near
    near.close()


def ready(obj, timeout: float = 5.0) -> bool:
    """Wait until ``obj`` (anything with fileno) is readable."""
    return bool(select.select([obj], [], [], timeout)[0])


def read_one(read, obj):
    assert ready(obj), "nothing arrived"
    return read()


def drain_events(obj, expected: int, read=None) -> list[ChannelEvent]:
    """Events until ``expected`` have come; data waiting ahead of them is read (and dropped) with ``read``."""
    found: list[ChannelEvent] = []
    while len(found) < expected and ready(obj):
        news = obj.events()
        if not news and read is not None:
            read()                # data ahead of the events: events met on the way are kept
            news = obj.events()
        if not news and read is None:
            break
        found += news
    return found


# -- status -----------------------------------------------------------------------------

def test_spans_look_like_dahdi(backend):
    e1, t1, analog = backend.spans()
    assert (e1.number, e1.type, e1.framing, e1.coding, e1.crc4) == (1, "E1", "CCS", "HDB3", True)
    assert [c.channo for c in e1.channels] == list(range(1, 32))
    assert e1.channels[15].signalling == "Hardware-assisted HDLC"
    assert {c.signalling for i, c in enumerate(e1.channels) if i != 15} == {"Clear"}
    assert e1.channels[0].name == "SIM/1/1" and e1.name == "SIM/1"
    assert (t1.type, len(t1.channels), t1.channels[-1].channo, t1.channels[-1].signalling) == ("T1", 24, 55, "HDLCFCS")
    assert (analog.number, analog.type) == (3, "analog")
    assert [(c.channo, c.signalling) for c in analog.channels] == [(56, "FXOKS"), (57, "FXOLS")]
    assert e1.sync_source == 1 and not e1.alarms
    assert e1.lbo == "0 db (CSU)/0-133 feet (DSX-1)"


def test_span_status_without_channel_rows(backend, farend):
    farend.inject(1, "los")
    farend.advance(TIMING.los_debounce)
    full = backend.spans()
    bare = backend.spans(channels=False)
    assert [s.channels for s in bare] == [(), (), ()] and all(s.channels for s in full)
    assert [replace(s, channels=()) for s in full] == bare       # everything else as before
    assert bare[0].alarm_names == ["RED"]
    assert backend.span_status(3, channels=False) == replace(backend.span_status(3), channels=())


def test_no_simulator_running(sim_dir):
    with pytest.raises(DahdiError) as info:
        open_backend(f"sim://{sim_dir}")
    assert "no simulator is running in" in str(info.value)


@pytest.mark.parametrize("url", ["sim://relative/dir", "sim://host/tmp", "sim://"])
def test_bad_sim_urls(url):
    with pytest.raises(DahdiError, match="sim:///DIRECTORY"):
        open_backend(url)


def test_unknown_span_and_channel(backend):
    with pytest.raises(DahdiError) as info:
        backend.span_status(9)
    assert info.value.errno == errno.ENODEV and "span 9 does not exist" in str(info.value)
    with pytest.raises(DahdiError) as info:
        backend.open_dchannel(9)
    assert info.value.errno == errno.ENODEV
    with pytest.raises(DahdiError) as info:
        backend.open_channel(999)
    assert (info.value.errno, str(info.value)) == (errno.EINVAL, "DAHDI channel 999 does not exist")   # DAHDI_SPECIFY's


def test_a_second_simulator_in_the_same_directory_is_refused(farend):
    with pytest.raises(DahdiError) as info:
        FarEnd(farend.directory, SPANS).start()
    assert info.value.errno == errno.EADDRINUSE


def test_one_simulator_serves_on_one_thread(farend, sim_dir):
    # started twice, two threads would share one selector and one would close it under the other
    with pytest.raises(RuntimeError, match="already serving"):
        farend.start()
    with farend as entered:                  # `with FarEnd(...).start():` enters a started one
        assert entered is farend
        assert [t.name for t in threading.enumerate()].count(f"qbox-sim:{sim_dir}") == 1


def test_every_open_shows_to_every_reader(farend, backend):
    dchan = backend.open_dchannel(1)
    other = open_backend(f"sim://{farend.directory}")   # as a second process (qbox span show) would
    states = {c.channo: c.state for c in other.span_status(1).channels}
    other.close()
    assert states[16] == "in use" and states[1] == "idle"
    dchan.close()


# -- D-channel -------------------------------------------------------------------------

def test_dchannel_frames_both_ways(farend, backend):
    dchan = backend.open_dchannel(1)
    far = farend.span(1)
    dchan.send(b"\x00\x01\x7f")                       # SABME from the CPE side
    assert far.recv_frame(timeout=5) == b"\x00\x01\x7f"
    far.send_frame(b"\x00\x01\x73")                   # UA from the network
    assert read_one(dchan.recv, dchan) == b"\x00\x01\x73"
    assert dchan.recv() is None
    assert (dchan.span, dchan.channo) == (1, 16)
    dchan.close()


def test_loss_of_signal_alarms_and_drops_frames(farend, backend):
    dchan = backend.open_dchannel(1)
    far = farend.span(1)
    farend.inject(1, "los")
    far.send_frame(b"\x02\x01\x01\x00")               # lost on the cut line
    farend.advance(TIMING.los_debounce)
    assert backend.span_status(1).alarm_names == ["RED"]
    assert farend.line_report(1)["far"] == ["YELLOW"]
    assert farend.line_report(1)["frames_dropped"] == 1
    assert drain_events(dchan, 1) == [ChannelEvent(16, EventType.ALARM, 1)]
    assert dchan.recv() is None

    farend.inject(1, "clear")
    assert backend.span_status(1).alarm_names == ["RECOVERING"]
    farend.advance(TIMING.settle)
    assert backend.span_status(1).alarm_names == []
    assert [e.type for e in drain_events(dchan, 2)] == [EventType.ALARM, EventType.NOALARM]
    far.send_frame(b"\x02\x01\x01\x00")
    assert read_one(dchan.recv, dchan) == b"\x02\x01\x01\x00"
    dchan.close()


def test_rai_cuts_the_near_ends_signal(farend, backend):
    dchan = backend.open_dchannel(2)
    farend.inject(2, "rai")
    dchan.send(b"\x00\x01\x7f")
    farend.advance(TIMING.rai_debounce)
    status = backend.span_status(2)
    assert status.alarm_names == ["YELLOW"] and status.sync_source == 1
    assert farend.line_report(2)["far"] == ["RED"]
    assert farend.span(2).recv_frame(timeout=0.2) is None
    dchan.close()


def test_loopback_returns_the_far_ends_frames(farend, backend):
    dchan = backend.open_dchannel(1)
    farend.inject(1, "loop")
    assert backend.span_status(1).alarm_names == ["LOOP"]
    assert backend.span_status(1).sync_source == 2      # a looped span gives no timing: span 2 takes over
    farend.span(1).send_frame(b"\x02\x01\x01\x00")
    assert farend.span(1).recv_frame(timeout=5) == b"\x02\x01\x01\x00"
    dchan.close()


def test_bit_errors_fail_frames_with_badfcs(farend, backend):
    dchan = backend.open_dchannel(1)
    farend.inject(1, "ber:1e-2")                        # ~ every frame of 30 bytes is hit
    for _ in range(5):
        farend.span(1).send_frame(bytes(30))
    events = drain_events(dchan, 4, dchan.recv)
    assert len(events) >= 4 and {e.type for e in events} == {EventType.BADFCS}
    assert farend.line_report(1)["bad_fcs"] == len(events)
    dchan.close()


def test_the_dchannel_opens_once(backend):
    first = backend.open_dchannel(1)
    with pytest.raises(DahdiError) as info:
        backend.open_dchannel(1)
    assert info.value.errno == errno.EBUSY
    first.close()
    backend.open_dchannel(1).close()                     # closing frees it


def test_an_hour_of_bit_errors_shows_in_the_counters(farend, backend):
    farend.inject(1, "ber:1e-6")
    farend.advance(3600)
    counters = backend.span_status(1).counters
    assert (counters.bpv, counters.crc4, counters.ebit, counters.fas) == (7372, 7365, 7365, 100)


# -- media -----------------------------------------------------------------------------

def test_one_block_per_20ms_tick_each_way(farend, backend):
    media = backend.open_span_media(1)
    assert media.channels == tuple(c for c in range(1, 32) if c != 16)
    far = farend.span(1)
    block = bytes(range(256)) * (E1_BLOCK // 256) + bytes(E1_BLOCK % 256)
    far.send_media(block)
    assert media.read_block() is None                   # nothing before the tick
    farend.advance(0.02)
    assert read_one(media.read_block, media) == block
    farend.advance(0.02)
    assert read_one(media.read_block, media) == bytes([0xD5]) * E1_BLOCK   # A-law silence when idle
    farend.advance(0.1)
    count = 0
    while ready(media, 0.5) and media.read_block() is not None:
        count += 1
        if count == 5:
            break
    assert count == 5                                    # 100 ms = five more blocks

    media.write_block(bytes([0x2A]) * E1_BLOCK)
    assert far.recv_media(timeout=5) == bytes([0x2A]) * E1_BLOCK
    with pytest.raises(DahdiError):
        media.write_block(b"short")
    media.close()


def test_linear_media_is_converted_like_the_kernel_does(farend, backend):
    media = backend.open_span_media(1, mode="linear")
    far = farend.span(1)
    line_block = bytes([0x55, 0xD5, 0x80, 0x2A] * (E1_BLOCK // 4))
    far.send_media(line_block)
    farend.advance(0.02)
    assert read_one(media.read_block, media) == g711.decode(line_block, "alaw")
    linear = g711.decode(bytes([0x33] * E1_BLOCK), "alaw")
    media.write_block(linear)
    assert far.recv_media(timeout=5) == bytes([0x33] * E1_BLOCK)
    media.close()


def test_ais_reaches_the_near_end_as_all_ones(farend, backend):
    media = backend.open_span_media(1)
    farend.inject(1, "ais")
    farend.span(1).send_media(bytes(E1_BLOCK))
    farend.advance(0.02)
    assert read_one(media.read_block, media) == b"\xff" * E1_BLOCK
    farend.advance(TIMING.ais_debounce)
    assert backend.span_status(1).alarm_names == ["BLUE"]
    events = drain_events(media, 30, media.read_block)
    assert len(events) == 30 and {e.type for e in events} == {EventType.ALARM}   # one per B-channel
    assert {e.channo for e in events} == set(media.channels)
    media.close()


def test_events_seen_are_those_reads_met_and_never_cost_a_block(farend, backend):
    media = backend.open_span_media(1)
    farend.inject(1, "ais")
    farend.advance(TIMING.ais_debounce)     # all-ones blocks, then ALARM events, on one socket
    blocks, seen = 0, []
    while ready(media, timeout=0.2):
        blocks += media.read_block() is not None
        seen += media.events_seen()
    assert len(seen) == 30 and {e.type for e in seen} == {EventType.ALARM}   # one per B-channel
    assert blocks > 0 and media.events_seen() == []                          # taken once
    farend.advance(0.02)
    assert read_one(media.read_block, media) == b"\xff" * E1_BLOCK             # the line goes on
    media.close()


def test_single_bchannels_open_on_their_own(farend, backend):
    three = backend.open_channel(3)
    far = farend.span(1)
    block = b"".join(bytes([pos]) * 160 for pos in range(30))  # B-channel i carries byte i
    far.send_media(block)
    three.write(bytes([0x77]) * 160)
    farend.advance(0.02)
    assert read_one(three.read, three) == bytes([2]) * 160     # channel 3 is the third B-channel
    # Like DAHDI's write(): a block written goes out on the next tick, once, whatever thread runs when.
    from_near = far.recv_media()
    assert from_near[2 * 160:3 * 160] == bytes([0x77]) * 160
    assert from_near[:160] == bytes([0xD5]) * 160            # the others send silence
    three.write(bytes([0x11]) * 160)
    three.write(bytes([0x22]) * 160)                          # two before a tick: in order, none lost
    for expected in (0x11, 0x22, 0xD5):                       # then silence, nothing repeated
        farend.advance(0.02)
        assert far.recv_media()[2 * 160:3 * 160] == bytes([expected]) * 160
    with pytest.raises(DahdiError) as info:
        backend.open_span_media(1)
    assert info.value.errno == errno.EBUSY
    with pytest.raises(DahdiError) as info:
        three.hook(HookOp.RING)
    assert info.value.errno == errno.EINVAL                   # clear channels have no hook signalling
    with pytest.raises(DahdiError) as info:
        backend.open_channel(16)
    assert info.value.errno == errno.EINVAL
    three.close()


def test_only_20ms_blocks(backend):
    with pytest.raises(DahdiError) as info:
        backend.open_span_media(1, blocksize=80)
    assert info.value.errno == errno.EINVAL


# -- FXS ports -----------------------------------------------------------------------

def test_ring_answer_and_hang_up_an_agent_phone(farend, backend):
    port = backend.open_channel(56)
    phone = farend.port(56)
    port.hook(HookOp.RING)
    assert phone.ringing
    assert [c.state for c in backend.span_status(3).channels] == ["ringing", "idle"]
    with pytest.raises(DahdiError) as info:
        port.hook(HookOp.RING)
    assert info.value.errno == errno.EBUSY
    phone.lift()                                         # the agent answers: ring trip
    assert not phone.ringing and phone.off_hook
    # DAHDI queues nothing when ringing starts (RINGERON/RINGEROFF mark the cadence's later
    # steps) and nothing when the phone trips the ring: only the answer.
    assert [e.type for e in drain_events(port, 1)] == [EventType.RINGOFFHOOK]
    assert backend.span_status(3).channels[0].state == "off-hook"

    phone.send_audio(bytes([0x11]) * 160)
    farend.advance(0.02)
    assert read_one(port.read, port) == bytes([0x11]) * 160
    port.write(bytes([0x22]) * 160)
    assert phone.recv_audio(timeout=5) == bytes([0x22]) * 160

    phone.hang_up()
    assert [e.type for e in drain_events(port, 1)] == [EventType.ONHOOK]
    port.close()


def test_hook_needs_an_open_fxs_channel(farend, backend):
    from drivers.dahdi.sim import SimControl
    with SimControl(farend.directory) as control, pytest.raises(DahdiError) as info:
        control.hook(57, HookOp.RING)
    assert info.value.errno == errno.EBADF


# -- robustness ------------------------------------------------------------------------

def test_malformed_messages_are_counted_and_dropped(farend, backend):
    media = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    media.connect(str(wire.media_socket(farend.directory, 1)))
    media.send(b"not json")
    assert b"bad open request" in media.recv(4096)
    media.close()

    good = backend.open_span_media(1)
    raw = socket.fromfd(good.fileno(), socket.AF_UNIX, socket.SOCK_SEQPACKET)
    raw.send(b"Zgarbage")                              # unknown kind
    raw.send(wire.KIND_DATA + b"short")               # wrong block size
    raw.close()
    control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    control.connect(str(farend.directory / wire.CONTROL))
    control.send(b"\xff\xfe")
    assert b'"ok":false' in control.recv(4096)
    control.send(b'{"op": "explode"}')
    assert b"unknown request" in control.recv(4096)
    control.close()
    assert backend.span_status(1).number == 1          # still serving
    assert farend.stats["malformed"] == 2 and farend.stats["bad_requests"] == 1
    good.close()


def test_the_near_end_learns_when_the_simulator_goes(sim_dir):
    far = FarEnd(sim_dir, SPANS, clock=ManualClock(), timing=TIMING).start()
    near = open_backend(f"sim://{sim_dir}")
    dchan = near.open_dchannel(1)
    far.stop()
    assert ready(dchan)
    with pytest.raises(DahdiError, match="gone away"):
        dchan.recv()
    with pytest.raises(DahdiError):
        near.spans()
    dchan.close()
    near.close()
    assert sorted(p.name for p in far.directory.iterdir()) == []   # sockets removed


def test_socket_paths_too_long_for_unix_are_refused_clearly(tmp_path):
    deep = tmp_path / ("d" * 100)
    with pytest.raises(DahdiError) as info:
        FarEnd(deep, SPANS).start()
    assert info.value.errno == errno.ENAMETOOLONG and "use a shorter directory" in str(info.value)
