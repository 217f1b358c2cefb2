"""ISV hooks: self-service answers (an account balance...) from Python or a local HTTP service.

A hook gets the call's variables and answers a JSON object whose keys become variables.
It runs in a worker thread so a slow service never holds up the media tick; the IVR
session's own timer decides when to give up and take the fallback branch.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from appliance.ivr.config import HookConfig

__all__ = ["ThreadedHookRunner", "call_hook"]


def call_hook(config: HookConfig, variables: dict[str, str]) -> dict[str, Any]:
    """Call one hook synchronously; raises on any failure (the caller turns it into fallback)."""
    if config.python is not None:
        module_name, _, func_name = config.python.partition(":")
        func = importlib.import_module(module_name)
        for part in func_name.split("."):
            func = getattr(func, part)
        answer = func(dict(variables))
    else:
        request = urllib.request.Request(
            config.http, data=json.dumps(variables).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=config.timeout) as response:
            answer = json.loads(response.read(65536))
    if not isinstance(answer, dict):
        raise ValueError(f"hook answered {type(answer).__name__}, not an object")
    return answer


class ThreadedHookRunner:
    """The :class:`~appliance.ivr.session.HookRunner` the service uses."""

    def __init__(self, hooks: Mapping[str, HookConfig], loop: asyncio.AbstractEventLoop) -> None:
        self.hooks = hooks
        self.loop = loop

    def run(self, hook: str, variables: dict[str, str],
            on_result: Callable[[dict[str, Any] | None, str | None], None]) -> None:
        future = self.loop.run_in_executor(None, call_hook, self.hooks[hook], variables)

        def done(f: asyncio.Future) -> None:  # runs on the loop thread
            exc = f.exception()
            if exc is not None:
                on_result(None, f"{type(exc).__name__}: {exc}")
            else:
                on_result(f.result(), None)

        future.add_done_callback(done)
