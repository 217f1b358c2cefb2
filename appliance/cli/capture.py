"""``qbox capture dchan SPAN -o FILE.pcap [--duration S]``: D-channel traffic for Wireshark.

The capture is a pcap with link type LINUX_LAPD (177), which Wireshark and tshark
dissect as LAPD and Q.931.  Where the frames come from:

* a running box (``qbox run`` answers on ``--socket``): the span's ISDN stack taps
  every frame it sends and receives, so both directions are captured and labelled
  from the span's role (user or network side);
* otherwise the D-channel itself, opened at ``--device`` (default
  ``dahdi:///dev/dahdi``): only what the far end sends can be seen, labelled as
  received by the ``--side`` this box plays.  ``--device`` forces this mode.

Ctrl-C ends the capture cleanly; the file is complete either way.
"""
from __future__ import annotations

import contextlib
import os
import queue
import selectors
import threading
import time
from typing import TYPE_CHECKING

from appliance.console import add_socket_option
from appliance.control import ControlClient
from appliance.errors import BadInput, QboxError
from drivers.dahdi import DahdiError, open_backend

if TYPE_CHECKING:   # the ISDN package pulls in scapy: import it only when a capture runs
    from appliance.isdn.pcap import PcapWriter

__all__ = ["register"]

DEFAULT_DEVICE = "dahdi:///dev/dahdi"


def register(subparsers) -> None:
    parser = subparsers.add_parser("capture", help="capture signalling as pcap for Wireshark")
    what = parser.add_subparsers(dest="what", metavar="WHAT", required=True)
    dchan = what.add_parser(
        "dchan", help="a span's D-channel frames, both directions, as a LINUX_LAPD pcap",
        description="Write a span's D-channel frames (LAPD/Q.931) to a pcap file that Wireshark "
                    "reads. Taps the running service when there is one, else opens the D-channel.")
    dchan.add_argument("span", type=int, metavar="SPAN", help="span number")
    dchan.add_argument("-o", "--output", required=True, metavar="FILE.pcap", help="the pcap file to write")
    dchan.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: at Ctrl-C)")
    dchan.add_argument("--device", metavar="URL",
                       help=f"open the D-channel at this DAHDI URL instead of tapping the service "
                            f"(used anyway when no service runs; default {DEFAULT_DEVICE})")
    dchan.add_argument("--side", choices=("user", "network"), default="user",
                       help="with the D-channel opened directly: the side this box is (default user)")
    add_socket_option(dchan)
    dchan.set_defaults(func=run_dchan)


def run_dchan(args) -> None:
    if args.span < 1:
        raise BadInput(f"span {args.span}: span numbers start at 1")
    if args.duration is not None and args.duration <= 0:
        raise BadInput(f"--duration {args.duration}: must be more than 0 seconds")
    deadline = None if args.duration is None else time.monotonic() + args.duration
    if args.device is None and os.path.exists(args.socket):
        count, source = _from_service(args, deadline)
    else:
        count, source = _from_device(args, deadline)
    print(f"captured {count} frames on span {args.span} ({source}) to {args.output}")


def _writer(path: str, we_network: bool) -> "PcapWriter":
    from appliance.isdn.pcap import PcapWriter

    try:
        return PcapWriter(path, we_network=we_network)
    except OSError as exc:
        raise BadInput(f"{path}: cannot write the capture: {exc.strerror or exc}") from None


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _from_service(args, deadline: float | None) -> tuple[int, str]:
    """Frames the running service's stack for the span sends and receives."""
    with ControlClient(args.socket) as client:
        spans = {s["number"]: s for s in client.request("spans")}
    if args.span not in spans:
        known = ", ".join(str(n) for n in sorted(spans)) or "none"
        raise BadInput(f"span {args.span}: not a span of the running service (spans: {known})")
    role = spans[args.span].get("role", "user")
    events: queue.Queue = queue.Queue()
    subscriber = ControlClient(args.socket)

    def listen() -> None:
        try:
            for event in subscriber.subscribe([f"dchan.{args.span}"]):
                events.put(event)
        except (QboxError, OSError) as exc:
            events.put(exc)

    threading.Thread(target=listen, name="capture-dchan", daemon=True).start()
    count = 0
    with _writer(args.output, role == "network") as writer:
        try:
            while (wait := _remaining(deadline)) is None or wait > 0:
                try:
                    event = events.get(timeout=wait if wait is not None else 1.0)
                except queue.Empty:
                    continue
                if isinstance(event, Exception):
                    raise QboxError(f"capture of span {args.span} ended: {event}")
                data = event.get("data", {})
                writer.write(bytes.fromhex(data["frame"]), bool(data.get("outgoing")),
                             float(data.get("wall", event.get("time", 0.0))))
                writer.flush()
                count += 1
        except KeyboardInterrupt:
            pass
        finally:
            subscriber.close()
    return count, f"both directions, from the running service, {role} side"


def _from_device(args, deadline: float | None) -> tuple[int, str]:
    """Frames read from the span's D-channel, opened here."""
    url = args.device or DEFAULT_DEVICE
    count = 0
    with contextlib.ExitStack() as resources:
        try:
            backend = open_backend(url)
        except DahdiError as exc:
            if "unknown DAHDI device scheme" in str(exc):
                raise BadInput(f"--device {url}: {exc}") from None
            raise QboxError(f"{url}: {exc}") from None
        resources.callback(backend.close)
        try:
            dchannel = backend.open_dchannel(args.span)
        except DahdiError as exc:
            raise QboxError(f"span {args.span} D-channel at {url}: {exc}") from None
        resources.callback(dchannel.close)
        writer = resources.enter_context(_writer(args.output, args.side == "network"))
        selector = resources.enter_context(selectors.DefaultSelector())
        selector.register(dchannel.fileno(), selectors.EVENT_READ)
        try:
            while (wait := _remaining(deadline)) is None or wait > 0:
                if not selector.select(wait if wait is not None else 1.0):
                    continue
                while (frame := dchannel.recv()) is not None:
                    writer.write(frame, False, time.time())
                    count += 1
                dchannel.events()   # alarms are not frames; drain them
                writer.flush()
        except KeyboardInterrupt:
            pass
    return count, f"received frames, D-channel opened at {url}"
