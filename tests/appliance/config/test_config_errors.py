"""Each configuration mistake gives its own precise FILE:LINE:COL: PATH: message."""
from __future__ import annotations

import textwrap

import pytest

from appliance.config import ConfigError, load_config, load_config_text
from drivers.dahdi.zones import TONE_ZONES

GOOD = textwrap.dedent("""\
    node:
      name: test-box
    dahdi:
      device: sim:///tmp/qbox-sim
      loadzones: [cn, us]
      defaultzone: cn
    spans:
      - number: 1
        type: e1
        framing: ccs
        coding: hdb3
        crc4: true
        timing: 1
        signalling: pri_cpe
        switchtype: euroisdn
        dchannel: 16
      - number: 2
        type: t1
        framing: esf
        coding: b8zs
        timing: 2
        signalling: pri_net
        switchtype: ni2
        dchannel: 24
    fxs:
      - name: agents
        channels: 56-59
""")


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "box.yaml")
    return info.value.lines()


def mutate(old: str, new: str, count: int = 1) -> str:
    assert GOOD.count(old) >= count, f"test setup: {old!r} not in the good config"
    return GOOD.replace(old, new, count)


def test_the_good_configuration_loads_with_dahdi_channel_numbering():
    config = load_config_text(GOOD, "box.yaml")
    assert [s.first_channo for s in config.spans] == [1, 32]
    assert config.span(1).dchannel_channo == 16
    assert config.span(2).dchannel_channo == 55
    assert config.span(2).bchannel_channos == tuple(range(32, 55))
    assert config.fxs[0].channels == (56, 57, 58, 59)
    assert config.source == "box.yaml"


