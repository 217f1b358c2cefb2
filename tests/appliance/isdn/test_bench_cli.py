"""``qbox bench isdn``: figures printed (never asserted on time), capture of the
first 100 calls, bad input refused."""
from __future__ import annotations

import json

from scapy.utils import rdpcap

from appliance.isdn.pcap import read_pcap
from appliance.isdn.q921 import LAPD
from appliance.isdn.q931 import Q931, Setup


def test_bench_isdn_json_and_capture(tmp_path, run_qbox):
    capture = tmp_path / "bench.pcap"
    status, out, err = run_qbox("bench", "isdn", "--calls", "120", "--pcap", str(capture), "--json")
    assert status == 0, err
    figures = json.loads(out)
    assert figures["calls"] == 120 and figures["benchmark"] == "isdn"
    assert figures["calls_per_second"] > 0 and figures["messages_per_call"] == 8.0
    assert figures["frames_per_call"] >= 8
    setups = [f for f in read_pcap(capture) if f.frame[2] & 1 == 0 and isinstance(LAPD(f.frame)[Q931], Setup)]
    assert len(setups) == 100 and all(f.sent for f in setups)     # the user side's view
    assert len(rdpcap(str(capture))) == len(read_pcap(capture))   # scapy reads link type 177 too


def test_bench_isdn_text(run_qbox):
    status, out, _ = run_qbox("bench", "isdn", "--calls", "20", "--variant", "ni2")
    assert status == 0 and out.startswith("isdn (ni2): 20 calls in ") and "calls/s" in out


def test_bench_isdn_bad_input(tmp_path, run_qbox):
    assert run_qbox("bench", "isdn", "--calls", "0")[0] == 2
    status, _, err = run_qbox("bench", "isdn", "--calls", "5", "--pcap", str(tmp_path / "no" / "x.pcap"))
    assert status == 2 and "no/x.pcap" in err
    status, _, err = run_qbox("bench", "isdn", "--calls", "5", "--variant", "qsig")
    assert status == 2 and "unknown switch variant 'qsig'" in err
