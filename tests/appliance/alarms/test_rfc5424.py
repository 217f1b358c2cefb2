"""Alarms in syslog: RFC 5424 framing with RFC 5674 structured data, over real sockets."""
from __future__ import annotations

import re
import socket

import pytest

from appliance.alarms import Alarm, AlarmEvent, AlarmManager, SyslogOutput
from appliance.alarms.rfc5424 import format_message, sd_escape

# RFC 5424 section 6 in one expression (PRI VERSION TIMESTAMP HOST APP PROCID MSGID SD MSG).
RFC5424 = re.compile(
    r'^<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z) (?P<host>[!-~]{1,255}) '
    r'(?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) '
    r'(?P<sd>(\[[^ =\]"]+( [^ =\]"]+="([^"\\\]]|\\["\\\]])*")*\])+) (?P<msg>.*)$')

LOS = Alarm(7, "span1", "lossOfSignal", "critical", "communicationsAlarm", "RED alarm",
            raised_at=1_767_225_602.5, changed_at=1_767_225_602.5)


def test_raise_message_is_rfc5424_with_the_rfc5674_alarm_element():
    message = format_message(AlarmEvent("raised", LOS), 1_767_225_602.5, hostname="box1", procid="812").decode()
    assert message == (
        '<129>1 2026-01-01T00:00:02.500Z box1 qbox 812 raised '
        '[alarm resource="span1" probableCause="lossOfSignal" perceivedSeverity="critical" '
        'eventType="communicationsAlarm"][qbox@32473 id="7" count="1"] span1 lossOfSignal critical: RED alarm')
    assert RFC5424.match(message)


@pytest.mark.parametrize("kind, severity, pri", [
    ("raised", "critical", 16 * 8 + 1), ("raised", "major", 130), ("raised", "minor", 131),
    ("raised", "warning", 132), ("raised", "indeterminate", 133), ("cleared", "critical", 133),
])
def test_perceived_severity_maps_to_syslog_severity_per_rfc5674(kind, severity, pri):
    event = AlarmEvent(kind, LOS.evolve(severity=severity, cleared_at=2.0 if kind == "cleared" else None))
    match = RFC5424.match(format_message(event, 0.0, hostname="h").decode())
    assert int(match["pri"]) == pri
    if kind == "cleared":
        assert 'perceivedSeverity="cleared"' in match["sd"]


def test_trend_ack_and_escaping():
    worse = LOS.evolve(object='disk:/var/"x"]', cause="storageCapacityProblem", severity="major",
                       acked_by="noc", acked_at=0.0)
    message = format_message(AlarmEvent("changed", worse), 0.0, hostname="h",
                             previous=worse.evolve(severity="minor")).decode()
    assert RFC5424.match(message)
    assert 'resource="disk:/var/\\"x\\"\\]"' in message
    assert 'trendIndication="moreSevere"' in message and 'ackedBy="noc"' in message
    assert sd_escape('a\\b') == 'a\\\\b'


def test_hostname_with_spaces_is_made_a_valid_token():
    message = format_message(AlarmEvent("raised", LOS), 0.0, hostname="branch box", app_name="").decode()
    assert RFC5424.match(message)["host"] == "branchbox"
    assert " - " in message   # empty APP-NAME is the NILVALUE


def test_alarm_changes_arrive_at_a_udp_collector(clock, alarm_store, config):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as collector:
        collector.bind(("127.0.0.1", 0))
        collector.settimeout(2)
        output = SyslogOutput(f"udp://127.0.0.1:{collector.getsockname()[1]}", clock, facility=3, hostname="h")
        manager = AlarmManager(config, clock, alarm_store, [output])
        manager.report("span1", "aIS", True)
        manager.acknowledge(manager.active()[0].id, "noc", "looking")
        manager.report("span1", "aIS", False)
        received = [collector.recv(2048).decode() for _ in range(3)]
        output.close()
    matches = [RFC5424.match(m) for m in received]
    assert [m["msgid"] for m in matches] == ["raised", "acknowledged", "cleared"]
    assert [int(m["pri"]) for m in matches] == [3 * 8 + 2, 3 * 8 + 2, 3 * 8 + 5]
    assert matches[1]["msg"].endswith("(looking)")


def test_unix_socket_transport_and_counted_failures(tmp_path, clock):
    path = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as devlog:
        devlog.bind(str(path))
        output = SyslogOutput(f"unix://{path}", clock)
        output.update(AlarmEvent("raised", LOS), [LOS])
        assert RFC5424.match(devlog.recv(2048).decode())
    path.unlink()                            # syslog daemon gone
    output.update(AlarmEvent("cleared", LOS.evolve(cleared_at=1.0)), [])
    assert (output.sent, output.send_errors) == (1, 1)
    output.close()
    with pytest.raises(ValueError, match="unknown syslog scheme 'tcp'"):
        SyslogOutput("tcp://x:514", clock)
