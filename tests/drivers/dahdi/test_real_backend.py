"""The real DAHDI backend end to end against a fake kernel (tests/drivers/dahdi/fakedahdi.py)."""
from __future__ import annotations

import errno
from dataclasses import replace
import struct

import pytest

from drivers.dahdi import Alarm, DahdiError, EventType, HookOp, SpanCounters, open_backend
from drivers.dahdi.real import DahdiBackend
from tests.drivers.dahdi.fakedahdi import (  # backend and kernel are fixtures
    EVENT_ALARM, LAW_ALAW, LAW_MULAW, alaw_to_linear, backend, fcs16, kernel,
)

E1_BEARERS = [*range(1, 16), *range(17, 32)]
T1_BEARERS = list(range(32, 55))   # span 2 starts at channel 32; its D-channel is 55
FXS_PORTS = [56, 57, 58]           # channel 59 is not configured


def open_fds(kernel) -> list[str]:
    return sorted(f.kind for f in kernel.files.values())


# --- opening the backend

def test_url_opens_the_real_backend_with_options(kernel):
    backend = open_backend("dahdi:///srv/dahdi?proc=/srv/proc&numbufs=6", io=kernel)
    assert isinstance(backend, DahdiBackend)
    assert (backend.root, backend.proc, backend.numbufs) == ("/srv/dahdi", "/srv/proc", 6)
    assert open_backend("dahdi://").root == "/dev/dahdi"


@pytest.mark.parametrize("url, message", [
    ("dahdi://box/dev/dahdi", "expected dahdi:///DEVICE-DIRECTORY"),
    ("dahdi:///dev/dahdi?colour=red", r"unknown option\(s\) colour"),
    ("dahdi:///dev/dahdi?numbufs=many", "numbufs must be a whole number"),
])
def test_bad_urls_are_one_line_errors(url, message):
    with pytest.raises(DahdiError, match=message):
        open_backend(url)


# --- status

def test_spans_report_type_framing_and_channels(backend):
    e1, t1, analog = backend.spans()
    assert (e1.number, e1.name, e1.type, e1.framing, e1.coding, e1.crc4) == (1, "TE4/0/1", "E1", "CCS", "HDB3", True)
    assert e1.sync_source == 1 and e1.lbo == "0 db (CSU)/0-133 feet (DSX-1)"
    assert e1.channels[15].signalling == "Hardware-assisted HDLC"
    assert [c.channo for c in e1.channels if c.signalling == "Clear"] == E1_BEARERS
    assert (t1.type, t1.framing, t1.coding, t1.description) == ("T1", "ESF", "B8ZS", "Dynamic 'loc' span at '1:0'")
    assert t1.channels[-1].signalling == "HDLCFCS" and t1.channels[-1].chanpos == 24
    assert analog.type == "analog" and [c.signalling for c in analog.channels] == ["FXOKS", "FXOKS", "FXSKS", "Unconfigured"]
    assert {c.state for c in e1.channels} == {"idle"} and e1.alarms == Alarm.NONE


def test_span_status_takes_alarms_and_counters_from_spanstat_and_slips_from_proc(backend, kernel):
    span = kernel.spans[1]
    span.bpv, span.crc4, span.fas, span.ebit, span.slips = 5, 6, 7, 8, 9
    kernel.line_alarm(1, 8 | 256)   # RED with the verbose LOS bit of the upper byte
    status = backend.span_status(1)
    assert status.alarms == Alarm.RED and status.alarm_names == ["RED"]
    assert status.counters == SpanCounters(bpv=5, crc4=6, fas=7, ebit=8, slips=9)
    assert {c.state for c in status.channels} == {"alarm"}
    assert status.as_dict()["alarms"] == ["RED"]
    assert backend.span_status(1, channels=False) == replace(status, channels=())
    assert [s.channels for s in backend.spans(channels=False)] == [(), (), ()]


