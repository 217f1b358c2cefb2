"""``qbox status``, ``calls``, ``queue show`` and ``agent`` against a running service."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.appliance.console.conftest import row

CALLER = "13800000001"


def test_views_while_a_caller_waits_and_then_talks(box_factory, qbox):
    box = box_factory(agent_answer_after={"8001": 1.0, "8002": 1.0})
    ex, sock = box.exchange, ("--socket", str(box.socket))

    # Both agents go on a break, so the caller has to wait.
    paused = qbox("agent", "pause", "8001", "--reason", "lunch", *sock)
    assert (paused.status, paused.out) == (0, "agent 8001: paused (lunch)\n")
    paused = qbox("agent", "pause", "8002", "--reason", "training", "--json", *sock)
    assert (paused.json["state"], paused.json["reason"], paused.json["paused_in"]) == ("paused", "training", ["sales"])

    caller = ex.dial(CALLER)
    ex.run_until(lambda: "active" in caller.events)
    ex.run(0.3)
    ex.press(CALLER, "1")
    ex.run_until(lambda: [c["state"] for c in box.request("calls")] == ["queued"])
    ex.run(2.0)

    status = qbox("status", *sock)
    assert status.status == 0
    text = "\n".join(status.lines)
    assert "Calls     1 active: 0 in IVR, 1 queued, 0 ringing, 0 talking" in text
    assert "Agents    2 logged in: 0 available, 0 ringing, 0 talking, 0 wrap-up, 2 paused" in text
    assert row(status.lines, "Queues")[1:3] == ["1", "waiting,"]
    media = row(status.lines, "Media")
    assert int(media[1]) >= 100 and media[2:] == ["ticks,", "0", "blocks", "missed", "(since", "start)"]
    assert row(status.lines, "1")[:3] == ["1", "trunk", "E1"]
    assert row(status.lines, "1")[5] == "1/30"
    doc = qbox("status", "--json", *sock).json
    assert (doc["calls"]["queued"], doc["queues"]["waiting"], doc["agents"]["paused"]) == (1, 1, 2)
    assert doc["queues"]["longest_wait_s"] >= 2.0

    calls = qbox("calls", *sock)
    assert calls.lines[0].split() == ["CALL", "CH", "CALLING", "CALLED", "STATE", "TIME", "WHERE", "AGENT", "DIGITS"]
    [call] = qbox("calls", "--json", *sock).json["calls"]
    cells = row(calls.lines, call["id"])
    assert cells[1:5] == ["1/1", CALLER, "95588", "queued"] and cells[6:] == ["sales", "#1", "-", "1"]
    assert (call["state"], call["queue"], call["position"], call["agent"]) == ("queued", "sales", 1, None)

    queue = qbox("queue", "show", "sales", *sock)
    assert queue.lines[0].startswith("sales: linear, 1 waiting, longest 0:0")
    caller_row = row(queue.lines, "1")
    assert caller_row[1:3] == [CALLER, "0"] and caller_row[4] == call["id"]
    assert row(queue.lines, "8001")[2:4] == ["paused", "yes"]
    [sales] = qbox("queue", "show", "sales", "--json", *sock).json["queues"]
    assert [c["callerid"] for c in sales["callers"]] == [CALLER]
    assert [(m["agent"], m["paused"]) for m in sales["members"]] == [("8001", True), ("8002", True)]
    assert [q["name"] for q in qbox("queue", "show", "--json", *sock).json["queues"]] == ["sales", "overflow"]

    agents = qbox("agent", "show", *sock)
    assert row(agents.lines, "8001")[2] == "paused" and row(agents.lines, "8001")[-1] == "lunch"
    assert row(agents.lines, "8002")[-1] == "training"

    # 8001 comes back: the waiting caller goes to 8001 at once, who answers.
    back = qbox("agent", "unpause", "8001", "--json", *sock).json
    assert back["state"] in ("reserved", "ringing") and back["reason"] == "" and back["paused_in"] == []
    ex.run_until(lambda: CALLER in ex.agents and "active" in ex.agents[CALLER].events)
    ex.run(1.0)

    [call] = qbox("calls", "--json", *sock).json["calls"]
    assert (call["state"], call["agent"]) == ("talking", "8001")
    cells = row(qbox("calls", *sock).lines, call["id"])
    assert cells[4] == "talking" and cells[6:] == ["sales", "8001", "1"]
    doc = qbox("status", "--json", *sock).json
    assert (doc["calls"]["talking"], doc["agents"]["talking"], doc["queues"]["waiting"]) == (1, 1, 0)
    assert [s["busy"] for s in doc["spans"]] == [1, 1]       # the trunk leg and the agent leg
    agent = qbox("agent", "show", "8001", "--json", *sock).json["agents"]
    assert [(a["id"], a["state"], a["call"]) for a in agent] == [("8001", "talking", call["id"])]
    assert row(qbox("agent", "show", "8001", *sock).lines, "8001")[2:5] == ["talking", "0", call["id"]]
    queue = qbox("queue", "show", "sales", *sock)
    assert "  no callers waiting" in queue.lines
    assert queue.lines[1].split()[:4] == ["offered", "1,", "answered", "1,"]
    assert row(queue.lines, "8001")[2] == "talking"


def test_pause_in_one_queue_logout_and_login(box_factory, qbox):
    box = box_factory()
    sock = ("--socket", str(box.socket))

    paused = qbox("agent", "pause", "8001", "--queue", "overflow", "--reason", "coaching", *sock)
    assert paused.out == "agent 8001: available, paused in overflow (coaching)\n"
    assert row(qbox("agent", "show", *sock).lines, "8001")[2:] == ["available", "0", "-", "overflow(paused),sales",
                                                                   "coaching"]
    members = {q["name"]: q["members"][0]["paused"] for q in qbox("queue", "show", "--json", *sock).json["queues"]}
    assert members == {"sales": False, "overflow": True}
    back = qbox("agent", "unpause", "8001", "--queue", "overflow", "--json", *sock).json
    assert (back["state"], back["paused_in"]) == ("available", [])

    out = qbox("agent", "logout", "8002", *sock)
    assert (out.status, out.out) == (0, "agent 8002: logged out\n")
    assert box.request("agents")[1]["state"] == "logged_out"
    refused = qbox("agent", "pause", "8002", *sock)
    assert (refused.status, refused.err) == (2, "qbox: agent '8002' is not logged in\n")
    back = qbox("agent", "login", "8002", "--json", *sock).json
    assert back["state"] == "available"


BAD_INPUT = [
    (["agent", "pause", "9999", "--reason", "lunch"], "qbox: unknown agent '9999'"),
    (["agent", "login", "9999"], "qbox: unknown agent '9999'"),
    (["agent", "show", "9999"], "qbox: unknown agent '9999'"),
    (["agent", "unpause", "8002", "--queue", "overflow"], "qbox: agent '8002' is not a member of queue 'overflow'"),
    (["queue", "show", "nosuch"], "qbox: unknown queue 'nosuch' (known: sales, overflow)"),
]
CONSOLE_COMMANDS = [["status"], ["calls"], ["queue", "show"], ["agent", "show"], ["agent", "login", "8001"],
                    ["agent", "pause", "8001", "--reason", "lunch"], ["top", "--once"]]


def test_bad_input_exits_2_and_a_dead_service_exits_1(box_factory, qbox):
    box = box_factory()
    for argv in BAD_INPUT:
        result = qbox(*argv[0], "--socket", str(box.socket))
        assert (result.status, result.out, result.err) == (2, "", argv[1] + "\n"), argv
    assert [a["state"] for a in box.request("agents")] == ["available", "available"]   # nothing changed
    box.kill()            # the socket file stays behind, as after a crash
    for argv in CONSOLE_COMMANDS:
        result = qbox(*argv, "--socket", str(box.socket))
        assert result.status == 1 and result.out == "", argv
        assert result.err == f"qbox: cannot reach the qbox service at {box.socket}: Connection refused" \
                             " (is `qbox run` running?)\n", argv


@pytest.mark.parametrize("argv", CONSOLE_COMMANDS, ids=" ".join)
def test_no_service_exits_1_with_one_line(qbox, tmp_path, argv):
    result = qbox(*argv, "--json" if argv != ["top", "--once"] else "--once", "--socket", str(tmp_path / "none.sock"))
    assert (result.status, result.out) == (1, "")
    assert result.err == f"qbox: cannot reach the qbox service at {tmp_path / 'none.sock'}: No such file or directory" \
                         " (is `qbox run` running?)\n"


def test_the_installed_command_exits_1_without_a_service(tmp_path):
    done = subprocess.run([sys.executable, "-m", "appliance.cli", "status", "--socket", str(tmp_path / "none.sock")],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, len(done.stderr.splitlines())) == (1, "", 1)
    assert "cannot reach the qbox service" in done.stderr
