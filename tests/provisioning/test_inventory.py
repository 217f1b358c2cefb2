"""The inventory, the files rendered from it, and release naming: no SSH needed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provisioning.inventory import InventoryError, load_inventory
from provisioning.layout import SYSTEM_CONF, UNIT, Layout
from provisioning.release import ReleaseBuilder
from provisioning.render import render_files

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdtu9s34WG96l6yMbJGQ8sZ/RYJNxXzVNzPE0m27toz"


@pytest.fixture
def workdir(tmp_path):
    shutil.copy(EXAMPLES / "branch.yaml", tmp_path / "branch.yaml")
    (tmp_path / "known_hosts").write_text(f"10.0.0.1 {KEY_LINE}\n")
    return tmp_path


def write(directory: Path, text: str) -> Path:
    path = directory / "inventory.yaml"
    path.write_text(text)
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    return caught.value.lines()


def test_example_inventory_has_two_branches_one_a_pair():
    inventory = load_inventory(EXAMPLES / "inventory.yaml")
    boxes = {b.name: b for b in inventory.boxes}
    assert sorted({b.branch for b in boxes.values()}) == ["nyc-midtown", "sh-lujiazui"]
    first, second = boxes["sh-lujiazui-01"], boxes["sh-lujiazui-02"]
    assert (first.role, second.role, first.pair, second.pair) == ("primary", "standby", "lujiazui", "lujiazui")
    assert inventory.partner(first) == second and inventory.partner(boxes["nyc-midtown-01"]) is None
    # node.name is the box's own; the site comes from the base file; branch config is layered on.
    assert second.config.node.name == "sh-lujiazui-02"
    assert second.config.node.site == "Shanghai Lujiazui branch"
    assert second.config.dahdi.loadzones == ("cn",) and len(second.config.spans) == 3
    # vars: the box overrides the inventory, the region overrides the inventory.
    assert (first.vars.sound, second.vars.sound) == ("alsa://0", "file:///var/lib/qbox/sound")
    assert boxes["nyc-midtown-01"].vars.tower_subsystem == "tty"
    assert [s.number for s in boxes["nyc-midtown-01"].config.spans] == [1, 2]


def test_rendered_system_conf_is_what_qbox_config_dahdi_prints(run_qbox, tmp_path):
    box = load_inventory(EXAMPLES / "inventory.yaml").box("nyc-midtown-01")
    files = {f.path: f for f in render_files(box)}
    (tmp_path / "qbox.yaml").write_text(box.config_text)
    status, out, _ = run_qbox("config", "dahdi", str(tmp_path / "qbox.yaml"))
    assert status == 0
    expected = out.replace(str(tmp_path / "qbox.yaml"), "/etc/qbox/qbox.yaml")
    assert files[SYSTEM_CONF].content.decode() == expected
    assert "span=2,2,0,esf,b8zs" in expected


def test_root_prefixes_the_paths_inside_the_files():
    box = load_inventory(EXAMPLES / "inventory.yaml").box("sh-lujiazui-01").with_root("/srv/stage/{name}")
    assert box.root == "/srv/stage/sh-lujiazui-01"
    unit = next(f for f in render_files(box) if f.path == UNIT).content.decode()
    assert "ExecStart=/srv/stage/sh-lujiazui-01/opt/qbox/current/bin/qbox run --config " \
           "/srv/stage/sh-lujiazui-01/etc/qbox/qbox.yaml" in unit
    assert Layout("/").at("/etc/qbox") == "/etc/qbox"


def test_schema_errors_name_file_line_and_field(workdir):
    path = write(workdir, """\
known_hosts: known_hosts
ssh: {port: 0}
regions:
  north:
    branches:
      leeds:
        boxes:
          leeds-a: {host: 10.0.0.1, role: master}
          leeds-b: {hots: 10.0.0.2}
""")
    assert errors(path) == [
        f"{path}:2:7: ssh.port: 0 is out of range (1 to 65535)",
        f"{path}:8:37: regions.north.branches.leeds.boxes.leeds-a.role: 'master' is not one of primary, standby",
        f"{path}:9:11: regions.north.branches.leeds.boxes.leeds-b: required key 'host' is missing",
        f"{path}:9:21: regions.north.branches.leeds.boxes.leeds-b.hots: unknown key 'hots'; did you mean 'host'?",
    ]


def test_pairs_addresses_and_box_configuration_are_checked_where_written(workdir):
    (workdir / "branch.yaml").write_text((EXAMPLES / "branch.yaml").read_text().replace("lbo: 0", "lbo: 9"))
    path = write(workdir, """\