def test_open_channel_shows_in_use(backend):
    channel = backend.open_channel(56)
    assert backend.span_status(3).channels[0].state == "in use"
    channel.close()
    assert backend.span_status(3).channels[0].state == "idle"


def test_missing_span_and_missing_driver(backend, kernel):
    with pytest.raises(DahdiError, match=r"DAHDI span 9 does not exist \(/proc/dahdi/9 is missing\)"):
        backend.span_status(9)
    kernel.loaded = False
    with pytest.raises(DahdiError, match=r"/proc/dahdi: not found \(is the dahdi kernel module loaded\?\)"):
        backend.spans()


def test_span_that_proc_shows_but_spanstat_refuses(backend, kernel, monkeypatch):
    def span_gone(_chan, _arg):    # removed between reading /proc and asking the driver
        raise OSError(errno.EINVAL, "Invalid argument")
    monkeypatch.setattr(kernel, "_spanstat", span_gone)
    with pytest.raises(DahdiError, match="DAHDI span 1 does not exist"):
        backend.span_status(1)


def test_real_os_layer_on_a_fake_tree_explains_a_missing_control_device(tmp_path):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "1").write_text('Span 1: TE4/0/1 "T4XXP (PCI) Card 0 Span 1" \n\n\t   1 TE4/0/1/1 Clear \n')
    backend = open_backend(f"dahdi://{tmp_path}/dev?proc={proc}")
    with pytest.raises(DahdiError, match=r"/dev/ctl: cannot open: No such file or directory \(is the dahdi"):
        backend.spans()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "ctl").write_text("")
    with pytest.raises(DahdiError, match="DAHDI span 1: DAHDI_SPANSTAT failed: Inappropriate ioctl"):
        backend.span_status(1)
    backend.close()


def test_garbled_proc_text_is_a_dahdi_error_naming_the_file(backend, kernel, monkeypatch):
    monkeypatch.setattr(kernel, "read_text", lambda path: "Span 1: X \"d\" WHAT \n\n")
    with pytest.raises(DahdiError, match=r"/proc/dahdi/1:1: unexpected word 'WHAT'"):
        backend.span_status(1)


# --- span media

def test_span_media_sets_every_bearer_up_in_order(backend, kernel):
    media = backend.open_span_media(1, "alaw")
    assert media.channels == tuple(E1_BEARERS) and media.blocksize == 160
    for channo in E1_BEARERS:
        chan = kernel.chans[channo]
        assert chan.is_open and chan.blocksize == 160 and chan.numbufs == 4
        assert chan.audio and not chan.linear and chan.law == LAW_ALAW
    first = [name for name, channo in kernel.calls if channo in (0, 1)][:10]
    assert first == ["SPECIFY", "GET_PARAMS", "SET_BLOCKSIZE", "GET_BLOCKSIZE", "GET_BUFINFO",
                     "SET_BUFINFO", "AUDIOMODE", "SETLINEAR", "SETLAW", "SPECIFY"]
    # once all are set up, every receive side restarts together (in phase)
    assert kernel.calls[-30:] == [("FLUSH", channo) for channo in E1_BEARERS]
    assert not kernel.chans[16].is_open
    assert media.fileno() in kernel.files
    media.close()
    assert open_fds(kernel) == []


def test_span_block_is_channel_major(backend, kernel):
    media = backend.open_span_media(1, "alaw")
    assert media.read_block() is None              # nothing from the line yet
    for index, channo in enumerate(E1_BEARERS):
        kernel.deliver(channo, bytes([index]) * 160)
    block = media.read_block()
    assert len(block) == 30 * 160
    assert [block[i * 160] for i in range(30)] == list(range(30))
    assert block[159] == 0 and block[160] == 1
    media.write_block(block[::-1])
    assert kernel.chans[1].tx == [bytes([29]) * 160]
    assert kernel.chans[31].tx == [bytes([0]) * 160]
    media.close()


