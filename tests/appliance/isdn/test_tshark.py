"""Wireshark's dissectors (Debian's tshark) read every message qbox sends, without
"malformed" and with the values qbox set."""
from __future__ import annotations

import subprocess

import pytest

from appliance.isdn.backtoback import BackToBack
from appliance.isdn.pcap import PcapWriter, read_pcap
from appliance.isdn.q921 import LAPD
from appliance.isdn.q931 import MESSAGE_TYPES, CalledPartyNumber, Cause, ChannelIdentification, Q931

FIELDS = ["frame.number", "lapd.direction", "q931.call_ref", "q931.call_ref_flag", "q931.message_type",
          "q931.called_party_number.digits", "q931.channel.number", "q931.cause_value",
          "_ws.malformed", "_ws.expert.severity"]
PI_ERROR = 0x00800000
# Facility contents: ROSE profile, invoke id 1, QSIG callingName, "Alice" (presentation allowed).
CALLING_NAME_INVOKE = bytes([0x91, 0xA1, 0x0D, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x80, 0x05]) + b"Alice"

SENT_BY_QBOX = {
    "SETUP", "SETUP ACKNOWLEDGE", "CALL PROCEEDING", "ALERTING", "PROGRESS", "CONNECT",
    "CONNECT ACKNOWLEDGE", "DISCONNECT", "RELEASE", "RELEASE COMPLETE", "STATUS", "STATUS ENQUIRY",
    "INFORMATION", "RESTART", "RESTART ACKNOWLEDGE", "FACILITY",
}


def _every_message(path, variant: str) -> None:
    """One user-side capture in which the two stacks send every message they can."""
    with PcapWriter(path, we_network=False) as capture:
        pair = BackToBack(variant=variant, capture=capture)
        pair.start()
        user, network = pair.user, pair.network
        call = user.place_call("40", calling="5551234567", display="Queue 1", sending_complete=False)
        pair.pump()
        incoming = pair.network_events[-1].call
        network.setup_acknowledge(incoming)                  # SETUP ACKNOWLEDGE
        pair.pump()
        user.send_information(call, "00", complete=True)     # INFORMATION
        network.proceed(incoming)                            # CALL PROCEEDING
        network.progress(incoming, 8)                        # PROGRESS
        network.alert(incoming)                              # ALERTING
        network.answer(incoming)                             # CONNECT (+ CONNECT ACKNOWLEDGE)
        pair.pump()
        user.facility(call, CALLING_NAME_INVOKE)             # FACILITY
        user.status_enquiry(call)                            # STATUS ENQUIRY (+ STATUS)
        pair.pump()
        user.disconnect(call, 17)                            # DISCONNECT, RELEASE, RELEASE COMPLETE
        pair.pump()
        rejected = network.place_call("4001", channel=7)
        pair.pump()
        user.disconnect(pair.user_events[-1].call, 21)       # RELEASE COMPLETE rejecting a SETUP
        user.restart(5)                                      # RESTART (+ RESTART ACKNOWLEDGE)
        pair.pump()
        assert rejected.state == 0
        pair.close()


def _tshark(path) -> list[dict]:
    args = ["tshark", "-r", str(path), "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for field in FIELDS:
        args += ["-e", field]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [dict(zip(FIELDS, line.split("|"))) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("variant", ["euroisdn", "ni2"])
def test_tshark_reads_every_message_qbox_sends(tmp_path, variant):
    path = tmp_path / f"{variant}.pcap"
    _every_message(path, variant)
    frames = read_pcap(path)
    rows = _tshark(path)
    assert len(rows) == len(frames) > 30
    seen = set()
    for row, captured in zip(rows, frames):
        assert row["_ws.malformed"] == "", row
        severity = row["_ws.expert.severity"]
        assert not severity or int(severity, 0) < PI_ERROR, row
        assert row["lapd.direction"] == ("0" if captured.sent else "1")   # user->network when we sent
        pkt = LAPD(captured.frame)
        if Q931 not in pkt:
            continue
        msg = pkt[Q931]
        seen.add(MESSAGE_TYPES[msg.message_type])
        # tshark reads what qbox set: the same values scapy's layers were built from
        assert int(row["q931.message_type"], 16) == msg.message_type
        assert int(row["q931.call_ref"], 16) == msg.callref
        assert int(row["q931.call_ref_flag"]) == msg.callref_flag
        called, channel, cause = msg.ie(CalledPartyNumber), msg.ie(ChannelIdentification), msg.ie(Cause)
        assert row["q931.called_party_number.digits"] == (called.digits.decode() if called else "")
        assert row["q931.channel.number"] == (str(channel.channel) if channel and channel.channel else "")
        assert row["q931.cause_value"] == (str(cause.cause_value) if cause else "")
    assert seen == SENT_BY_QBOX
    by_type = {}
    for row in rows:
        if row["q931.message_type"]:
            by_type.setdefault(MESSAGE_TYPES[int(row["q931.message_type"], 16)], []).append(row)
    setup = by_type["SETUP"][0]
    assert (setup["q931.called_party_number.digits"], setup["q931.channel.number"]) == \
        ("40", "31" if variant == "euroisdn" else "23")
    assert by_type["INFORMATION"][0]["q931.called_party_number.digits"] == "00"
    assert [r["q931.cause_value"] for r in by_type["DISCONNECT"]] == ["17"]
    assert by_type["RESTART"][0]["q931.channel.number"] == "5" and by_type["RESTART"][0]["q931.call_ref"] == "0000"
    assert by_type["STATUS"][0]["q931.cause_value"] == "30"
    assert "21" in [r["q931.cause_value"] for r in by_type["RELEASE COMPLETE"]]
