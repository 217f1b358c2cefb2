"""The inventory: regions, branches and their boxes, variables, and pinned SSH host keys.

The file (see ``examples/inventory.yaml``)::

    known_hosts: inventory.known_hosts   # pinned host keys, next to this file
    ssh: {user: root, port: 22, key: ~/.ssh/qbox_ed25519, connect_timeout: 10}
    config_file: boxes/base.yaml         # the box YAML every box starts from
    vars: {...}                          # provisioning variables (see Vars)
    config: {...}                        # box YAML overrides for every box
    regions:
      north:
        vars/config/config_file          # the same three keys at every level
        branches:
          leeds:
            boxes:
              leeds-a: {host: 10.1.0.10, role: primary, pair: leeds}
              leeds-b: {host: 10.1.0.11, role: standby, pair: leeds}

``vars`` and ``config`` are layered inventory < region < branch < box: a variable set
lower wins; ``config`` mappings merge key by key and lists (spans, agents) are replaced
whole.  The nearest ``config_file`` is the base the ``config`` layers go on.  Each box's
configuration is validated with the box's own loader (:mod:`appliance.config`) at load
time, so a broken inventory stops with ``FILE:LINE:COL: field: message`` lines before
any host is touched.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import paramiko

from appliance.config import BoxConfig, ConfigError, ConfigIssue
from appliance.config.validate import INVALID, build
from appliance.config.yamlsource import Mark, YamlSource, YamlSyntaxError, format_path, parse_yaml
from appliance.errors import BadInput
from provisioning.boxconfig import ConfigLayer, render_box_config
from provisioning.commands import DEFAULT_COMMANDS, check_placeholders

__all__ = ["Box", "Inventory", "InventoryError", "Vars", "load_inventory"]

Path_ = tuple[Any, ...]


class InventoryError(ConfigError):
    """The inventory is invalid; ``issues`` lists every problem, each with file:line:col."""


@dataclass(frozen=True)
class Vars:
    """Provisioning variables; ``None`` means "not set at this level" (inherit)."""

    python: str | None = None          # the interpreter on the box the qbox venv is made from
    root: str | None = None            # install prefix; "{name}" gives each box its own
    sound: str | None = None           # alsa://CARD (a sound card) or file:///DIR (ALSA file plugin)
    tower_usb: str | None = None       # USB vendor:product of the signal tower, for the udev rule
    tower_subsystem: Literal["hidraw", "tty"] | None = None
    keep_releases: int | None = field(default=None, metadata={"min": 2, "max": 20})
    checks: tuple[Literal["release", "config", "service", "spans", "alarms", "tower", "heartbeat"], ...] | None = None
    commands: dict[str, str] | None = None   # handler and check commands (see provisioning.commands)

    def config_checks(self) -> Iterator[tuple[tuple, str]]:
        if self.tower_usb is not None and not _is_usb_id(self.tower_usb):
            yield ("tower_usb",), f"{self.tower_usb!r} is not a USB id like '191a:8003'"
        if self.sound is not None and not self.sound.startswith(("alsa://", "file:///")):
            yield ("sound",), f"{self.sound!r} is neither alsa://CARD nor file:///DIRECTORY"
        for name, command in (self.commands or {}).items():
            if name not in DEFAULT_COMMANDS:
                yield ("commands", name), f"unknown command {name!r} (known: {', '.join(DEFAULT_COMMANDS)})"
            else:
                problem = check_placeholders(command)
                if problem:
                    yield ("commands", name), problem
        if self.root is not None:
            problem = check_placeholders(self.root)
            if problem or not self.root.startswith("/"):
                yield ("root",), problem or f"{self.root!r} is not an absolute path"


@dataclass(frozen=True)
class SshDefaults:
    user: str = "root"
    port: int = field(default=22, metadata={"min": 1, "max": 65535})
    key: str | None = None
    connect_timeout: float = field(default=10.0, metadata={"min": 0.1, "max": 300})


@dataclass(frozen=True, kw_only=True)
class _Level:
    """What every level (the file, a region, a branch, a box) may set for the boxes below."""

    config_file: str | None = None
    vars: Vars = field(default_factory=Vars)
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BoxEntry(_Level):
    host: str
    role: Literal["primary", "standby"] = "primary"
    pair: str | None = None
    port: int | None = field(default=None, metadata={"min": 1, "max": 65535})
    user: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class BranchEntry(_Level):
    boxes: dict[str, BoxEntry]


@dataclass(frozen=True)
class RegionEntry(_Level):
    branches: dict[str, BranchEntry]


@dataclass(frozen=True)
class InventoryDocument(_Level):
    """The schema of the whole file (validated by :func:`appliance.config.validate.build`)."""

    known_hosts: str
    regions: dict[str, RegionEntry]
    ssh: SshDefaults = field(default_factory=SshDefaults)


_VAR_DEFAULTS = Vars(python="/usr/bin/python3", root="/", sound="alsa://0", tower_usb="191a:8003",
                     tower_subsystem="hidraw", keep_releases=3, commands={},
                     checks=("release", "config", "service", "spans", "alarms", "tower", "heartbeat"))


@dataclass(frozen=True)
class Box:
    """One box, with everything resolved: where to reach it and what it should run."""

    name: str
    region: str
    branch: str
    host: str
    port: int
    user: str
    key: str | None
    role: Literal["primary", "standby"]
    pair: str | None
    vars: Vars                   # every field set (defaults filled in)
    commands: dict[str, str]     # DEFAULT_COMMANDS with the inventory's overrides
    config_text: str             # the rendered /etc/qbox/qbox.yaml
    config: BoxConfig
    connect_timeout: float = 10.0

    @property
    def root(self) -> str:
        return self.vars.root.format(name=self.name, branch=self.branch, region=self.region)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def with_root(self, root: str) -> "Box":
        """The same box provisioned below another install prefix (``--root``)."""
        return dataclasses.replace(self, vars=dataclasses.replace(self.vars, root=root))


@dataclass(frozen=True)
class Inventory:
    path: Path
    known_hosts: Path
    boxes: tuple[Box, ...]

    def box(self, name: str) -> Box:
        for box in self.boxes:
            if box.name == name:
                return box
        raise KeyError(name)

    def partner(self, box: Box) -> Box | None:
        """The other box of ``box``'s pair, if it has one."""
        if box.pair is None:
            return None
        return next((b for b in self.boxes if b.pair == box.pair and b.name != box.name), None)

    def select(self, limit: str | None) -> tuple[Box, ...]:
        """Boxes matching ``--limit``: comma-separated shell patterns on box, branch or
        region names; ``!pattern`` excludes.  BadInput if nothing matches."""
        if not limit:
            return self.boxes
        patterns = [p.strip() for p in limit.split(",") if p.strip()]
        include = [p for p in patterns if not p.startswith("!")]
        exclude = [p[1:] for p in patterns if p.startswith("!")]

        def hits(box: Box, pats: list[str]) -> bool:
            return any(fnmatch.fnmatchcase(n, p) for p in pats for n in (box.name, box.branch, box.region))

        chosen = tuple(b for b in self.boxes if (not include or hits(b, include)) and not hits(b, exclude))
        if not chosen:
            raise BadInput(f"--limit {limit!r} matches no box in {self.path}")
        return chosen


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Read and validate an inventory; InventoryError lists every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: byte {exc.start}: not UTF-8 text") from None
    filename = str(path)
    try:
        source = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise InventoryError([ConfigIssue(exc.mark.line, exc.mark.column, filename, "",
                                          f"YAML syntax: {exc.message}")]) from None
    document, issues = build(InventoryDocument, source, filename)
    if document is INVALID:
        raise InventoryError(issues)
    return _Resolver(path, source, document).resolve()