def test_write_block_checks_its_shape_and_counts_full_buffers(backend, kernel):
    media = backend.open_span_media(1, "alaw")
    with pytest.raises(ValueError, match=r"30 channels x 160 bytes = 4800 bytes, got 10"):
        media.write_block(b"\x00" * 10)
    kernel.chans[3].tx_full = True
    media.write_block(b"\x55" * 4800)
    assert kernel.chans[3].tx == [] and kernel.chans[4].tx == [b"\x55" * 160]
    media.close()


def test_linear_mode_reads_two_bytes_a_sample(backend, kernel):
    media = backend.open_span_media(2, "linear")
    assert media.channels == tuple(T1_BEARERS)
    assert all(kernel.chans[c].linear and kernel.chans[c].audio for c in T1_BEARERS)
    for channo in T1_BEARERS:
        kernel.deliver(channo, bytes([0x80 + channo % 16]) * 160)
    block = media.read_block()
    assert len(block) == 23 * 320
    first = struct.unpack("<160h", block[:320])
    assert first == (alaw_to_linear(0x80 + 32 % 16),) * 160
    media.write_block(b"\x01\x00" * 160 * 23)
    assert kernel.chans[32].tx == [b"\x01\x00" * 160]
    media.close()


def test_ulaw_mode_sets_the_law(backend, kernel):
    media = backend.open_span_media(2, "ulaw")
    assert {kernel.chans[c].law for c in T1_BEARERS} == {LAW_MULAW}
    assert media.read_block() is None
    media.close()


def test_unknown_mode_is_refused_and_nothing_stays_open(backend, kernel):
    with pytest.raises(DahdiError, match="unknown mode 'slin'"):
        backend.open_span_media(1, "slin")
    assert open_fds(kernel) == []


def test_failure_halfway_closes_what_was_opened(backend, kernel):
    held = backend.open_channel(9)
    with pytest.raises(DahdiError, match="DAHDI channel 9 is already open"):
        backend.open_span_media(1)
    assert open_fds(kernel) == ["channel"]
    held.close()


def test_bad_block_size_is_the_kernels_refusal(backend):
    with pytest.raises(DahdiError, match="DAHDI channel 1: cannot set the block size: Invalid argument"):
        backend.open_span_media(1, blocksize=8)


def test_span_without_bearers(backend, kernel):
    for chan in kernel.spans[1].channels:
        if chan.sig == 1 << 7:
            chan.sig = 0
    with pytest.raises(DahdiError, match="DAHDI span 1 has no configured B-channels"):
        backend.open_span_media(1)


# --- events

def test_alarm_events_are_drained_from_every_channel(backend, kernel):
    media = backend.open_span_media(1)
    kernel.line_alarm(1, 8)
    events = media.events()
    assert [e.channo for e in events] == E1_BEARERS
    assert {(e.type, e.span) for e in events} == {(EventType.ALARM, 1)}
    assert media.events() == []
    kernel.line_alarm(1, 1)        # RED -> RECOVERING: still in alarm, no new event
    assert media.events() == []
    kernel.line_alarm(1, 0)
    assert {e.type for e in media.events()} == {EventType.NOALARM}
    media.close()


def test_read_refused_with_elast_drains_then_reads(backend, kernel):
    media = backend.open_span_media(1)
    for channo in E1_BEARERS:
        kernel.deliver(channo, b"\x11" * 160)
    kernel.chans[1].events.append(EVENT_ALARM)
    kernel.chans[2].events.extend([6, 1 << 17 | ord("5")])   # ABORT, and a DTMF-down qbox ignores
    block = media.read_block()
    assert block == b"\x11" * 4800
    assert [(e.channo, e.type) for e in media.events()] == [(1, EventType.ALARM), (2, EventType.ABORT)]
    media.close()


