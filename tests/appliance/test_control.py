"""The control socket: requests, errors that never stop the service, event streams."""
from __future__ import annotations

import asyncio
import json
import socket
import stat

import pytest

from appliance.control import ControlClient, ControlServer
from appliance.errors import BadInput
from appliance.events import EventBus
from drivers.clock import ManualClock


def handlers():
    def pause(args):
        if args.get("agent") != "1001":
            raise BadInput(f"unknown agent {args.get('agent')!r}")
        return {"agent": "1001", "paused": True}

    def broken(args):
        raise RuntimeError("bug")

    async def slow(args):
        await asyncio.sleep(0.01)
        return "done"

    return {"status": lambda args: {"calls": 3}, "pause": pause, "broken": broken, "slow": slow}


async def serve(tmp_path, body):
    bus = EventBus(ManualClock())
    server = ControlServer(tmp_path / "control.sock", handlers(), bus)
    await server.start()
    try:
        return await body(server, bus)
    finally:
        await server.close()


def test_requests_answers_and_errors(tmp_path):
    async def body(server, bus):
        def client_side():
            with ControlClient(server.path) as client:
                results = [client.request("status"), client.request("pause", agent="1001"), client.request("slow")]
                errors = []
                for cmd, args in (("pause", {"agent": "9"}), ("nope", {}), ("broken", {})):
                    with pytest.raises(BadInput) as info:
                        client.request(cmd, **args)
                    errors.append(str(info.value))
                results.append(client.request("status"))  # the connection survived all of that
                return results, errors

        return await asyncio.to_thread(client_side)

    results, errors = asyncio.run(serve(tmp_path, body))
    assert results == [{"calls": 3}, {"agent": "1001", "paused": True}, "done", {"calls": 3}]
    assert errors[0] == "unknown agent '9'"
    assert errors[1].startswith("unknown command 'nope' (known: broken, pause, slow, status, subscribe)")
    assert errors[2] == "internal error: RuntimeError: bug"


def test_malformed_lines_are_answered_and_counted(tmp_path):
    async def body(server, bus):
        def raw():
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(str(server.path))
                s.sendall(b'{"id": 1, "cmd": \n[1,2]\n{"id": 2, "cmd": "status"}\n')
                data = b""
                while data.count(b"\n") < 3:
                    data += s.recv(4096)
                return [json.loads(line) for line in data.splitlines()]

        answers = await asyncio.to_thread(raw)
        return answers, server.errors, stat.S_IMODE(server.path.stat().st_mode)

    answers, errors, mode = asyncio.run(serve(tmp_path, body))
    assert answers[0] == {"id": None, "ok": False, "error": "not JSON at byte 18: Expecting value"}
    assert answers[1] == {"id": None, "ok": False, "error": "a request is a JSON object"}
    assert answers[2] == {"id": 2, "ok": True, "result": {"calls": 3}}
    assert errors == 1 and mode == 0o660


def test_subscribers_get_matching_events_in_order(tmp_path):
    async def body(server, bus):
        received = []

        def listen():
            client = ControlClient(server.path)
            stream = client.subscribe(["call.*"])
            for _ in range(2):
                received.append(next(stream))
            client.close()

        task = asyncio.create_task(asyncio.to_thread(listen))
        while not bus._subscriptions:
            await asyncio.sleep(0.01)
        bus.publish("queue.join", queue="sales")
        bus.publish("call.answered", call="c1")
        bus.publish("call.cleared", call="c1", cause=16)
        await asyncio.wait_for(task, 5)
        return received

    received = asyncio.run(serve(tmp_path, body))
    assert [(e["event"], e["data"]) for e in received] == [
        ("call.answered", {"call": "c1"}), ("call.cleared", {"call": "c1", "cause": 16})]


def test_client_without_service_says_so(tmp_path):
    from appliance.errors import QboxError

    with pytest.raises(QboxError, match=r"cannot reach the qbox service at .*control\.sock: No such file"):
        ControlClient(tmp_path / "control.sock").request("status")
