"""ISDN PRI signalling for one D-channel: Q.921 (LAPD) and Q.931 call control.

The wire formats are scapy layers (:mod:`~appliance.isdn.q921`,
:mod:`~appliance.isdn.q931`); the call path reads and writes them through a fast path
compiled from those same layers (:mod:`~appliance.isdn.codec`).  The state machines
sit apart: :mod:`~appliance.isdn.lapd` for the data link, :mod:`~appliance.isdn.user`
and :mod:`~appliance.isdn.network` (on :mod:`~appliance.isdn.callcontrol`) for calls.
:class:`Stack` joins them for one D-channel; :mod:`~appliance.isdn.pcap` writes
Wireshark-readable captures.
"""
from appliance.isdn.call import Call, CallEvent, CallState, CallStateError, CallTimers
from appliance.isdn.lapd import LinkParameters, LinkState
from appliance.isdn.pcap import CapturedFrame, PcapWriter, read_pcap
from appliance.isdn.stack import Role, Stack
from appliance.isdn.variants import VARIANTS, SwitchVariant, get_variant

__all__ = [
    "Stack", "Role", "Call", "CallEvent", "CallState", "CallStateError", "CallTimers",
    "LinkParameters", "LinkState", "PcapWriter", "CapturedFrame", "read_pcap",
    "SwitchVariant", "VARIANTS", "get_variant",
]
