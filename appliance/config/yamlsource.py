"""YAML parsed into plain Python data plus where every key and value stood in the file.

PyYAML's ``safe_load`` forgets positions; configuration errors must name the line and
column, so we compose the node tree ourselves and record a :class:`Mark` for each path.
A path is a tuple of mapping keys and sequence indexes, e.g. ``("spans", 1, "framing")``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Mark", "YamlSource", "YamlSyntaxError", "parse_yaml", "format_path"]

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Mark:
    line: int    # 1-based
    column: int  # 1-based


class YamlSyntaxError(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass
class YamlSource:
    """The parsed document and the positions of its keys and values."""

    data: Any
    key_marks: dict[Path, Mark] = field(default_factory=dict)
    value_marks: dict[Path, Mark] = field(default_factory=dict)
    duplicates: list[tuple[Path, Mark]] = field(default_factory=list)

    def mark(self, path: Path) -> Mark:
        """Where to point for an error at ``path``: its key, else its value, else its parent."""
        while True:
            if path in self.key_marks:
                return self.key_marks[path]
            if path in self.value_marks:
                return self.value_marks[path]
            if not path:
                return Mark(1, 1)
            path = path[:-1]


def format_path(path: Path) -> str:
    """``("spans", 1, "framing")`` -> ``spans[1].framing``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_yaml(text: str) -> YamlSource:
    """Parse one YAML document; YamlSyntaxError carries the position of the problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise YamlSyntaxError(where, exc.problem or str(exc)) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Mark(1, 1), str(exc)) from None
    source = YamlSource(data=None)
    if node is not None:
        source.data = _Walker(source).walk(node, ())
    return source


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    def __init__(self, source: YamlSource) -> None:
        self.source = source
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def walk(self, node: yaml.Node, path: Path) -> Any:
        self.source.value_marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as exc:
                raise YamlSyntaxError(_mark(node), exc.problem or str(exc)) from None
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(child, path + (i,)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)  # resolve "<<" merge keys
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlSyntaxError(_mark(key_node), "a mapping key must be a plain scalar")
                key = self.constructor.construct_object(key_node, deep=True)
                if key in result:
                    self.source.duplicates.append((path + (key,), _mark(key_node)))
                self.source.key_marks[path + (key,)] = _mark(key_node)
                result[key] = self.walk(value_node, path + (key,))
            return result
        raise YamlSyntaxError(_mark(node), f"unsupported YAML node {type(node).__name__}")
