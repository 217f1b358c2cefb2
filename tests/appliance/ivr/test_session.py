"""IvrSession walks callers through menus, collection, hooks and opening hours."""
from __future__ import annotations

import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.config import ConfigError, load_config_text
from appliance.ivr import IvrSession
from drivers.clock import ManualClock

BOX = textwrap.dedent("""\
    node: {name: ivr-test}
    spans:
      - {number: 1, type: e1, framing: ccs, coding: hdb3, signalling: pri_cpe, switchtype: euroisdn, dchannel: 16}
    queues:
      - {name: trading}
      - {name: general}
    """)

IVR = textwrap.dedent("""\
    ivr:
      entry: main
      hooks:
        balance: {python: "tests.appliance.ivr.hooks:balance", timeout: 2}
      nodes:
        main:
          kind: menu
          prompt: [welcome, main-menu]
          timeout: 4
          retries: 3
          invalid_prompt: invalid
          timeout_prompt: noinput
          options:
            "1": {queue: trading, priority: 5}
            "2": account
            "0": {transfer: "95588"}
            "9": {hangup: true}
          on_failure: {queue: general}
        account:
          kind: collect
          prompt: enter-account
          min_digits: 4
          max_digits: 8
          terminator: "#"
          inter_digit_timeout: 3
          into: account
          next: lookup
        lookup:
          kind: hook
          hook: balance
          next: say-balance
          fallback: sorry
        say-balance:
          kind: play
          prompt: your-balance-is
          say: balance
          next: main
        sorry:
          kind: hangup
          prompt: sorry
          cause: 16
    """)


class FakePort:
    """Records what the session asks of its call; playback ends when the test says so."""

    def __init__(self) -> None:
        self.played: list[list[str]] = []
        self.pending = None
        self.result = None
        self.stops = 0

    def play(self, prompts, on_done):
        self.played.append(list(prompts))
        self.pending = on_done

    def finish_prompt(self):
        done, self.pending = self.pending, None
        done()

    def stop_playback(self):
        self.stops += 1
        self.pending = None

    def enqueue(self, queue, priority, variables):
        self.result = ("queue", queue, priority, variables)

    def transfer(self, number):
        self.result = ("transfer", number)

    def hangup(self, cause):
        self.result = ("hangup", cause)


class InlineHooks:
    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.pending = None

    def run(self, hook, variables, on_result):
        self.calls.append((hook, variables))
        answer = self.answers.get(variables.get("account"))
        if answer == "later":
            self.pending = on_result
        elif answer is None:
            on_result(None, "unknown account")
        else:
            on_result(answer, None)


def session(hooks=None, extra=""):
    config = load_config_text(BOX + IVR + extra, "ivr.yaml")
    port, clock = FakePort(), ManualClock()
    return IvrSession(config.ivr, port, clock, hooks), port, clock


def test_menu_choice_during_the_prompt_barges_in_and_queues_with_priority():
    s, port, _ = session()
    s.start()
    assert port.played == [["welcome", "main-menu"]]
    s.on_digit("1")
    assert port.stops == 1
    assert port.result == ("queue", "trading", 5, {"menu_main": "1"})
    assert s.path == ["main"]


def test_invalid_then_timeouts_replay_with_apologies_then_on_failure():
    s, port, clock = session()
    s.start()
    port.finish_prompt()
    s.on_digit("7")                      # invalid: apologise and replay
    assert port.played[-1] == ["invalid", "welcome", "main-menu"]
    port.finish_prompt()
    clock.advance(3.9)
    assert port.result is None
    clock.advance(0.1)                   # timeout after 4 s of silence
    assert port.played[-1] == ["noinput", "welcome", "main-menu"]
    port.finish_prompt()
    clock.advance(4)                     # third failure: on_failure, after the apology
    assert port.played[-1] == ["noinput"] and port.result is None
    port.finish_prompt()
    assert port.result == ("queue", "general", 0, {})


def test_collect_with_terminator_then_hook_then_read_back_digits():
    hooks = InlineHooks({"123456": {"balance": "1024.5"}})
    s, port, clock = session(hooks)
    s.start()
    s.on_digit("2")
    assert port.played[-1] == ["enter-account"]
    for d in "123456#":
        s.on_digit(d)
    assert hooks.calls == [("balance", {"menu_main": "2", "account": "123456"})]
    assert port.played[-1] == ["your-balance-is", "digits/1", "digits/0", "digits/2", "digits/4",
                               "digits/point", "digits/5"]
    port.finish_prompt()
    assert s.node_name == "main" and s.path == ["main", "account", "lookup", "say-balance", "main"]


