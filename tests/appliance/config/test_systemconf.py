import textwrap

from appliance.config import load_config, load_config_text, render_system_conf


def directives(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_branch_e1_pri_spans_and_fxs():
    lines = directives(render_system_conf(load_config("examples/branch.yaml")))
    assert lines == [
        "span=1,1,0,ccs,hdb3,crc4", "bchan=1-15,17-31", "hardhdlc=16", "echocanceller=mg2,1-15,17-31",
        "span=2,2,0,ccs,hdb3,crc4", "bchan=32-46,48-62", "hardhdlc=47", "echocanceller=mg2,32-46,48-62",
        "span=3,0,0,ccs,hdb3,crc4", "bchan=63-77,79-93", "hardhdlc=78", "echocanceller=mg2,63-77,79-93",
        "fxoks=94-97", "echocanceller=mg2,94-97",
        "loadzone=cn", "loadzone=us", "defaultzone=cn",
    ]


def test_t1_has_no_crc4_and_d_channel_on_24():
    lines = directives(render_system_conf(load_config("examples/t1.yaml")))
    assert lines[:3] == ["span=1,1,0,esf,b8zs", "bchan=1-23", "hardhdlc=24"]


def test_dynamic_local_spans_cross_connected_without_echo_canceller():
    config = load_config_text(textwrap.dedent("""\
        node: {name: qemu-guest}
        dahdi: {device: "dahdi:///dev/dahdi", echocanceller: null}
        spans:
          - {number: 1, type: e1, framing: ccs, coding: hdb3, signalling: pri_net, switchtype: euroisdn,
             dchannel: 16, dchan_mode: dchan, dynamic: {driver: loc, address: "1:0", timing: 0}}
          - {number: 2, type: e1, framing: ccs, coding: hdb3, signalling: pri_cpe, switchtype: euroisdn,
             dchannel: 16, dchan_mode: dchan, dynamic: {driver: loc, address: "1:1", timing: 0}}
        """), "guest.yaml")
    lines = directives(render_system_conf(config))
    assert lines == [
        "dynamic=loc,1:0,31,0", "bchan=1-15,17-31", "dchan=16",
        "dynamic=loc,1:1,31,0", "bchan=32-46,48-62", "dchan=47",
        "loadzone=us", "defaultzone=us",
    ]
