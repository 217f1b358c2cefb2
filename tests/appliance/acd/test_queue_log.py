"""queue_log lines in Asterisk's exact format and event names (app_queue.c's ast_queue_log calls)."""
from __future__ import annotations

import os

import pytest

from appliance.acd import AgentConfig, Membership, QueueConfig
from appliance.acd.queue_log import attach_queue_log, parse_line

T = 1_767_225_600


def test_a_day_in_the_queue_log(build, clock, tmp_path):
    queues = [QueueConfig("sales", timeout=10, retry=0, strategy="linear", exit_keys="0", max_wait=300,
                          abandoned_resume_allowed=False, leavewhenempty="unavailable")]
    agents = [AgentConfig("1001", membername="Agent/1001", queues=(Membership("sales"),)),
              AgentConfig("1002", queues=(Membership("sales", 2),))]
    engine, rec = build(queues, agents, login=False)
    path = tmp_path / "queue_log"
    attach_queue_log(engine, path)
    engine.start()
    engine.agent_login("1001")
    engine.join("sales", "uid-1", callerid="5551234")
    clock.advance(10)                                   # 1001 does not answer, rung again
    clock.advance(2)
    engine.answer("uid-1", "1001", agent_call="uid-1-agent")
    clock.advance(65)
    engine.hangup("uid-1")
    engine.agent_pause("1001", "lunch")
    engine.join("sales", "uid-2", callerid="5550000")
    clock.advance(3)
    engine.key("uid-2", "0")
    engine.join("sales", "uid-3")
    clock.advance(4)
    engine.hangup("uid-3")
    engine.join("sales", "uid-4")
    clock.advance(300)
    engine.agent_unpause("1001")
    engine.join("sales", "uid-5")
    engine.answer("uid-5", "1001")
    engine.transfer("uid-5", "2000")
    engine.join("sales", "uid-6")               # rung; the agent logging out stops it (no line)
    engine.set_penalty("1001", "sales", 1)
    engine.agent_logout("1001")
    expected = f"""\
{T}|NONE|NONE|NONE|QUEUESTART|
{T}|MANAGER|sales|Agent/1001|ADDMEMBER|
{T}|uid-1|sales|NONE|ENTERQUEUE||5551234|1
{T + 10}|uid-1|sales|Agent/1001|RINGNOANSWER|10000
{T + 12}|uid-1|sales|Agent/1001|CONNECT|12|uid-1-agent|2
{T + 77}|uid-1|sales|Agent/1001|COMPLETECALLER|12|65|1
{T + 77}|NONE|NONE|Agent/1001|PAUSEALL|lunch
{T + 77}|NONE|sales|Agent/1001|PAUSE|lunch
{T + 77}|uid-2|sales|NONE|ENTERQUEUE||5550000|1
{T + 80}|uid-2|sales|NONE|EXITWITHKEY|0|1|1|3
{T + 80}|uid-3|sales|NONE|ENTERQUEUE||||1
{T + 84}|uid-3|sales|NONE|ABANDON|1|1|4
{T + 84}|uid-4|sales|NONE|ENTERQUEUE||||1
{T + 384}|uid-4|sales|NONE|EXITWITHTIMEOUT|1|1|300
{T + 384}|NONE|NONE|Agent/1001|UNPAUSEALL|
{T + 384}|NONE|sales|Agent/1001|UNPAUSE|
{T + 384}|uid-5|sales|NONE|ENTERQUEUE||||1
{T + 384}|uid-5|sales|Agent/1001|CONNECT|0||0
{T + 384}|uid-5|sales|Agent/1001|BLINDTRANSFER|2000||0|0|1
{T + 384}|uid-6|sales|NONE|ENTERQUEUE||||1
{T + 384}|NONE|sales|Agent/1001|PENALTY|1
{T + 384}|MANAGER|sales|Agent/1001|REMOVEMEMBER|
{T + 384}|uid-6|sales|NONE|EXITEMPTY|1|1|0
"""
    text = path.read_text()
    assert text == expected.replace("||||1", "|||1")
    rows = [parse_line(line) for line in text.splitlines()]
    assert {r["event"] for r in rows} >= {"ENTERQUEUE", "CONNECT", "COMPLETECALLER", "ABANDON", "EXITWITHTIMEOUT",
                                          "EXITWITHKEY", "EXITEMPTY", "RINGNOANSWER", "ADDMEMBER", "REMOVEMEMBER",
                                          "PAUSE", "UNPAUSE", "BLINDTRANSFER"}


def test_ringcanceled_when_the_caller_hangs_up_while_ringing(build, clock, tmp_path):
    engine, rec = build([QueueConfig("q")], [AgentConfig("a", queues=(Membership("q"),))])
    attach_queue_log(engine, tmp_path / "queue_log")
    engine.join("q", "u1")
    clock.advance(2.5)
    engine.hangup("u1")
    lines = (tmp_path / "queue_log").read_text().splitlines()
    assert lines[-2:] == [f"{T + 2}|u1|q|a|RINGCANCELED|2500", f"{T + 2}|u1|q|NONE|ABANDON|1|1|2"]


def log_lines(path) -> list[str]:
    return path.read_text().splitlines()


