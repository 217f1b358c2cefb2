"""Box configuration: YAML validated into frozen dataclasses, and what it implies.

    >>> config = load_config("examples/branch.yaml")      # ConfigError lists every mistake
    >>> print(render_system_conf(config))                 # /etc/dahdi/system.conf
"""
from appliance.config.loader import ConfigError, load_config, load_config_text
from appliance.config.schema import (
    BoxConfig, DahdiConfig, DynamicSpan, FxsPortGroup, NodeConfig, SpanConfig,
    format_channel_list, parse_channel_list,
)
from appliance.config.systemconf import render_system_conf
from appliance.config.validate import ConfigIssue

__all__ = [
    "BoxConfig", "ConfigError", "ConfigIssue", "DahdiConfig", "DynamicSpan", "FxsPortGroup",
    "NodeConfig", "SpanConfig", "format_channel_list", "load_config", "load_config_text",
    "parse_channel_list", "render_system_conf",
]