known_hosts: known_hosts
config_file: branch.yaml
regions:
  north:
    branches:
      leeds:
        config:
          dahdi: {defaultzone: xx}
        boxes:
          leeds-a: {host: 10.0.0.1, pair: leeds}
          leeds-b: {host: 10.0.0.1, role: standby, pair: leeds}
      york:
        boxes:
          york-1: {host: 10.0.0.3, role: standby}
""")
    base = workdir / "branch.yaml"
    assert errors(path) == [
        f"{path}:8:19: regions.north.branches.leeds.config.dahdi.defaultzone: 'xx' is not among loadzones "
        "(cn, us) (boxes leeds-a, leeds-b)",
        f"{path}:11:21: regions.north.branches.leeds.boxes.leeds-b.host: 10.0.0.1:22 is also box 'leeds-a'",
        f"{path}:14:36: regions.north.branches.york.boxes.york-1.role: a standby box needs a 'pair' naming "
        "its primary's pair",
        f"{base}:22:5: spans[0].lbo: 9 is out of range (0 to 7) (boxes leeds-a, leeds-b, york-1)",
    ]


def test_known_hosts_keys_and_commands_are_checked(workdir):
    (workdir / "known_hosts").write_text(f"10.0.0.1 {KEY_LINE}\nnot a key line\n")
    path = write(workdir, """\
known_hosts: known_hosts
ssh: {key: missing_key}
config_file: branch.yaml
regions:
  north: {branches: {leeds: {boxes: {leeds-a: {host: 10.0.0.1}}}}}
""")
    assert errors(path) == [
        f"{path}:1:1: known_hosts: {workdir / 'known_hosts'}:2: not a host key line: "
        "bad key data (Incorrect padding)",
        f"{path}:2:7: ssh.key: SSH key {workdir / 'missing_key'} does not exist",
    ]
    path.write_text(path.read_text().replace("ssh: {key: missing_key}", """\
vars:
  commands: {qbox-restart: "systemctl restart {unit}", reboot: "reboot"}"""))
    assert errors(path) == [
        f"{path}:3:14: vars.commands.qbox-restart: unknown placeholder {{unit}} (known: {{root}}, {{qbox}}, "
        "{config}, {name}, {branch}, {region})",
        f"{path}:3:56: vars.commands.reboot: unknown command 'reboot' (known: systemd-reload, udev-reload, "
        "dahdi-restart, qbox-restart, qbox-reload, service-check, ha-status, switchover)",
    ]


def test_limit_patterns():
    inventory = load_inventory(EXAMPLES / "inventory.yaml")
    names = lambda limit: [b.name for b in inventory.select(limit)]  # noqa: E731
    assert names(None) == ["sh-lujiazui-01", "sh-lujiazui-02", "nyc-midtown-01"]
    assert names("us-east") == ["nyc-midtown-01"]
    assert names("sh-*,!*-02") == ["sh-lujiazui-01"]
    assert names("nyc-midtown") == ["nyc-midtown-01"]


def test_release_is_named_by_content(tmp_path):
    source = tmp_path / "src"
    (source / "appliance").mkdir(parents=True)
    (source / "tests").mkdir()
    (source / "pyproject.toml").write_text("[project]\nname = 'qbox'\n")
    (source / "appliance" / "__init__.py").write_text('__version__ = "1.2.3"\n')
    (source / "tests" / "__init__.py").write_text("")
    (source / "tests" / "test_x.py").write_text("x = 1\n")
    first = ReleaseBuilder(source, tmp_path / "cache").release
    assert first.version == "1.2.3" and first.id.startswith("1.2.3-")
    assert sorted(first.files) == ["appliance/__init__.py", "pyproject.toml"]
    (source / "tests" / "test_x.py").write_text("x = 2\n")     # not in the wheel: same release
    assert ReleaseBuilder(source, tmp_path / "cache").release.id == first.id
    (source / "appliance" / "new.py").write_text("")
    assert ReleaseBuilder(source, tmp_path / "cache").release.id != first.id
