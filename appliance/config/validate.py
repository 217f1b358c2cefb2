"""Build frozen dataclasses from parsed YAML, collecting every error with its position.

The schema is the dataclasses themselves: a field's type hint says what it accepts
(``int``, ``float``, ``str``, ``bool``, ``Literal[...]``, ``X | None``, ``tuple[X, ...]``,
``dict[str, X]``, nested dataclasses) and its metadata adds limits:

- ``{"min": 0, "max": 7}`` bounds a number (inclusive);
- ``{"parse": func}`` converts the raw YAML value first (``func`` raises ValueError with
  the message to show), e.g. channel ranges written ``"1-15,17-31"``;
- ``{"yaml": "name"}`` reads the field from a differently named key;
- ``{"shorthand": func}`` turns a plain scalar written where a mapping is expected into
  that mapping (``next: main`` for ``next: {goto: main}``) before it is validated.

A dataclass may define ``config_checks(self)`` yielding ``(relative_path, message)`` for
rules that involve several fields; ``relative_path`` is a tuple below the object.
Errors never stop the walk, so one run reports every mistake in the file.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

from appliance.config.yamlsource import Mark, YamlSource, format_path
from appliance.errors import QboxError

__all__ = ["ConfigIssue", "build", "describe"]


@dataclass(frozen=True, order=True)
class ConfigIssue:
    line: int
    column: int
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _Unusable(AttributeError):
    """A cross-field rule touched a field that was itself invalid."""


class _Invalid:
    """Marks a value that failed; its error is already recorded.

    Any use of it (comparison, truth, iteration, arithmetic) raises, so a cross-field
    rule that depends on an invalid field stops instead of reporting a second error.
    """

    def __repr__(self) -> str:
        return "<invalid>"

    def _unusable(self, *args: Any) -> Any:
        raise _Unusable("invalid field")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _unusable
    __bool__ = __iter__ = __len__ = __contains__ = __getitem__ = _unusable
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unusable
    __int__ = __float__ = __index__ = _unusable
    __hash__ = object.__hash__

    def __getattr__(self, name: str) -> Any:
        raise _Unusable(name)


INVALID = _Invalid()

_TYPE_NAMES = {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "a string"}


def describe(value: Any) -> str:
    """How a YAML value reads in an error: ``string 'abc'``, ``integer 5``, ``a list``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def build(tp: type, source: YamlSource, filename: str) -> tuple[Any, list[ConfigIssue]]:
    """Build ``tp`` from ``source``; returns (object or INVALID, every issue found)."""
    builder = _Builder(source, filename)
    for path, mark in source.duplicates:
        builder.error(path, f"duplicate key {path[-1]!r} (the later one would silently win)", mark)
    value = builder.build(tp, source.data if source.data is not None else {}, ())
    return value, sorted(builder.issues)


def _item_metadata(metadata: dict) -> dict:
    """What a container's field metadata says about each of its items."""
    return {"shorthand": metadata["shorthand"]} if "shorthand" in metadata else {}


