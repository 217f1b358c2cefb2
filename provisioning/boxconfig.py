"""A box's ``/etc/qbox/qbox.yaml``: base file plus inventory layers, checked by the box's loader.

Layers merge mapping by mapping; any other value (a list of spans, a number) replaces
what was below it.  Every value remembers the file and line it came from, so an error
found by :func:`appliance.config.load_config_text` in the merged document is reported
where the technician wrote the value, not in a file that exists only in memory.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import yaml

from appliance.config import BoxConfig, ConfigError, ConfigIssue, load_config_text
from appliance.config.yamlsource import Mark, YamlSource, format_path
from provisioning.layout import CONFIG

__all__ = ["ConfigLayer", "render_box_config"]

_Path = tuple[Any, ...]
_Origin = tuple[str, Mark, _Path]   # file, position, path inside that file

HEADER = ("# {path} for {name} ({branch}), written by qbox provision.\n"
          "# Edit the inventory, not this file: the next apply replaces it.\n")


@dataclass(frozen=True)
class ConfigLayer:
    """One mapping of box configuration and where it sits in its YAML file."""

    filename: str
    source: YamlSource
    at: _Path        # path of ``data`` inside ``source``
    data: dict[str, Any]

    def origin(self, path: _Path) -> _Origin:
        return self.filename, self.source.mark(self.at + path), self.at + path


def render_box_config(name: str, branch: str, base: ConfigLayer | None, layers: list[ConfigLayer],
                      anchor: tuple[str, Mark]) -> tuple[str, BoxConfig]:
    """Merge ``base`` (a box YAML file) and the inventory's ``layers`` (lowest first) into
    the box YAML text and validate it.

    ``node.name`` is the box name unless an inventory layer sets it (a base file's name
    is shared by many boxes, so it never wins); ``node.site`` defaults to the branch.
    Raises ConfigError whose issues point into the files that set each value
    (``anchor``, the box's entry, for what no layer wrote), each message ending in
    ``(box NAME)``.
    """
    data: dict[str, Any] = {}
    origins: dict[_Path, _Origin] = {}
    if base is not None:
        _overlay(data, base.data, (), base, origins)
    node = data.get("node") if isinstance(data.get("node"), dict) else {}
    data = {**data, "node": {**node, "name": name, "site": node.get("site") or branch}}
    origins[("node", "name")] = (anchor[0], anchor[1], ())
    for layer in layers:
        _overlay(data, layer.data, (), layer, origins)
    text = HEADER.format(path=CONFIG, name=name, branch=branch) + yaml.safe_dump(
        data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    try:
        config = load_config_text(text, CONFIG)
    except ConfigError as exc:
        raise ConfigError([_relocate(issue, origins, anchor, name) for issue in exc.issues]) from None
    return text, config


def _overlay(target: dict, over: dict, path: _Path, layer: ConfigLayer,
             origins: dict[_Path, _Origin]) -> None:
    for key, value in over.items():
        here = path + (key,)
        origins[here] = layer.origin(here)
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _overlay(target[key], value, here, layer, origins)
            continue
        for stale in [p for p in origins if p[:len(here)] == here and p != here]:
            del origins[stale]
        target[key] = copy.deepcopy(value)
        _record(value, here, layer, origins)


def _record(value: Any, path: _Path, layer: ConfigLayer, origins: dict[_Path, _Origin]) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        origins[path + (key,)] = layer.origin(path + (key,))
        _record(item, path + (key,), layer, origins)


def _relocate(issue: ConfigIssue, origins: dict[_Path, _Origin], anchor: tuple[str, Mark],
              box: str) -> ConfigIssue:
    """Point ``issue`` (found in the merged text) at the file and line that set the value."""
    by_text = {format_path(p): origin for p, origin in origins.items()}
    wanted = issue.path
    while wanted and wanted not in by_text:
        wanted = wanted[:max(wanted.rfind("."), wanted.rfind("["), 0)]
    message = f"{issue.message} (box {box})"
    if wanted:
        filename, mark, in_file = by_text[wanted]
        suffix = issue.path[len(wanted):]
        path = format_path(in_file) + suffix if in_file else issue.path
        return ConfigIssue(mark.line, mark.column, filename, path, message)
    filename, mark = anchor
    return ConfigIssue(mark.line, mark.column, filename, issue.path, message)
