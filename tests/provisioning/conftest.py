"""A fleet of branch boxes for provisioning tests: real sshd processes on 127.0.0.1.

Each box is an sshd with its own host key and port, and its own install prefix
(``--root``-style ``vars.root``) in the test's directory.  The boxes have no systemd, so
the inventory replaces the service-manager commands (handlers, service check,
switch-over) with ones that append ``NAME EVENT`` lines to one events file: the tests
read it to see what ran where, how often and in which order.

The qbox wheel is built once per test session from a frozen copy of this checkout (so
other people's edits during a run cannot change the release under a test), into a
cache shared by the session's tests.
"""
from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sysconfig
import threading
from pathlib import Path

import pytest
import yaml

from provisioning.release import ReleaseBuilder
from tests.provisioning.sshd import Sshd, keygen

REPO = Path(__file__).resolve().parents[2]
BOXES = {"leeds-a": ("north", "leeds", "primary"), "leeds-b": ("north", "leeds", "standby"),
         "bristol-1": ("south", "bristol", "primary")}
# Switch-over keeps its default (`qbox ha switchover`, not in any release yet) unless a test sets it.
EVENT_COMMANDS = ("qbox-restart", "qbox-reload", "dahdi-restart", "systemd-reload", "udev-reload")

BASE_CONFIG = """\
# Test base: one E1 PRI trunk span on the simulator.
dahdi:
  device: sim:///run/qbox/sim
  loadzones: [uk]
  defaultzone: uk
spans:
  - number: 1
    name: exchange
    type: e1
    framing: ccs
    coding: hdb3
    crc4: true
    timing: 1
    signalling: pri_cpe
    switchtype: euroisdn
    dchannel: 16
"""


@pytest.fixture(scope="session")
def qbox_source(tmp_path_factory) -> Path:
    """A frozen copy of this checkout's files, as git sees them."""
    target = tmp_path_factory.mktemp("qbox-source")
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    # `make test` builds the kernels in place first; bring them along (times kept) so the
    # wheel build reuses them as it would in a technician's checkout.
    listed += [str(p.relative_to(REPO)) for p in (REPO / "cython_ext").glob("*.c")]
    listed += [str(p.relative_to(REPO)) for p in (REPO / "cython_ext").glob(f"*{sysconfig.get_config_var('EXT_SUFFIX')}")]
    for rel in filter(None, listed):
        source = REPO / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    return target


def variant(base: Path, directory: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the checkout ``base`` with ``{file: (old, new)}`` text replacements."""
    shutil.copytree(base, directory)
    for rel, (old, new) in edits.items():
        text = (directory / rel).read_text()
        assert old in text, f"{rel} no longer contains {old!r}: update this test's variant"
        (directory / rel).write_text(text.replace(old, new, 1))
    return directory


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory, qbox_source) -> Path:
    """The session's wheel cache, with the frozen checkout's wheel already built.

    Under pytest-xdist the workers share one cache (the builder locks it), so the wheel
    is built once per run, not once per worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        cache = tmp_path_factory.getbasetemp().parent / "qbox-wheel-cache"
    else:
        cache = tmp_path_factory.mktemp("wheel-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QBOX_PROVISION_CACHE", str(cache))
        ReleaseBuilder(qbox_source, cache).wheel()
        yield cache


@pytest.fixture(scope="session")
def client_key(tmp_path_factory) -> Path:
    key = tmp_path_factory.mktemp("client") / "client_ed25519"
    keygen(key)
    return key


class Fleet:
    """Three boxes (a leeds pair and bristol-1), their inventory, and a way to run qbox."""

    def __init__(self, directory: Path, client_key: Path, source: Path, run_qbox) -> None:
        self.directory = directory
        self.client_key = client_key
        self.source = source
        self.run_qbox = run_qbox
        self.events_file = directory / "events.log"
        self.events_file.touch()
        authorized = directory / "authorized_keys"
        authorized.write_text(client_key.with_suffix(".pub").read_text())
        self.sshd = {name: Sshd(directory / "sshd" / name, authorized) for name in BOXES}
        self.inventory = directory / "inventory.yaml"
        self.known_hosts = directory / "known_hosts"
        (directory / "base.yaml").write_text(BASE_CONFIG)
        self.branch_config: dict = {"leeds": {}, "bristol": {}}
        self.command_overrides: dict[str, str] = {}
        self.box_vars: dict[str, dict] = {}
        self.checks = ["release", "config", "service"]   # no DAHDI, tower or store on these boxes

    def start(self) -> None:
        for sshd in self.sshd.values():
            sshd.start()
        self.pin_host_keys()
        self.write_inventory()

    def stop(self) -> None:
        for sshd in self.sshd.values():
            sshd.stop()

    def pin_host_keys(self) -> None:
        self.known_hosts.write_text("".join(s.known_hosts_line + "\n" for s in self.sshd.values()))

    def root(self, name: str) -> Path:
        return self.directory / "boxes" / name

    def write_inventory(self) -> None:
        log = self.events_file
        commands = {name: f"echo '{{name}} {name}' >> {log}" for name in EVENT_COMMANDS}
        commands["qbox-restart"] += " && touch {root}/var/lib/qbox/running"
        commands["service-check"] = "test -f {root}/var/lib/qbox/running"
        commands.update(self.command_overrides)
        regions: dict = {}
        for name, (region, branch, role) in BOXES.items():
            entry = {"host": "127.0.0.1", "port": self.sshd[name].port, "role": role}
            if branch == "leeds":
                entry["pair"] = "leeds"
            if name in self.box_vars:
                entry["vars"] = self.box_vars[name]
            branches = regions.setdefault(region, {"branches": {}})["branches"]
            branch_entry = branches.setdefault(branch, {"boxes": {}})
            if self.branch_config[branch]:
                branch_entry["config"] = self.branch_config[branch]
            branch_entry["boxes"][name] = entry
        document = {
            "known_hosts": "known_hosts",
            "ssh": {"user": getpass.getuser(), "key": str(self.client_key), "connect_timeout": 5},
            "config_file": "base.yaml",
            "vars": {"python": "/usr/bin/python3", "root": str(self.directory / "boxes" / "{name}"),
                     "sound": "file:///var/lib/qbox/sound", "commands": commands, "checks": self.checks},
            "regions": regions,
        }
        self.inventory.write_text(yaml.safe_dump(document, sort_keys=False))

    def provision(self, *args: str, json_output: bool = True, source: Path | None = None):
        """``qbox provision ... ARGS``; returns (exit status, parsed JSON or text, stderr)."""
        argv = ["provision", "--inventory", str(self.inventory), "--source", str(source or self.source)]
        argv += ["--json"] if json_output else []
        status, out, err = self.run_qbox(*argv, *args)
        return status, (json.loads(out) if json_output and out.strip() else out), err

    def events(self) -> list[str]:
        return self.events_file.read_text().splitlines()

    def clear_events(self) -> None:
        self.events_file.write_text("")


@pytest.fixture
def fleet(tmp_path, client_key, qbox_source, wheel_cache, run_qbox):
    fleet = Fleet(tmp_path, client_key, qbox_source, run_qbox)
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()


def statuses(report: dict, step: str | None = None) -> dict[str, str]:
    """``{host: status}`` of the whole host, or of one step."""
    if step is None:
        return {h["name"]: h["status"] for h in report["hosts"]}
    return {h["name"]: next((s["status"] for s in h["steps"] if s["name"] == step), "-") for h in report["hosts"]}


def in_thread(target, *args):
    """Start ``target(*args)`` in a thread; returns (thread, result list)."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target(*args)), daemon=True)
    thread.start()
    return thread, result
