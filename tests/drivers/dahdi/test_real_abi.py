"""ctypes structures against hand-written struct formats, and the OS layer on real descriptors."""
from __future__ import annotations

import ctypes
import errno
import os
import select
import termios

import pytest

from drivers.dahdi.real import abi
from drivers.dahdi.real.device import OsDeviceIO, ioctl_int, ioctl_struct
from tests.drivers.dahdi import fakedahdi


def test_spaninfo_round_trips_through_the_header_layout():
    values = [7, b"TE4/0/1", b"T4XXP (PCI) Card 0 Span 1", 8 | 256, 1, 2, 3, 4, 5, 6,
              0xFFFFFFFF, 8, 9, 10, 11, 12, 1, 30, 31, 4, 0, 0x700, b"0 db (CSU)/0-133 feet (DSX-1)",
              b"PCI Bus 03 Slot 01", b"Digium", b"Wildcard TE420", 0, 0x7F0, b"E1"]
    raw = fakedahdi.SPANINFO.pack(*values)
    info = abi.DahdiSpanInfo.from_buffer_copy(raw)
    assert (info.spanno, info.name, info.desc) == (7, b"TE4/0/1", b"T4XXP (PCI) Card 0 Span 1")
    assert (info.alarms, info.bpvcount, info.fascount, info.fecount) == (264, 3, 6, 0xFFFFFFFF)
    assert (info.syncsrc, info.numchans, info.totalchans, info.lineconfig) == (1, 30, 31, 0x700)
    assert (info.manufacturer, info.linecompat, info.spantype) == (b"Digium", 0x7F0, b"E1")
    assert bytes(info) == raw


def test_params_round_trip_both_ways():
    params = abi.DahdiParams(channo=16, spanno=1, chanpos=16, sigtype=abi.Sig.HARDHDLC,
                             curlaw=abi.Law.ALAW, name=b"TE4/0/1/16", pulseaftertime=-1,
                             chan_alarms=abi.Alarm.RED)
    fields = fakedahdi.PARAMS.unpack(bytes(params))
    assert fields[:4] == (16, 1, 16, abi.Sig.HARDHDLC) and fields[10] == 2
    assert fields[12].rstrip(b"\0") == b"TE4/0/1/16"
    assert fields[-2:] == (-1, 8)


def test_bufinfo_and_dynamic_span_layouts():
    info = abi.DahdiBufferInfo(txbufpolicy=1, rxbufpolicy=0, numbufs=32, bufsize=1024, readbufs=-1)
    assert fakedahdi.BUFINFO.unpack(bytes(info)) == (1, 0, 32, 1024, -1, 0)
    dyn = abi.DahdiDynamicSpan(driver=b"loc", addr=b"1:0", numchans=24, timing=0)
    assert fakedahdi.DYNAMIC.unpack(bytes(dyn))[2:] == (24, 0, 0)


def test_ioctl_numbers_agree_with_the_literal_x86_64_values():
    assert abi.DAHDI_SPECIFY == fakedahdi.SPECIFY
    assert abi.DAHDI_SPANSTAT == fakedahdi.SPANSTAT
    assert abi.DAHDI_GET_PARAMS == fakedahdi.GET_PARAMS
    assert abi.DAHDI_DYNAMIC_CREATE == fakedahdi.DYNAMIC_CREATE
    assert abi.DAHDI_FLUSH == fakedahdi.FLUSH and abi.Flush.READ == fakedahdi.FLUSH_READ
    assert repr(abi.DAHDI_SPECIFY) == "<Ioctl DAHDI_SPECIFY 0x4004DA26>"
    assert len({int(i) for i in abi.IOCTLS}) == len(abi.IOCTLS)


def test_signalling_names_are_what_proc_prints():
    assert abi.SIG_NAMES[abi.Sig.HARDHDLC] == "Hardware-assisted HDLC"
    assert abi.SIG_NAMES[abi.Sig.CLEAR] == "Clear"
    assert set(abi.SIG_NAMES) == set(abi.Sig)


def test_ioctl_int_passes_a_pointer_the_kernel_writes_through():
    """FIONREAD takes an int * like every DAHDI int ioctl: the real fcntl path, real pipe."""
    io = OsDeviceIO()
    read_end, write_end = os.pipe()
    try:
        assert io.write(write_end, b"hello") == 5
        assert ioctl_int(io, read_end, termios.FIONREAD) == 5
        assert io.read(read_end, 16) == b"hello"
    finally:
        io.close(read_end)
        io.close(write_end)


def test_ioctl_struct_on_a_real_tty_and_errors_carry_errno(tmp_path):
    io = OsDeviceIO()
    main_fd, tty_fd = os.openpty()
    try:
        class WinSize(ctypes.Structure):
            _fields_ = [("rows", ctypes.c_ushort), ("cols", ctypes.c_ushort),
                        ("xpixel", ctypes.c_ushort), ("ypixel", ctypes.c_ushort)]
        ioctl_struct(io, tty_fd, termios.TIOCSWINSZ, WinSize(rows=24, cols=80))
        size = ioctl_struct(io, tty_fd, termios.TIOCGWINSZ, WinSize())
        assert (size.rows, size.cols) == (24, 80)
    finally:
        os.close(main_fd)
        os.close(tty_fd)
    plain = tmp_path / "plain"
    plain.write_text("x")
    fd = io.open(str(plain), os.O_RDWR)
    try:
        with pytest.raises(OSError) as caught:
            ioctl_int(io, fd, abi.DAHDI_SPECIFY, 1)
        assert caught.value.errno == errno.ENOTTY
    finally:
        io.close(fd)


def test_os_layer_reads_proc_like_text_and_lists_directories(tmp_path):
    io = OsDeviceIO()
    (tmp_path / "1").write_text("Span 1: X \"d\" \n\n")
    (tmp_path / "2").write_text("")
    assert sorted(io.listdir(str(tmp_path))) == ["1", "2"]
    assert io.read_text(str(tmp_path / "1")).startswith("Span 1:")


def test_epoll_ready_set_polls_readable_only_for_armed_descriptors():
    """The ready set span media hands an event loop, on real pipes."""
    io = OsDeviceIO()
    pipes = [os.pipe(), os.pipe()]
    ready = io.ready_set()

    def readable() -> bool:
        return bool(select.select([ready.fileno()], [], [], 0)[0])

    try:
        for read_end, _ in pipes:
            ready.add(read_end)
        assert not readable()
        os.write(pipes[0][1], b"x")
        assert readable()
        ready.arm(pipes[0][0], False)
        assert not readable()                     # data waiting, but not counted
        os.write(pipes[1][1], b"y")
        assert readable()
        os.read(pipes[1][0], 1)
        assert not readable()
        ready.arm(pipes[0][0], True)
        ready.arm(pipes[0][0], True)              # arming twice is harmless
        assert readable()
    finally:
        ready.close()
        for read_end, write_end in pipes:
            os.close(read_end)
            os.close(write_end)