def test_collect_ends_on_inter_digit_timeout_and_rejects_too_few_digits():
    s, port, clock = session(InlineHooks({}))
    s.start()
    s.on_digit("2")
    port.finish_prompt()
    s.on_digit("1")
    s.on_digit("2")
    clock.advance(3)                     # two digits < min 4: invalid, ask again
    assert port.played[-1] == ["invalid", "enter-account"]
    port.finish_prompt()
    for d in "98765432":                 # max_digits 8 ends it without a terminator
        s.on_digit(d)
    assert s.variables["account"] == "98765432"
    assert s.node_name == "sorry" and port.result is None  # unknown account -> fallback prompt
    assert s.variables["hook_error"] == "unknown account"
    port.finish_prompt()                 # the goodbye prompt, then the hangup
    assert port.result == ("hangup", 16)


def test_hook_timeout_takes_the_fallback_and_a_late_answer_is_ignored():
    hooks = InlineHooks({"5555": "later"})
    s, port, clock = session(hooks)
    s.start()
    s.on_digit("2")
    for d in "5555#":
        s.on_digit(d)
    clock.advance(2)
    assert s.node_name == "sorry" and s.variables["hook_error"] == "timeout"
    hooks.pending({"balance": "1"}, None)
    assert s.node_name == "sorry"
    port.finish_prompt()
    assert port.result == ("hangup", 16)


def test_transfer_and_hangup_options():
    s, port, _ = session()
    s.start()
    s.on_digit("0")
    assert port.result == ("transfer", "95588")
    s, port, _ = session()
    s.start()
    s.on_digit("9")
    assert port.result == ("hangup", 16)


HOURS = textwrap.dedent("""\
      hours:
        timezone: Asia/Shanghai
        open: ["mon-fri 09:00-17:30", "sat 09:00-12:00"]
        holidays: ["2026-10-01"]
        closed: closed
    """)
CLOSED_NODE = "    closed: {kind: hangup, prompt: closed-message}\n"


@pytest.mark.parametrize("local_time, is_open", [
    ("2026-11-27 09:00", True),     # Friday, opening minute
    ("2026-11-27 17:29", True),
    ("2026-11-27 17:30", False),    # closing minute
    ("2026-11-28 11:59", True),     # Saturday morning
    ("2026-11-29 10:00", False),    # Sunday
    ("2026-10-01 10:00", False),    # holiday (a Thursday)
])
def test_out_of_hours_routing(local_time, is_open):
    config = load_config_text(BOX + IVR.replace("  entry: main\n", "  entry: main\n" + textwrap.indent(HOURS, "  ")) + CLOSED_NODE, "ivr.yaml")
    when = datetime.strptime(local_time, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    clock = ManualClock(epoch=when)
    port = FakePort()
    IvrSession(config.ivr, port, clock).start()
    assert port.played == ([["welcome", "main-menu"]] if is_open else [["closed-message"]])


def test_ivr_configuration_errors_name_their_node():
    bad = IVR.replace("next: say-balance", "next: nowhere").replace('"9": {hangup: true}', '"x": {hangup: true}')
    bad = bad.replace("hook: balance", "hook: balanse").replace("min_digits: 4", "min_digits: 9")
    with pytest.raises(ConfigError) as info:
        load_config_text(BOX + bad, "ivr.yaml")
    messages = [line.split(": ", 1)[1] for line in info.value.lines()]
    assert "ivr.nodes.main.options.x: 'x' is not a DTMF key (0123456789*#ABCD)" in messages
    assert "ivr.nodes.account.min_digits: min_digits 9 is more than max_digits 8" in messages
    # node-to-node references are checked once every node is valid on its own:
    bad = IVR.replace("next: say-balance", "next: nowhere").replace("hook: balance", "hook: balanse")
    with pytest.raises(ConfigError) as info:
        load_config_text(BOX + bad, "ivr.yaml")
    messages = [line.split(": ", 1)[1] for line in info.value.lines()]
    assert messages == ["ivr.nodes.lookup.hook: hook 'balanse' is not defined in ivr.hooks",
                        "ivr.nodes.lookup.next: node 'nowhere' is not defined"]
