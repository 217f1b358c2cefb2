"""D-channel captures: pcap files with link type LINUX_LAPD (177).

Each record is a 16-octet "cooked" header (the Linux SLL layout) followed by the LAPD
frame without FCS, which is what Wireshark and tshark dissect as LAPD + Q.931:

=======  ======  ==============================================================
octets   field   value
=======  ======  ==============================================================
0-1      type    0 = received by the capturing side, 4 = sent by it
2-3      hatype  ARPHRD_LAPD (8445)
4-5      halen   1
6-13     addr    addr[0] = 1 if the capturing side is the network side, else 0
14-15    proto   ETH_P_LAPD (0x0030)
=======  ======  ==============================================================

The header is the scapy layer :class:`LinuxLAPD`, registered for link type 177 so
``scapy.utils.rdpcap`` dissects these files down to the Q.931 elements.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO

from scapy.config import conf
from scapy.fields import ByteField, ShortEnumField, ShortField, StrFixedLenField, XShortField
from scapy.packet import Packet, bind_layers

from appliance.isdn.q921 import LAPD

__all__ = ["LINKTYPE_LINUX_LAPD", "LinuxLAPD", "PcapWriter", "CapturedFrame", "read_pcap", "PcapError"]

LINKTYPE_LINUX_LAPD = 177
ARPHRD_LAPD = 8445
ETH_P_LAPD = 0x0030
PACKET_HOST = 0        # received by the capturing side
PACKET_OUTGOING = 4    # sent by the capturing side

_PCAP_MAGIC = 0xA1B2C3D4
_GLOBAL_HEADER = struct.Struct("<IHHiIII")
_RECORD_HEADER = struct.Struct("<IIII")
_SNAPLEN = 65535


class PcapError(ValueError):
    """A capture file that is not a LINUX_LAPD pcap (the message names file and offset)."""


class LinuxLAPD(Packet):
    name = "Linux LAPD"
    fields_desc = [
        ShortEnumField("pkttype", PACKET_HOST, {PACKET_HOST: "received", PACKET_OUTGOING: "sent"}),
        ShortField("hatype", ARPHRD_LAPD),
        ShortField("halen", 1),
        ByteField("we_network", 0),
        StrFixedLenField("addr", b"\x00" * 7, 7),
        XShortField("protocol", ETH_P_LAPD),
    ]


bind_layers(LinuxLAPD, LAPD)
conf.l2types.register(LINKTYPE_LINUX_LAPD, LinuxLAPD)

# The header depends only on (sent, we_network): build the four once, from the layer.
_HEADERS = {
    (sent, net): bytes(LinuxLAPD(pkttype=PACKET_OUTGOING if sent else PACKET_HOST, we_network=int(net)))
    for sent in (False, True) for net in (False, True)
}


class PcapWriter:
    """Write LAPD frames, both directions, as seen by one side of a D-channel.

    ``we_network`` says which side did the capturing; each frame says whether that side
    sent or received it.  ``target`` is a path or a binary file opened for writing.
    """

    def __init__(self, target: str | os.PathLike | BinaryIO, we_network: bool = False) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._file: BinaryIO = open(target, "wb")
            self._owned = True
        else:
            self._file = target
            self._owned = False
        self.we_network = we_network
        self.count = 0
        self._file.write(_GLOBAL_HEADER.pack(_PCAP_MAGIC, 2, 4, 0, 0, _SNAPLEN, LINKTYPE_LINUX_LAPD))

    def write(self, frame: bytes, sent: bool, timestamp: float) -> None:
        """Append one frame (address, control, information; no FCS)."""
        record = _HEADERS[(bool(sent), bool(self.we_network))] + frame
        seconds = int(timestamp)
        micros = min(int(round((timestamp - seconds) * 1_000_000)), 999_999)
        self._file.write(_RECORD_HEADER.pack(seconds, micros, len(record), len(record)))
        self._file.write(record)
        self.count += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> "PcapWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class CapturedFrame:
    timestamp: float
    sent: bool          # sent by the capturing side (else received)
    we_network: bool    # the capturing side is the network side
    frame: bytes        # the LAPD frame


def read_pcap(path: str | os.PathLike) -> list[CapturedFrame]:
    """Every frame of a LINUX_LAPD capture; PcapError names the file and byte offset."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < _GLOBAL_HEADER.size:
        raise PcapError(f"{path}: offset 0: not a pcap file (only {len(data)} octets)")
    magic, _, _, _, _, _, linktype = _GLOBAL_HEADER.unpack_from(data, 0)
    if magic != _PCAP_MAGIC:
        raise PcapError(f"{path}: offset 0: not a little-endian microsecond pcap (magic {magic:#x})")
    if linktype != LINKTYPE_LINUX_LAPD:
        raise PcapError(f"{path}: offset 20: link type {linktype}, expected {LINKTYPE_LINUX_LAPD} (LINUX_LAPD)")
    frames = []
    at = _GLOBAL_HEADER.size
    while at < len(data):
        if at + _RECORD_HEADER.size > len(data):
            raise PcapError(f"{path}: offset {at}: record header cut short")
        seconds, micros, incl, _ = _RECORD_HEADER.unpack_from(data, at)
        body = data[at + _RECORD_HEADER.size: at + _RECORD_HEADER.size + incl]
        if len(body) < incl or incl < 16:
            raise PcapError(f"{path}: offset {at}: record of {incl} octets cut short or too small")
        pkttype = int.from_bytes(body[0:2], "big")
        frames.append(CapturedFrame(seconds + micros / 1e6, pkttype == PACKET_OUTGOING, body[6] != 0, body[16:]))
        at += _RECORD_HEADER.size + incl
    return frames
