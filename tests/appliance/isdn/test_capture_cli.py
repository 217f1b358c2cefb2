"""``qbox capture dchan``: from a running service's tap, and from a D-channel opened
directly (the simulator's); bad input refused with one line."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from appliance.control import ControlServer
from appliance.events import EventBus
from appliance.isdn.backtoback import BackToBack
from appliance.isdn.pcap import read_pcap
from appliance.isdn.q921 import LAPD, SABME, LAPDInformation
from appliance.isdn.q931 import BearerCapability, CalledPartyNumber, ChannelIdentification, Setup
from appliance.service_api import DChannelTap
from drivers.clock import ManualClock
from drivers.dahdi.sim import FarEnd, SpanSpec


def _wait_for(condition, timeout=10.0):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("condition never held")
        time.sleep(0.01)


def test_capture_from_a_directly_opened_d_channel(tmp_path, run_qbox):
    frames = [bytes(LAPD(cr=1) / SABME(pf=1)),
              bytes(LAPD(cr=1) / LAPDInformation() / Setup(callref=3, ies=[
                  BearerCapability(), ChannelIdentification(channel=4), CalledPartyNumber(digits=b"4000")]))]
    sim = tmp_path / "sim"
    with FarEnd(sim, [SpanSpec(1)], clock=ManualClock()).start() as far:
        span = far.span(1)

        def far_end_talks():
            _wait_for(lambda: span.dchan_link is not None)
            for frame in frames:
                span.send_frame(frame)

        talker = threading.Thread(target=far_end_talks)
        talker.start()
        out = tmp_path / "span1.pcap"
        status, stdout, stderr = run_qbox("capture", "dchan", "1", "-o", str(out), "--duration", "1.5",
                                          "--device", f"sim://{sim}")
        talker.join()
    assert status == 0, stderr
    assert "captured 2 frames on span 1" in stdout
    captured = read_pcap(out)
    assert [c.frame for c in captured] == frames
    assert not any(c.sent or c.we_network for c in captured)


@pytest.fixture
def service(tmp_path):
    """A control server whose bus carries a live user-side stack's D-channel tap."""
    loop = asyncio.new_event_loop()
    bus = EventBus(ManualClock())
    path = tmp_path / "control.sock"
    server = ControlServer(path, {"spans": lambda args: [{"number": 1, "role": "user"}]}, bus)
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop, bus, path
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_capture_taps_the_running_service_both_directions(tmp_path, run_qbox, service):
    loop, bus, socket_path = service
    pair = BackToBack()
    pair.user.capture = DChannelTap(bus, 1)       # what the service gives each span's stack

    async def a_call():
        pair.start()
        call = pair.user.place_call("4000")
        pair.pump()
        pair.network.answer(pair.network.active_calls[0])
        pair.pump()
        pair.user.disconnect(call)
        pair.pump()

    def service_works():
        _wait_for(lambda: bus.wanted("dchan.1"))
        asyncio.run_coroutine_threadsafe(a_call(), loop).result(10)

    worker = threading.Thread(target=service_works)
    worker.start()
    out = tmp_path / "tap.pcap"
    status, stdout, stderr = run_qbox("capture", "dchan", "1", "-o", str(out), "--duration", "2",
                                      "--socket", str(socket_path))
    worker.join()
    assert status == 0, stderr
    captured = read_pcap(out)
    assert len(captured) >= 12 and {c.sent for c in captured} == {True, False}
    assert not any(c.we_network for c in captured)
    setup = LAPD(captured[next(i for i, c in enumerate(captured) if len(c.frame) > 4)].frame)
    assert isinstance(setup.payload.payload, Setup) and setup.payload.payload.ie(CalledPartyNumber).digits == b"4000"
    assert f"captured {len(captured)} frames on span 1 (both directions" in stdout


def test_capture_of_a_span_the_service_does_not_have(tmp_path, run_qbox, service):
    _, _, socket_path = service
    status, _, stderr = run_qbox("capture", "dchan", "7", "-o", str(tmp_path / "x.pcap"), "--duration", "1",
                                 "--socket", str(socket_path))
    assert status == 2 and "span 7: not a span of the running service (spans: 1)" in stderr


@pytest.mark.parametrize("args, message", [
    (["0"], "span 0: span numbers start at 1"),
    (["1", "--duration", "-1"], "--duration -1.0: must be more than 0 seconds"),
    (["1", "--device", "foo://bar"], "unknown DAHDI device scheme 'foo'"),
])
def test_bad_arguments(tmp_path, run_qbox, args, message):
    status, _, stderr = run_qbox("capture", "dchan", *args, "-o", str(tmp_path / "x.pcap"))
    assert status == 2 and message in stderr and len(stderr.strip().splitlines()) == 1


def test_unwritable_output_names_the_file(tmp_path, run_qbox):
    sim = tmp_path / "sim"
    with FarEnd(sim, [SpanSpec(1)], clock=ManualClock()).start():
        target = tmp_path / "missing" / "x.pcap"
        status, _, stderr = run_qbox("capture", "dchan", "1", "-o", str(target), "--duration", "0.1",
                                     "--device", f"sim://{sim}")
    assert status == 2 and f"{target}: cannot write the capture" in stderr
