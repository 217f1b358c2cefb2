"""A span's D-channel fails (the simulator's ``dchan`` fault) while layer 1 stays up: a box
running ``qbox run --lockstep`` loses its Q.921 link, raises its D-channel alarm and gets
both back when the fault is cleared."""
from __future__ import annotations


def dchannel_alarm(box) -> dict | None:
    return next((a for a in box.request("alarms")["alarms"] if a["object"] == "dchan1"), None)


def test_the_box_loses_its_data_link_and_raises_the_dchannel_alarm_until_cleared(box_factory):
    box = box_factory()
    exchange = box.exchange
    exchange.run_until(lambda: box.request("spans")[0]["alarms"] == ["OK"], seconds=6.0)   # past the bring-up
    assert box.request("spans")[0]["dchannel"] == "up" and dchannel_alarm(box) is None
    box.farend.inject(1, "dchan")
    # Idle, the box notices within T203 (10 s), then polls N200 + 1 times T200 (1 s) before giving up:
    # never sooner than 4 s, never later than 14 s.
    exchange.run(3.9)
    assert box.request("spans")[0]["dchannel"] == "up"
    exchange.run_until(lambda: box.request("spans")[0]["dchannel"] == "down", seconds=10.2)
    exchange.run_until(lambda: dchannel_alarm(box) is not None, seconds=8.0)   # the alarm's debounce
    alarm = dchannel_alarm(box)
    assert (alarm["cause"], alarm["severity"]) == ("communicationsSubsystemFailure", "major")
    trunk = box.request("spans")[0]
    assert trunk["alarms"] == ["OK"]                             # layer 1 never went: no span alarm
    assert not any(a["object"] == "span1" for a in box.request("alarms")["alarms"])

    box.farend.inject(1, "clear")
    exchange.run_until(lambda: box.request("spans")[0]["dchannel"] == "up" and exchange.trunk.link_up, seconds=5.0)
    exchange.run_until(lambda: dchannel_alarm(box) is None, seconds=10.0)
    assert box.farend.line_report(1)["frames_dropped"] > 0
