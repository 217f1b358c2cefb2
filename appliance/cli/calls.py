"""``qbox calls``: every call in the box, callers waiting in a queue first.

    qbox calls [--json] [--socket PATH]
"""
from __future__ import annotations

from appliance.console import add_view
from appliance.console.views import render_calls

__all__ = ["register"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("calls", help="the calls in progress: IVR, queued, ringing, talking",
                                   description="Calls in progress, callers waiting in a queue first.")
    add_view(parser, "calls", render_calls, json_key="calls")