def test_events_seen_are_those_reads_met_without_asking_the_kernel(backend, kernel):
    media = backend.open_span_media(1)
    kernel.line_alarm(1, 8)                  # ALARM queued on every bearer
    assert media.events_seen() == []         # no read has met it yet, and nobody asked
    assert ("GETEVENT", 1) not in kernel.calls
    for channo in E1_BEARERS:
        kernel.deliver(channo, b"\x11" * 160)
    assert media.read_block() == b"\x11" * 4800
    asked = kernel.calls.count(("GETEVENT", 1))
    assert [e.channo for e in media.events_seen()] == E1_BEARERS
    assert media.events_seen() == [] and kernel.calls.count(("GETEVENT", 1)) == asked
    media.close()


def test_write_refused_with_elast_drains_then_writes(backend, kernel):
    channel = backend.open_channel(20)
    kernel.chans[20].events.append(EVENT_ALARM)
    channel.write(b"\x22" * 160)
    assert kernel.chans[20].tx == [b"\x22" * 160]
    assert [e.type for e in channel.events()] == [EventType.ALARM]
    channel.close()


def test_unknown_event_codes_are_counted_not_raised(backend, kernel):
    channel = backend.open_channel(20)
    kernel.chans[20].events.extend([99, 2])
    assert [e.type for e in channel.events()] == [EventType.RINGOFFHOOK]
    assert channel.stats.unknown_events == 1
    channel.close()


# --- D-channel

def test_dchannel_open_lets_the_restarted_framers_settle(backend, kernel):
    """A frame sent or arriving before the span ticks after the open is lost (the fake
    kernel loses it as DAHDI may): the backend waits before handing the channel over."""
    dchannel = backend.open_dchannel(2)
    assert kernel.slept == [0.05]
    frame = bytes([0x00, 0x01, 0x7F])
    dchannel.send(frame)
    kernel.deliver(55, frame)
    assert kernel.chans[55].tx == [frame + fcs16(frame)] and kernel.chans[55].lost_frames == []
    assert dchannel.recv() == frame
    dchannel.close()


def test_dchannel_settle_is_a_backend_option(kernel):
    backend = DahdiBackend(io=kernel, dchannel_settle=0.2)
    backend.open_dchannel(1).close()
    assert kernel.slept == [0.2]


def test_hardhdlc_dchannel_frames_without_fcs(backend, kernel):
    dchannel = backend.open_dchannel(1)
    chan = kernel.chans[16]
    assert (dchannel.span, chan.numbufs, chan.blocksize, chan.txpolicy) == (1, 32, 1024, 0)
    sabme = bytes([0x00, 0x01, 0x7F])
    dchannel.send(sabme)
    assert chan.tx == [sabme + fcs16(sabme)]        # two spare bytes became the FCS
    assert dchannel.recv() is None
    ua = bytes([0x00, 0x01, 0x73])
    kernel.deliver(16, ua)
    assert dchannel.recv() == ua
    dchannel.close()
    assert open_fds(kernel) == []


def test_software_hdlc_dchannel_on_the_dynamic_t1(backend, kernel):
    dchannel = backend.open_dchannel(2)
    assert dchannel.channo == 55 and dchannel.fileno() in kernel.files
    info = bytes([0x00, 0x01, 0x00, 0x00]) + b"\x08\x01\x01\x05" + b"\x00" * 200
    dchannel.send(info)
    assert kernel.chans[55].tx == [info + fcs16(info)]
    dchannel.close()


def test_short_frames_are_dropped_and_counted(backend, kernel):
    dchannel = backend.open_dchannel(1)
    kernel.deliver(16, b"\x00")                     # 1 byte + FCS: too short for LAPD
    kernel.deliver(16, b"\x02\x01\x01")
    assert dchannel.recv() == b"\x02\x01\x01"
    assert dchannel.stats.bad_frames == 1
    dchannel.close()


def test_dchannel_event_then_frame(backend, kernel):
    dchannel = backend.open_dchannel(1)
    kernel.chans[16].events.append(8)               # BADFCS
    kernel.deliver(16, b"\x02\x01\x01")
    assert dchannel.recv() == b"\x02\x01\x01"
    assert [e.type for e in dchannel.events()] == [EventType.BADFCS]
    dchannel.close()


