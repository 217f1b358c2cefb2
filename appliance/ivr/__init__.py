"""The built-in IVR: menus, digit collection, ISV hooks and prompts, per call.

:class:`IvrSession` walks one caller through the ``ivr`` section of the configuration
(:class:`IvrConfig`); the call it belongs to implements :class:`IvrPort`.
"""
from appliance.ivr.config import Action, HookConfig, IvrConfig, IvrNode, OpeningHours
from appliance.ivr.prompts import PromptLibrary, say_digits_prompts
from appliance.ivr.session import HookRunner, IvrPort, IvrSession, is_open

__all__ = [
    "Action", "HookConfig", "HookRunner", "IvrConfig", "IvrNode", "IvrPort", "IvrSession",
    "OpeningHours", "PromptLibrary", "is_open", "say_digits_prompts",
]
