"""Load a box configuration file: every error at once, each with file, line and field."""
from __future__ import annotations

from pathlib import Path

from appliance.config.schema import BoxConfig
from appliance.config.validate import INVALID, ConfigIssue, build
from appliance.config.yamlsource import YamlSyntaxError, parse_yaml
from appliance.errors import BadInput

__all__ = ["ConfigError", "load_config", "load_config_text"]


class ConfigError(BadInput):
    """The configuration is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

    def lines(self) -> list[str]:
        return [str(issue) for issue in self.issues]


def load_config(path: str | Path) -> BoxConfig:
    """Read and validate ``path``; ConfigError lists every mistake, BadInput if unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: byte {exc.start}: not UTF-8 text") from None
    return load_config_text(text, str(path))


def load_config_text(text: str, filename: str = "<config>") -> BoxConfig:
    try:
        source = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise ConfigError([ConfigIssue(exc.mark.line, exc.mark.column, filename, "", f"YAML syntax: {exc.message}")]) from None
    config, issues = build(BoxConfig, source, filename)
    if issues or config is INVALID:
        raise ConfigError(issues)
    object.__setattr__(config, "source", filename)
    return config
