"""Alarms over the control API: real ControlServer on a Unix socket, event stream included."""
from __future__ import annotations

import asyncio
import json

import pytest

from appliance.alarms import AlarmManager
from appliance.alarms.control import EventBusOutput, alarm_handlers
from appliance.control import ControlServer
from appliance.events import EventBus


async def _request(path, request, lines=1):
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(json.dumps(request).encode() + b"\n")
    await writer.drain()
    answers = [json.loads(await asyncio.wait_for(reader.readline(), 5)) for _ in range(lines)]
    return reader, writer, answers


def test_list_ack_history_and_the_event_stream(tmp_path, clock, alarm_store, config):
    async def scenario():
        bus = EventBus(clock)
        manager = AlarmManager(config, clock, alarm_store, [EventBusOutput(bus)])
        server = ControlServer(tmp_path / "control.sock", alarm_handlers(manager), bus)
        await server.start()
        try:
            sub_reader, sub_writer, (subscribed,) = await _request(
                server.path, {"id": 1, "cmd": "subscribe", "args": {"events": ["alarm.*"]}})
            assert subscribed["ok"]
            manager.report("span1", "aIS", True, severity="major")
            streamed = json.loads(await asyncio.wait_for(sub_reader.readline(), 5))
            assert streamed["event"] == "alarm.raised" and streamed["data"]["alarm"]["cause"] == "aIS"

            _, w, (listed,) = await _request(server.path, {"id": 2, "cmd": "alarms", "args": {}})
            w.close()
            assert [a["object"] for a in listed["result"]["alarms"]] == ["span1"]
            alarm_id = listed["result"]["alarms"][0]["id"]
            _, w, (acked,) = await _request(server.path, {"id": 3, "cmd": "alarms.ack",
                                                          "args": {"id": alarm_id, "by": "noc"}})
            w.close()
            assert acked["ok"] and acked["result"]["acknowledged"][0]["acked_by"] == "noc"
            streamed = json.loads(await asyncio.wait_for(sub_reader.readline(), 5))
            assert streamed["event"] == "alarm.acknowledged" and streamed["data"]["actor"] == "noc"

            _, w, (bad,) = await _request(server.path, {"id": 4, "cmd": "alarms.ack", "args": {"id": "x", "by": "n"}})
            w.close()
            assert not bad["ok"] and "alarm id" in bad["error"]
            _, w, (history,) = await _request(server.path, {"id": 5, "cmd": "alarms.history", "args": {}})
            w.close()
            assert [h["kind"] for h in history["result"]["history"]] == ["raised", "acknowledged"]
            sub_writer.close()
        finally:
            await server.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("args, message", [
    ({"id": 1}, "'by' must name who acknowledges"),
    ({"id": 99, "by": "x"}, "no alarm with id 99"),
    ({"all": True, "by": "x", "comment": 5}, "'comment' must be text"),
])
def test_ack_rejects_bad_arguments(manager, args, message):
    from appliance.errors import BadInput

    with pytest.raises(BadInput, match=message):
        alarm_handlers(manager)["alarms.ack"](args)