@pytest.mark.parametrize("queue, status, event", [
    (QueueConfig("q", maxlen=1), "full", "FULL"),
    (QueueConfig("q", joinempty="paused"), "joinempty", "JOINEMPTY"),
])
def test_a_refused_caller_gets_the_dialplan_queuelog_line(build, clock, tmp_path, queue, status, event):
    # app_queue logs nothing itself; QueueLog(q,${UNIQUEID},NONE,FULL) writes "...|NONE|FULL|"
    engine, rec = build([queue], [AgentConfig("a", queues=(Membership("q"),))])
    engine.agent_pause("a", "x")
    attach_queue_log(engine, tmp_path / "queue_log")
    if status == "full":
        engine.join("q", "first", callerid="5550001")
    assert engine.join("q", "refused", callerid="5550002").status == status
    assert log_lines(tmp_path / "queue_log")[-1] == f"{T}|refused|q|NONE|{event}|"


def test_a_queue_both_full_and_empty_refuses_with_joinempty_as_app_queue(build, tmp_path):
    engine, rec = build([QueueConfig("q", maxlen=1, joinempty="paused")], [AgentConfig("a", queues=(Membership("q"),))])
    engine.join("q", "first")
    engine.agent_pause("a", "x")
    attach_queue_log(engine, tmp_path / "queue_log")
    assert engine.join("q", "second").status == "joinempty"
    assert log_lines(tmp_path / "queue_log") == [f"{T}|second|q|NONE|JOINEMPTY|"]


def test_times_are_whole_epoch_seconds_apart_and_ringtime_is_cut_down(build, clock, tmp_path):
    engine, rec = build([QueueConfig("q", timeout=30)], [AgentConfig("a", queues=(Membership("q"),))])
    attach_queue_log(engine, tmp_path / "queue_log")
    clock.advance(0.2)
    engine.join("q", "u1")                      # joins at T+0.2, rung at once
    clock.advance(1.7)                          # answers at T+1.9 after 1.7 s of ringing
    engine.answer("u1", "a", agent_call="u1-a")
    clock.advance(0.15)                         # hangs up at T+2.05
    engine.hangup("u1")
    clock.advance(0.85)                         # second caller waits T+2.9 .. T+3.1, rung 0.2 s
    engine.join("q", "u2")
    clock.advance(0.2)
    engine.hangup("u2")
    assert log_lines(tmp_path / "queue_log") == [    # rounding the float seconds would give 2|..|2, 0, 0
        f"{T}|u1|q|NONE|ENTERQUEUE|||1",
        f"{T + 1}|u1|q|a|CONNECT|1|u1-a|1",           # time(NULL) - qe->start; (orig - to) / 1000
        f"{T + 2}|u1|q|a|COMPLETECALLER|1|1|1",       # starttime - holdstart; time(NULL) - starttime
        f"{T + 2}|u2|q|NONE|ENTERQUEUE|||1",
        f"{T + 3}|u2|q|a|RINGCANCELED|200",
        f"{T + 3}|u2|q|NONE|ABANDON|1|1|1",
    ]


def test_membership_changes_log_only_for_logged_in_agents(build, tmp_path):
    agents = [AgentConfig(i, queues=(Membership("q"),)) for i in ("in", "out")]
    engine, rec = build([QueueConfig("q"), QueueConfig("r")], agents, login=False)
    engine.agent_login("in")
    attach_queue_log(engine, tmp_path / "queue_log")
    for agent in ("in", "out"):
        engine.add_member(agent, "r", 3)
        engine.remove_member(agent, "q")
    assert log_lines(tmp_path / "queue_log") == [f"{T}|MANAGER|r|in|ADDMEMBER|", f"{T}|MANAGER|q|in|REMOVEMEMBER|"]


def test_lines_that_cannot_be_written_are_held_in_order_and_written_once_there_is_room(build, clock, tmp_path,
                                                                                       caplog, monkeypatch):
    engine, rec = build([QueueConfig("q")], [AgentConfig("a", queues=(Membership("q"),))])
    writer = attach_queue_log(engine, "/dev/full")        # every write: ENOSPC
    engine.join("q", "u1")
    engine.hangup("u1")
    assert writer.waiting == 3 and [e.kind for e in rec.events][-1] == "caller_left"    # the queues went on
    assert [r.getMessage() for r in caplog.records] == ["queue_log cannot be written; its lines are held"]
    monkeypatch.setattr("appliance.acd.queue_log.HELD_MAX", 3)
    engine.join("q", "u2")                                # one line more than may be held: the oldest goes
    assert (writer.waiting, writer.dropped) == (3, 1)
    writer._fd = os.open(tmp_path / "queue_log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)   # space again
    writer.flush()                                        # as the service does once a second
    lines = log_lines(tmp_path / "queue_log")
    assert [line.split("|", 1)[1] for line in lines] == [     # u1's ENTERQUEUE was the one dropped
        "u1|q|a|RINGCANCELED|0", "u1|q|NONE|ABANDON|1|1|0", "u2|q|NONE|ENTERQUEUE|||1"]
    assert writer.waiting == 0
    assert caplog.records[-1].getMessage() == "queue_log written again"
