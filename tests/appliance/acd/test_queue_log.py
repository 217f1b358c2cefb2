"""queue_log lines in Asterisk's exact format and event names."""
from __future__ import annotations

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
{T + 77}|NONE|NONE|Agent/1001|PAUSEALL|
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
{T + 384}|uid-5|sales|Agent/1001|TRANSFER|2000||0|0|1
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
                                          "PAUSE", "UNPAUSE", "TRANSFER"}


def test_ringcanceled_when_the_caller_hangs_up_while_ringing(build, clock, tmp_path):
    engine, rec = build([QueueConfig("q")], [AgentConfig("a", queues=(Membership("q"),))])
    attach_queue_log(engine, tmp_path / "queue_log")
    engine.join("q", "u1")
    clock.advance(2.5)
    engine.hangup("u1")
    lines = (tmp_path / "queue_log").read_text().splitlines()
    assert lines[-2:] == [f"{T + 2}|u1|q|a|RINGCANCELED|2500", f"{T + 2}|u1|q|NONE|ABANDON|1|1|2"]
