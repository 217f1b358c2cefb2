"""``qbox bench isdn``: complete ISDN PRI calls per second on one core.

A user-side and a network-side :class:`~appliance.isdn.stack.Stack` run back to back
in memory (:class:`~appliance.isdn.backtoback.BackToBack`).  Each call is the full
basic call: SETUP, CALL PROCEEDING, ALERTING, CONNECT, CONNECT ACKNOWLEDGE,
DISCONNECT, RELEASE, RELEASE COMPLETE, each in a LAPD I frame with its
acknowledgements; every frame is encoded, decoded and run through both Q.921 and
Q.931 state machines.  Calling numbers differ from call to call and called numbers
rotate through 100 DIDs, as a call centre's traffic would.  Everything runs in this
one thread, so it uses one core; ``calls_per_cpu_second`` (process CPU time) is the
figure to compare on a machine that other work shares.
"""
from __future__ import annotations

import platform
import time

from appliance.cli._output import add_json_flag, print_json
from appliance.errors import BadInput, QboxError

__all__ = ["register", "measure"]

CAPTURED_CALLS = 100


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "isdn", help="complete PRI calls per second through user and network stacks back to back",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1])
    parser.add_argument("--calls", type=int, default=10_000, help="calls to make (default 10000)")
    parser.add_argument("--variant", default="euroisdn", help="switch variant (default euroisdn)")
    parser.add_argument("--pcap", metavar="FILE",
                        help=f"also write the first {CAPTURED_CALLS} calls as a LINUX_LAPD capture")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def measure(calls: int, pcap: str | None = None, variant: str = "euroisdn") -> dict:
    """Run ``calls`` calls; the figures as a dict (see ``run`` for the keys)."""
    from appliance.isdn.backtoback import BackToBack   # scapy: loaded only when the bench runs
    from appliance.isdn.pcap import PcapWriter

    capture = PcapWriter(pcap, we_network=False) if pcap else None
    completed = [0, 0]
    pair = None

    def on_user(event) -> None:
        if event.kind == "active":
            pair.user.disconnect(event.call)
        elif event.kind == "released":
            completed[0] += 1

    def on_network(event) -> None:
        if event.kind == "setup":
            pair.network.proceed(event.call)
            pair.network.alert(event.call)
            pair.network.answer(event.call)
        elif event.kind == "released":
            completed[1] += 1

    pair = BackToBack(variant=variant, on_user_event=on_user, on_network_event=on_network,
                      capture=capture, strict=True, record=False)
    try:
        pair.start()
        frames_before = pair.frames
        place_call = pair.user.place_call
        pump = pair.pump
        started, cpu_started = time.perf_counter(), time.process_time()
        for n in range(calls):
            place_call(f"55501{n % 100:02d}", calling=f"0{7_700_000_000 + n * 7919 % 99_999_999}")
            pump()
            if capture is not None and n + 1 == CAPTURED_CALLS:
                pair.user.capture = None
                capture.close()
                capture = None
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        if capture is not None:
            capture.close()
        pair.close()
    if completed != [calls, calls]:
        raise QboxError(f"isdn benchmark: {completed[0]} user and {completed[1]} network calls "
                        f"completed out of {calls}")
    frames = pair.frames - frames_before
    messages = pair.user.counters["l3_messages_out"] + pair.network.counters["l3_messages_out"]
    return {
        "benchmark": "isdn",
        "variant": variant,
        "calls": calls,
        "seconds": round(elapsed, 4),
        "cpu_seconds": round(cpu, 4),
        "calls_per_second": round(calls / elapsed, 1),
        "calls_per_cpu_second": round(calls / cpu, 1) if cpu > 0 else None,
        "us_per_call": round(elapsed / calls * 1e6, 1),
        "frames_per_call": round(frames / calls, 2),
        "messages_per_call": round(messages / calls, 2),
        "python": platform.python_version(),
        "pcap": pcap,
    }


def run(args) -> None:
    if args.calls < 1:
        raise BadInput(f"--calls {args.calls}: must be at least 1")
    try:
        figures = measure(args.calls, args.pcap, args.variant)
    except OSError as exc:
        raise BadInput(f"--pcap {args.pcap}: {exc.strerror or exc}") from None
    except ValueError as exc:   # unknown variant
        raise BadInput(f"--variant: {exc}") from None
    if args.json:
        print_json(figures)
        return
    print(f"isdn ({figures['variant']}): {figures['calls']} calls in {figures['seconds']:.2f} s: "
          f"{figures['calls_per_second']:.0f} calls/s ({figures['us_per_call']:.0f} us/call), "
          f"{figures['calls_per_cpu_second'] or 0:.0f} calls per CPU second; "
          f"{figures['frames_per_call']} frames and {figures['messages_per_call']} Q.931 messages per call")
    if figures["pcap"]:
        print(f"first {min(CAPTURED_CALLS, figures['calls'])} calls written to {figures['pcap']}")
