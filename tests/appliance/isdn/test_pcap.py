"""LINUX_LAPD captures: the header Wireshark expects, reading back, clear errors."""
from __future__ import annotations

import struct

import pytest
from scapy.utils import rdpcap

from appliance.isdn.pcap import LINKTYPE_LINUX_LAPD, LinuxLAPD, PcapError, PcapWriter, read_pcap
from appliance.isdn.q921 import LAPD, SABME, UA
from appliance.isdn.q931 import Q931


def test_round_trip_and_header(tmp_path):
    path = tmp_path / "c.pcap"
    sabme, ua = bytes(LAPD(cr=1) / SABME(pf=1)), bytes(LAPD(cr=1) / UA(pf=1))
    with PcapWriter(path, we_network=True) as writer:
        writer.write(sabme, sent=True, timestamp=1_767_225_600.25)
        writer.write(ua, sent=False, timestamp=1_767_225_600.5)
    raw = path.read_bytes()
    assert struct.unpack_from("<IHHiIII", raw) == (0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_LINUX_LAPD)
    header = raw[24 + 16: 24 + 32]
    assert header == bytes([0, 4, 0x20, 0xFD, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x30])
    frames = read_pcap(path)
    assert [(f.frame, f.sent, f.we_network) for f in frames] == [(sabme, True, True), (ua, False, True)]
    assert frames[0].timestamp == pytest.approx(1_767_225_600.25)
    packets = rdpcap(str(path))
    assert isinstance(packets[0], LinuxLAPD) and isinstance(packets[0].payload.payload, SABME)


def test_writer_on_an_open_file(tmp_path):
    path = tmp_path / "f.pcap"
    with open(path, "wb") as f:
        writer = PcapWriter(f)
        writer.write(b"\x00\x01\x7f", True, 0.0)
        writer.close()
        assert not f.closed
    assert read_pcap(path)[0].frame == b"\x00\x01\x7f"


@pytest.mark.parametrize("data, message", [
    (b"\xd4\xc3", "offset 0: not a pcap file"),
    (struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 177), "offset 0: not a little-endian microsecond pcap"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1), "offset 20: link type 1, expected 177"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 177) + b"\x00" * 8, "offset 24: record header cut short"),
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 177) + struct.pack("<IIII", 0, 0, 40, 40) + b"x",
     "offset 24: record of 40 octets cut short"),
])
def test_bad_files_name_file_and_offset(tmp_path, data, message):
    path = tmp_path / "bad.pcap"
    path.write_bytes(data)
    with pytest.raises(PcapError, match=message) as info:
        read_pcap(path)
    assert str(path) in str(info.value)


def test_q931_inside_a_capture_dissects(tmp_path):
    from appliance.isdn.backtoback import BackToBack
    path = tmp_path / "call.pcap"
    with PcapWriter(path) as capture:
        pair = BackToBack(capture=capture)
        pair.start()
        pair.user.place_call("4000")
        pair.pump()
        pair.close()
    messages = [LAPD(f.frame)[Q931] for f in read_pcap(path) if len(f.frame) > 4]
    assert messages and messages[0].name == "Q.931 SETUP"