class _Builder:
    def __init__(self, source: YamlSource, filename: str) -> None:
        self.source = source
        self.filename = filename
        self.issues: list[ConfigIssue] = []

    def error(self, path: tuple, message: str, mark: Mark | None = None) -> _Invalid:
        mark = mark or self.source.mark(path)
        self.issues.append(ConfigIssue(mark.line, mark.column, self.filename, format_path(path), message))
        return INVALID

    def build(self, tp: Any, value: Any, path: tuple, metadata: Any = None) -> Any:
        metadata = metadata or {}
        if "shorthand" in metadata and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = metadata["shorthand"](value)
        if "parse" in metadata and value is not None:
            try:
                value = metadata["parse"](value)
            except ValueError as exc:
                return self.error(path, str(exc))
            return self._limits(value, path, metadata)
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            return self._dataclass(tp, value, path)
        if origin is Literal:
            return self._literal(typing.get_args(tp), value, path)
        if origin in (Union, types.UnionType):
            return self._union(typing.get_args(tp), value, path, metadata)
        if origin is tuple:
            return self._tuple(typing.get_args(tp), value, path, metadata)
        if origin is dict:
            return self._dict(typing.get_args(tp), value, path, metadata)
        if tp is Any:
            return value
        if tp in _TYPE_NAMES:
            return self._scalar(tp, value, path, metadata)
        raise TypeError(f"schema type {tp!r} at {format_path(path)} is not supported")

    def _scalar(self, tp: type, value: Any, path: tuple, metadata: dict) -> Any:
        ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            return self.error(path, f"expected {_TYPE_NAMES[tp]}, got {describe(value)}")
        return self._limits(value, path, metadata)

    def _limits(self, value: Any, path: tuple, metadata: dict) -> Any:
        low, high = metadata.get("min"), metadata.get("max")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (low is not None and value < low) or (high is not None and value > high):
                bounds = f"{low} to {high}" if low is not None and high is not None else (
                    f"at least {low}" if low is not None else f"at most {high}")
                return self.error(path, f"{value} is out of range ({bounds})")
        return value

    def _literal(self, choices: tuple, value: Any, path: tuple) -> Any:
        for choice in choices:
            if value == choice and type(value) is type(choice):
                return choice
            if isinstance(value, str) and isinstance(choice, str) and value.casefold() == choice.casefold():
                return choice
        shown = ", ".join(str(c) for c in choices)
        got = repr(value) if isinstance(value, (str, int, float)) else describe(value)
        return self.error(path, f"{got} is not one of {shown}")

    def _union(self, options: tuple, value: Any, path: tuple, metadata: dict) -> Any:
        non_none = [t for t in options if t is not type(None)]
        if value is None:
            if len(non_none) < len(options):
                return None
            return self.error(path, "a value is required here (got null)")
        if len(non_none) == 1:
            return self.build(non_none[0], value, path, metadata)
        for option in non_none:  # first option that takes the value without errors
            trial = _Builder(self.source, self.filename)
            result = trial.build(option, value, path, metadata)
            if result is not INVALID:
                return result
        names = " or ".join(_TYPE_NAMES.get(t, getattr(t, "__name__", str(t))) for t in non_none)
        return self.error(path, f"expected {names}, got {describe(value)}")

    def _tuple(self, args: tuple, value: Any, path: tuple, metadata: dict) -> Any:
        if not isinstance(value, list):
            return self.error(path, f"expected a list, got {describe(value)}")
        item_type = args[0]
        items = [self.build(item_type, item, path + (i,), _item_metadata(metadata)) for i, item in enumerate(value)]
        if "min_items" in metadata and len(items) < metadata["min_items"]:
            return self.error(path, f"needs at least {metadata['min_items']} item(s), got {len(items)}")
        return INVALID if any(i is INVALID for i in items) else tuple(items)

    def _dict(self, args: tuple, value: Any, path: tuple, metadata: dict) -> Any:
        if not isinstance(value, dict):
            return self.error(path, f"expected a mapping, got {describe(value)}")
        key_type, value_type = args
        result: dict[Any, Any] = {}
        for key, item in value.items():
            k = self.build(key_type, key, path + (key,))
            v = self.build(value_type, item, path + (key,), _item_metadata(metadata))
            result[k] = v
        if "min_items" in metadata and len(result) < metadata["min_items"]:
            return self.error(path, f"needs at least {metadata['min_items']} entr(ies), got {len(result)}")
        failed = any(k is INVALID or v is INVALID for k, v in result.items())
        return INVALID if failed else result

    def _dataclass(self, tp: type, value: Any, path: tuple) -> Any:
        if not isinstance(value, dict):
            return self.error(path, f"expected a mapping, got {describe(value)}")
        hints = typing.get_type_hints(tp)
        fields = [f for f in dataclasses.fields(tp) if f.init]
        by_key = {f.metadata.get("yaml", f.name): f for f in fields}
        kwargs: dict[str, Any] = {}
        failed = False
        for key in value:
            if key not in by_key:
                hint = difflib.get_close_matches(str(key), list(by_key), n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else f" (known: {', '.join(by_key)})"
                self.error(path + (key,), f"unknown key {key!r}{suggestion}")
                failed = True
        for key, field in by_key.items():
            if key not in value:
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                    self.error(path, f"required key {key!r} is missing")
                    failed = True
                continue
            result = self.build(hints[field.name], value[key], path + (key,), field.metadata)
            failed |= result is INVALID
            kwargs[field.name] = result
        if failed:
            self._partial_checks(tp, kwargs, path)
            return INVALID
        try:
            obj = tp(**kwargs)
        except (TypeError, ValueError, QboxError) as exc:  # rules checked in __post_init__
            return self.error(path, str(exc))
        return INVALID if self._checks(obj, path) else obj

    def _checks(self, obj: Any, path: tuple) -> bool:
        """Run the object's cross-field rules; True if any failed."""
        checks = getattr(obj, "config_checks", None)
        if checks is None:
            return False
        failed = False
        try:
            for relative, message in checks():
                self.error(path + tuple(relative), message)
                failed = True
        except (AttributeError, TypeError):
            pass  # a rule that needs a field which itself was invalid (see _partial_checks)
        return failed

    def _partial_checks(self, tp: type, kwargs: dict, path: tuple) -> None:
        """Run the cross-field rules on the fields that were valid, so one run shows
        every mistake; a rule stops at the first field that is missing or invalid."""
        partial = object.__new__(tp)
        for field in dataclasses.fields(tp):
            if field.name in kwargs:
                # An invalid field is set to INVALID (not left to the class default),
                # so a rule that uses it fails instead of judging a stand-in value.
                object.__setattr__(partial, field.name, kwargs[field.name])
            elif field.default is not dataclasses.MISSING:
                object.__setattr__(partial, field.name, field.default)
            elif field.default_factory is not dataclasses.MISSING:
                object.__setattr__(partial, field.name, field.default_factory())
        self._checks(partial, path)