# (mutation, the exact error line expected)
MISTAKES = {
    "yaml syntax": (("  name: test-box\n", "  name: [test-box\n"),
                    "box.yaml:3:6: YAML syntax: expected ',' or ']', but got ':'"),
    "wrong type": (("  - number: 2\n", "  - number: two\n"),
                   "box.yaml:17:5: spans[1].number: expected an integer, got string 'two'"),
    "unknown key with suggestion": (("    timing: 2\n", "    timming: 2\n"),
                                    "box.yaml:21:5: spans[1].timming: unknown key 'timming'; did you mean 'timing'?"),
    "unknown top-level section": (("fxs:\n", "fxo:\n"),
                                  "box.yaml:25:1: fxo: unknown key 'fxo'; did you mean 'fxs'?"),
    "out of range": (("    timing: 1\n", "    timing: 1\n    lbo: 9\n"),
                     "box.yaml:14:5: spans[0].lbo: 9 is out of range (0 to 7)"),
    "not one of the choices": (("framing: esf", "framing: cas4"),
                               "box.yaml:19:5: spans[1].framing: 'cas4' is not one of ccs, cas, d4, esf"),
    "missing required key": (("    switchtype: ni2\n", ""),
                             "box.yaml:17:5: spans[1]: required key 'switchtype' is missing"),
    "duplicate span number": (("  - number: 2\n", "  - number: 1\n"),
                              "box.yaml:17:5: spans[1].number: span 1 is defined twice"),
    "d-channel timeslot does not exist": (("dchannel: 24", "dchannel: 25"),
                                          "box.yaml:24:5: spans[1].dchannel: timeslot 25 does not exist on an T1 span (1-24)"),
    "d-channel not where PRI puts it": (("dchannel: 16", "dchannel: 1"),
                                        "box.yaml:16:5: spans[0].dchannel: ISDN PRI on E1 carries the D-channel on timeslot 16, not 1"),
    "framing of the other line type": (("framing: esf", "framing: ccs"),
                                       "box.yaml:19:5: spans[1].framing: 'ccs' is not a framing for T1 (use d4 or esf)"),
    "line code of the other line type": (("coding: b8zs", "coding: hdb3"),
                                         "box.yaml:20:5: spans[1].coding: 'hdb3' is not a line code for T1 (use b8zs or ami)"),
    "crc4 on t1": (("    timing: 2\n", "    timing: 2\n    crc4: true\n"),
                   "box.yaml:22:5: spans[1].crc4: CRC-4 multiframing exists only on E1"),
    "cas cannot carry pri": (("framing: ccs", "framing: cas"),
                             "box.yaml:10:5: spans[0].framing: 'cas' framing cannot carry ISDN PRI (pri_cpe); use ccs"),
    "duplicate yaml key": (("    coding: hdb3\n", "    coding: hdb3\n    coding: ami\n"),
                           "box.yaml:12:5: spans[0].coding: duplicate key 'coding' (the later one would silently win)"),
    "fxs channel inside a span": (("channels: 56-59", "channels: 50-59"),
                                  "box.yaml:27:5: fxs[0].channels: channel 50 belongs to a span (spans use channels 1-55)"),
    "bad channel range": (("channels: 56-59", "channels: 59-56"),
                          "box.yaml:27:5: fxs[0].channels: '59-56' is not a valid range (channels start at 1, low before high)"),
    "default zone not loaded": (("defaultzone: cn", "defaultzone: de"),
                                "box.yaml:6:3: dahdi.defaultzone: 'de' is not among loadzones (cn, us)"),
    "unknown tone zone": (("loadzones: [cn, us]", "loadzones: [cn, xx]"),
                          "box.yaml:5:19: dahdi.loadzones[1]: 'xx' is not a DAHDI tone zone (" + ", ".join(sorted(TONE_ZONES)) + ")"),
    "a zone DAHDI's zonedata lacks": (("loadzones: [cn, us]", "loadzones: [cn, hk]"),
                                      "box.yaml:5:19: dahdi.loadzones[1]: 'hk' is not a DAHDI tone zone (" + ", ".join(sorted(TONE_ZONES)) + ")"),
    "same timing priority twice": (("    timing: 2\n", "    timing: 1\n"),
                                   "box.yaml:21:5: spans[1].timing: timing priority 1 is already given to span 1"),
    "unknown device scheme": (("device: sim:///tmp/qbox-sim", "device: /dev/dahdi"),
                              "box.yaml:4:3: dahdi.device: '/dev/dahdi' is not a DAHDI device URL (use dahdi://... or sim://...)"),
    "bad node name": (("name: test-box", "name: test_box"),
                      "box.yaml:2:3: node.name: 'test_box' is not a valid host name (letters, digits and '-', up to 63)"),
    "no spans": ((GOOD[GOOD.index("spans:"):GOOD.index("fxs:")], "spans: []\n"),
                 "box.yaml:7:1: spans: needs at least 1 item(s), got 0"),
    "spans out of order": (("  - number: 1\n", "  - number: 3\n"),
                           "box.yaml:17:5: spans[1].number: spans must be listed in number order (span 2 after span 3)"),
    "boolean expected": (("crc4: true", "crc4: sometimes"),
                         "box.yaml:12:5: spans[0].crc4: expected a boolean (true/false), got string 'sometimes'"),
    "dynamic span needs dchan": (("    dchannel: 16\n", "    dchannel: 16\n    dynamic: {driver: loc, address: '1:0'}\n"),
                                 "box.yaml:17:5: spans[0].dynamic: dynamic spans have no HDLC controller: set dchan_mode: dchan"),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_has_its_precise_message(name):
    (old, new), expected = MISTAKES[name]
    assert errors_of(mutate(old, new)) == [expected]


def test_every_error_is_reported_in_one_run():
    text = mutate("framing: esf", "framing: cas4")
    text = text.replace("    timing: 1\n", "    timing: 1\n    lbo: 9\n").replace("name: test-box", "name: test_box")
    lines = errors_of(text)
    assert len(lines) == 3
    assert [line.split(":")[1] for line in lines] == sorted([line.split(":")[1] for line in lines], key=int)
    assert any("spans[1].framing" in line for line in lines)
    assert any("spans[0].lbo" in line for line in lines)
    assert any("node.name" in line for line in lines)


def test_a_file_that_is_not_a_mapping():
    assert errors_of("- just\n- a list\n") == ["box.yaml:1:1: expected a mapping, got a list"]


def test_unreadable_file_is_one_line_bad_input(tmp_path):
    from appliance.errors import BadInput

    with pytest.raises(BadInput, match=r"nope\.yaml: cannot read: No such file or directory"):
        load_config(tmp_path / "nope.yaml")


def test_merge_keys_and_anchors_are_followed():
    text = GOOD.replace("  - number: 2\n    type: t1\n", "  - &t1\n    number: 2\n    type: t1\n")
    config = load_config_text(text, "box.yaml")
    assert config.span(2).type == "t1"


def test_examples_are_valid():
    for name in ("examples/branch.yaml", "examples/t1.yaml"):
        config = load_config(name)
        assert config.spans


SECTIONS = GOOD + textwrap.dedent("""\
    queues:
      - {name: trading, strategy: rrmemory, timeout: 15}
      - {name: general, exit_keys: "0"}
    agents:
      - {id: "1001", queues: [{queue: trading, penalty: 0}, {queue: general, penalty: 1}]}
    ivr:
      nodes:
        main: {kind: menu, prompt: welcome, options: {"1": {queue: trading}}}
    alarms:
      tower: "tcp://127.0.0.1:10000"
    """)


def test_queue_agent_ivr_and_alarm_sections_load():
    config = load_config_text(SECTIONS, "box.yaml")
    assert [q.name for q in config.queues] == ["trading", "general"]
    assert config.agents[0].queues[1].penalty == 1
    assert config.alarms.tower == "tcp://127.0.0.1:10000"


@pytest.mark.parametrize("old, new, expected", [
    ("{queue: general, penalty: 1}", "{queue: sales, penalty: 1}",
     ["box.yaml:32:58: agents[0].queues[1].queue: queue 'sales' is not defined in queues"]),
    ("{queue: trading}}}", "{queue: trade}}}",
     ["box.yaml:35:57: ivr.nodes.main.options.1.queue: queue 'trade' is not defined in queues"]),
    ("- {name: general,", "- {name: trading,",
     ["box.yaml:30:6: queues[1].name: queue 'trading' is defined twice",
      "box.yaml:32:58: agents[0].queues[1].queue: queue 'general' is not defined in queues"]),
    ('exit_keys: "0"', 'exit_keys: "0X"',
     ["box.yaml:30:5: queues[1]: queue 'general': exit_keys: 'X' are not DTMF digits"]),
])
def test_cross_section_mistakes(old, new, expected):
    assert SECTIONS.count(old) == 1
    with pytest.raises(ConfigError) as info:
        load_config_text(SECTIONS.replace(old, new), "box.yaml")
    assert info.value.lines() == expected
