"""The NOC console: what ``qbox status``, ``calls``, ``queue``, ``agent`` and ``top`` share.

``client`` talks to the running service, ``snapshot`` gathers one moment of it,
``views`` turns control-API answers into text, ``frame`` lays a snapshot out as one
80x24 screen, and ``screen`` repaints that screen on a plain terminal.
"""
from appliance.console.client import Console, add_socket_option, add_view, ask
from appliance.console.frame import HEIGHT, WIDTH, error_frame, frame
from appliance.console.snapshot import Snapshot, take_snapshot

__all__ = ["Console", "add_socket_option", "add_view", "ask", "Snapshot", "take_snapshot", "frame", "error_frame",
           "WIDTH", "HEIGHT"]