def _merge_box_issues(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """One issue per place: a base-file mistake shared by boxes names them all once."""
    boxes: dict[tuple, list[str]] = {}
    for issue in issues:
        message, marker, box = issue.message.rpartition(" (box ")
        if marker and box.endswith(")"):
            key = (issue.line, issue.column, issue.file, issue.path, message)
            boxes.setdefault(key, []).append(box[:-1])
        else:
            boxes.setdefault((issue.line, issue.column, issue.file, issue.path, issue.message), [])
    merged = []
    for (line, column, file, path, message), names in boxes.items():
        if names:
            message += f" (box{'es' if len(names) > 1 else ''} {', '.join(names)})"
        merged.append(ConfigIssue(line, column, file, path, message))
    return sorted(merged)


def _is_usb_id(text: str) -> bool:
    vendor, colon, product = text.partition(":")
    return bool(colon) and all(len(p) == 4 and all(c in "0123456789abcdefABCDEF" for c in p)
                               for p in (vendor, product))


class _Resolver:
    """Cross-field rules of the whole file, then one resolved :class:`Box` per entry."""

    def __init__(self, path: Path, source: YamlSource, document: InventoryDocument) -> None:
        self.path = path
        self.filename = str(path)
        self.base_dir = path.parent
        self.source = source
        self.doc = document
        self.issues: list[ConfigIssue] = []

    def error(self, at: Path_, message: str, mark: Mark | None = None) -> None:
        mark = mark or self.source.mark(at)
        self.issues.append(ConfigIssue(mark.line, mark.column, self.filename, format_path(at), message))

    def resolve(self) -> Inventory:
        known_hosts = self._known_hosts()
        boxes = [self._box(*where) for where in self._entries()]
        self._check_names_and_pairs()
        if self.issues:
            raise InventoryError(_merge_box_issues(self.issues))
        return Inventory(self.path, known_hosts, tuple(b for b in boxes if b is not None))

    def _entries(self) -> Iterator[tuple[str, str, str, RegionEntry, BranchEntry, BoxEntry]]:
        for region_name, region in self.doc.regions.items():
            for branch_name, branch in region.branches.items():
                for box_name, entry in branch.boxes.items():
                    yield region_name, branch_name, box_name, region, branch, entry

    def _file(self, text: str) -> Path:
        return (self.base_dir / os.path.expanduser(text)).resolve()

    def _known_hosts(self) -> Path:
        where = ("known_hosts",)
        known = self._file(self.doc.known_hosts)
        try:
            lines = known.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            self.error(where, f"cannot read pinned host keys {known}: {exc.strerror or exc}")
            return known
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
            except paramiko.hostkeys.InvalidHostKey as exc:
                entry, reason = None, f"bad key data ({exc.exc})"
            else:
                reason = "expected 'HOST[,HOST...] KEYTYPE BASE64KEY'"
            if entry is None:
                self.error(where, f"{known}:{number}: not a host key line: {reason}")
        return known

    def _box(self, region_name: str, branch_name: str, box_name: str, region: RegionEntry,
             branch: BranchEntry, entry: BoxEntry) -> Box | None:
        prefix = ("regions", region_name, "branches", branch_name, "boxes", box_name)
        levels = [((), self.doc), (("regions", region_name), region),
                  (("regions", region_name, "branches", branch_name), branch), (prefix, entry)]
        resolved = self._vars([level.vars for _, level in levels])
        key = entry.key if entry.key is not None else self.doc.ssh.key
        key_path = None
        if key is not None:
            key_path = self._file(key)
            if not key_path.is_file():
                self.error(prefix + ("key",) if entry.key is not None else ("ssh", "key"),
                           f"SSH key {key_path} does not exist")
        if entry.role == "standby" and entry.pair is None:
            self.error(prefix + ("role",), "a standby box needs a 'pair' naming its primary's pair")
        base = next(((at, level.config_file) for at, level in reversed(levels) if level.config_file), None)
        layers = [ConfigLayer(self.filename, self.source, at + ("config",), level.config)
                  for at, level in levels if level.config]
        base_layer = None
        if base is not None:
            base_layer = self._base_layer(base[0] + ("config_file",), self._file(base[1]))
            if base_layer is None:
                return None
        try:
            text, config = render_box_config(box_name, branch_name, base_layer, layers,
                                             anchor=(self.filename, self.source.mark(prefix)))
        except ConfigError as exc:
            self.issues.extend(exc.issues)
            return None
        return Box(
            name=box_name, region=region_name, branch=branch_name, host=entry.host,
            port=entry.port if entry.port is not None else self.doc.ssh.port,
            user=entry.user if entry.user is not None else self.doc.ssh.user,
            key=str(key_path) if key_path else None, role=entry.role, pair=entry.pair,
            vars=resolved, commands={**DEFAULT_COMMANDS, **(resolved.commands or {})},
            config_text=text, config=config, connect_timeout=self.doc.ssh.connect_timeout,
        )

    def _base_layer(self, at: Path_, file: Path) -> ConfigLayer | None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.error(at, f"cannot read box configuration {file}: {getattr(exc, 'strerror', None) or exc}")
            return None
        try:
            source = parse_yaml(text)
        except YamlSyntaxError as exc:
            self.issues.append(ConfigIssue(exc.mark.line, exc.mark.column, str(file), "",
                                           f"YAML syntax: {exc.message}"))
            return None
        if not isinstance(source.data, dict):
            self.error(at, f"{file} does not hold a mapping (a box configuration)")
            return None
        return ConfigLayer(str(file), source, (), source.data)

    @staticmethod
    def _vars(levels: Iterable[Vars]) -> Vars:
        merged = _VAR_DEFAULTS
        for level in levels:
            changes = {f.name: getattr(level, f.name) for f in dataclasses.fields(Vars)
                       if getattr(level, f.name) is not None}
            if "commands" in changes:
                changes["commands"] = {**(merged.commands or {}), **changes["commands"]}
            merged = dataclasses.replace(merged, **changes)
        return merged

    def _check_names_and_pairs(self) -> None:
        seen_box: dict[str, Path_] = {}
        seen_branch: dict[str, Path_] = {}
        seen_address: dict[tuple[str, int], str] = {}
        pairs: dict[str, list[tuple[Path_, str, BoxEntry]]] = {}
        for region_name, branch_name, box_name, region, branch, entry in self._entries():
            at = ("regions", region_name, "branches", branch_name, "boxes", box_name)
            branch_at = at[:4]
            if branch_name in seen_branch and seen_branch[branch_name] != branch_at:
                self.error(branch_at, f"branch {branch_name!r} is also in region {seen_branch[branch_name][1]!r}")
            seen_branch.setdefault(branch_name, branch_at)
            if box_name in seen_box:
                self.error(at, f"box {box_name!r} is defined twice (also in branch {seen_box[box_name][3]!r})")
            seen_box.setdefault(box_name, at)
            address = (entry.host, entry.port if entry.port is not None else self.doc.ssh.port)
            if address in seen_address:
                self.error(at + ("host",), f"{address[0]}:{address[1]} is also box {seen_address[address]!r}")
            seen_address.setdefault(address, box_name)
            if entry.pair is not None:
                pairs.setdefault(entry.pair, []).append((at, branch_name, entry))
        for pair, members in pairs.items():
            at = members[-1][0] + ("pair",)
            if len(members) != 2:
                self.error(at, f"pair {pair!r} has {len(members)} box(es); a pair is exactly two")
            elif members[0][1] != members[1][1]:
                self.error(at, f"pair {pair!r} spans branches {members[0][1]!r} and {members[1][1]!r}")
            elif sorted(m[2].role for m in members) != ["primary", "standby"]:
                self.error(at, f"pair {pair!r} needs one primary and one standby")