def test_dchannel_send_checks_frame_size_and_survives_full_buffers(backend, kernel):
    dchannel = backend.open_dchannel(1)
    with pytest.raises(ValueError, match=r"3..1022 bytes, got 2"):
        dchannel.send(b"\x00\x01")
    with pytest.raises(ValueError, match=r"got 1023"):
        dchannel.send(b"\x00" * 1023)
    kernel.chans[16].tx_full = True
    dchannel.send(b"\x00\x01\x7f")
    assert dchannel.stats.tx_dropped == 1
    dchannel.close()


def test_span_without_dchannel(backend):
    with pytest.raises(DahdiError, match=r"DAHDI span 3 has no D-channel \(dchan= or hardhdlc="):
        backend.open_dchannel(3)


def test_dchannel_that_the_kernel_says_is_not_hdlc(backend, kernel, monkeypatch):
    from tests.drivers.dahdi import fakedahdi
    real_render = fakedahdi.render_proc

    def stale_proc(span, master=0):   # /proc read before a reconfiguration
        return real_render(span, master).replace("   1 TE4/0/1/1 Clear", "   1 TE4/0/1/1 HDLCFCS")
    monkeypatch.setattr(fakedahdi, "render_proc", stale_proc)
    with pytest.raises(DahdiError, match="DAHDI channel 1 is Clear, not an HDLC D-channel"):
        backend.open_dchannel(1)
    assert open_fds(kernel) == []


# --- single channels

def test_fxs_port_rings_and_reads(backend, kernel):
    port = backend.open_channel(56, "alaw")
    port.hook(HookOp.RING)
    port.hook(HookOp.RINGOFF)
    assert kernel.chans[56].hooks == [5, 6]
    assert kernel.chans[56].audio                    # FXS signalling: audio without AUDIOMODE
    assert ("AUDIOMODE", 56) not in kernel.calls
    assert port.read() is None
    kernel.deliver(56, b"\x33" * 160)
    assert port.read() == b"\x33" * 160
    port.close()


def test_hook_on_a_clear_channel_is_refused(backend):
    channel = backend.open_channel(1)
    with pytest.raises(DahdiError, match="DAHDI channel 1: cannot hook RING: Invalid argument"):
        channel.hook(HookOp.RING)
    channel.close()


@pytest.mark.parametrize("channo, message", [
    (59, "DAHDI channel 59 is not configured"),
    (999, "DAHDI channel 999 does not exist"),
    (16, "DAHDI channel 16 is Hardware-assisted HDLC, not a voice channel"),
])
def test_channels_that_cannot_carry_voice(backend, kernel, channo, message):
    with pytest.raises(DahdiError, match=message):
        backend.open_channel(channo)
    assert open_fds(kernel) == []


def test_channel_device_missing(backend, kernel):
    kernel.loaded = False
    with pytest.raises(DahdiError, match="/dev/dahdi/channel: cannot open") as caught:
        backend.open_channel(1)
    assert caught.value.errno == 2


# --- dynamic spans through the control device

def test_dynamic_span_create_and_destroy(backend, kernel):
    number = backend.control.create_dynamic_span("loc", "1:2", 24)
    assert number == 4
    assert backend.span_status(4).name == "DYN/loc/1:2"
    backend.control.destroy_dynamic_span("loc", "1:2")
    assert [s.number for s in backend.spans()] == [1, 2, 3]
    with pytest.raises(DahdiError, match="dynamic span loc/1:2 does not exist"):
        backend.control.destroy_dynamic_span("loc", "1:2")
    with pytest.raises(DahdiError, match="address 39"):
        backend.control.create_dynamic_span("loc", "x" * 40, 24)


def test_channel_params_from_the_control_device(backend):
    params = backend.control.channel_params(16)
    assert (params.spanno, params.chanpos, params.name) == (1, 16, b"TE4/0/1/16")
    with pytest.raises(DahdiError, match="span numbers start at 1"):
        backend.control.span_info(0)
