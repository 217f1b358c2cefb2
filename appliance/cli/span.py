"""``qbox span list`` and ``qbox span show N``: what ``dahdi_scan`` and ``/proc/dahdi/N`` show.

The spans come from the DAHDI backend named by ``--device URL``, or by the
``dahdi.device`` of ``--config FILE``, or ``dahdi:///dev/dahdi``: real cards and
simulated spans look the same.  Text fits 80 columns; ``--json`` is for scripts.
"""
from __future__ import annotations

import textwrap

from appliance.cli._output import add_json_flag, format_table, print_json
from appliance.config import load_config
from appliance.errors import BadInput, QboxError
from drivers.dahdi import Backend, DahdiError, SpanStatus, open_backend

__all__ = ["register", "add_device_options", "open_device", "render_span_list", "render_span_show",
           "line_text", "span_list_entry"]

DEFAULT_DEVICE = "dahdi:///dev/dahdi"
WIDTH = 80


def register(subparsers) -> None:
    parser = subparsers.add_parser("span", help="show DAHDI spans: alarms, line errors, channels")
    commands = parser.add_subparsers(dest="span_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="every span: type, channels, line, alarms (like dahdi_scan)")
    add_device_options(listing)
    add_json_flag(listing)
    listing.set_defaults(func=run_list)

    show = commands.add_parser("show", help="one span: alarms, error counters, each channel (like /proc/dahdi/N)")
    show.add_argument("span", type=int, metavar="N", help="span number")
    add_device_options(show)
    add_json_flag(show)
    show.set_defaults(func=run_show)


def add_device_options(parser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--device", metavar="URL",
                       help=f"DAHDI device URL (default {DEFAULT_DEVICE}; sim:///DIR for a simulator)")
    where.add_argument("--config", metavar="FILE", help="take the device from this box configuration's dahdi.device")


def open_device(args) -> Backend:
    """The backend ``--device`` / ``--config`` name; QboxError (exit 1) if it cannot be opened."""
    url = args.device or (load_config(args.config).dahdi.device if args.config else DEFAULT_DEVICE)
    try:
        return open_backend(url)
    except DahdiError as exc:
        raise QboxError(str(exc)) from None
    except ImportError as exc:
        raise QboxError(f"{url}: this DAHDI backend is not available here ({exc})") from None


def run_list(args) -> None:
    backend = open_device(args)
    try:
        spans = backend.spans()
    except DahdiError as exc:
        raise QboxError(str(exc)) from None
    finally:
        backend.close()
    if args.json:
        print_json([span_list_entry(s) for s in spans])
    else:
        print(render_span_list(spans))


def run_show(args) -> None:
    backend = open_device(args)
    try:
        numbers = [s.number for s in backend.spans()]
        if args.span not in numbers:
            known = ", ".join(str(n) for n in numbers) or "none"
            raise BadInput(f"span {args.span} does not exist on {backend.url} (spans: {known})")
        status = backend.span_status(args.span)
    except DahdiError as exc:
        raise QboxError(str(exc)) from None
    finally:
        backend.close()
    if args.json:
        print_json({**status.as_dict(), "line": line_text(status)})
    else:
        print(render_span_show(status))


def line_text(status: SpanStatus) -> str:
    """``HDB3/CCS/CRC4`` as /proc/dahdi prints it; ``-`` for an analogue span."""
    parts = [p for p in (status.coding, status.framing) if p] + (["CRC4"] if status.crc4 else [])
    return "/".join(parts) or "-"


def _channel_range(status: SpanStatus) -> str:
    if not status.channels:
        return "-"
    first, last = status.channels[0].channo, status.channels[-1].channo
    return f"{first}-{last}" if last != first else str(first)


def span_list_entry(status: SpanStatus) -> dict:
    """One span for ``qbox span list --json``: dahdi_scan's fields, without the channels."""
    data = status.as_dict()
    del data["channels"]
    data["line"] = line_text(status)
    data["basechan"] = status.channels[0].channo if status.channels else 0
    data["totchans"] = len(status.channels)
    return data


def render_span_list(spans: list[SpanStatus]) -> str:
    """dahdi_scan in a table; alarms that do not fit continue on the next line."""
    headers = ("SPAN", "NAME", "TYPE", "CHANNELS", "LINE", "CLOCK", "ALARMS")
    fixed = [(s.number, s.name, s.type, _channel_range(s), line_text(s),
              "yes" if s.sync_source and s.sync_source == s.number else "") for s in spans]
    widths = [max([len(h)] + [len(str(row[i])) for row in fixed]) for i, h in enumerate(headers[:-1])]
    room = max(WIDTH - sum(widths) - 2 * len(widths), len("RECOVERING"))
    rows: list[tuple] = []
    for cells, status in zip(fixed, spans):
        alarms = textwrap.wrap(" ".join(status.alarm_names) or "OK", room, break_long_words=False)
        rows.append(cells + (alarms[0],))
        rows += [("",) * len(cells) + (more,) for more in alarms[1:]]
    return format_table(headers, rows)


def _sync_text(status: SpanStatus) -> str:
    if not status.sync_source:
        return "internal (no span gives timing)"
    if status.sync_source == status.number:
        return "this span is the clock source"
    return f"span {status.sync_source} is the clock source"


def _packed(label: str, fields: list[str]) -> list[str]:
    """``label`` then the fields two spaces apart, continuing under the first when a line is full."""
    lines, current = [], label
    for text in fields:
        if len(current) > len(label) and len(current) + 2 + len(text) > WIDTH:
            lines.append(current)
            current = " " * len(label)
        current += ("  " if len(current) > len(label) else "") + text
    return lines + [current]


def render_span_show(status: SpanStatus, channels: bool = True) -> str:
    """/proc/dahdi/N's content in 80 columns: header, alarms, counters, then each channel."""
    title = f'Span {status.number}: {status.name} "{status.description}"'
    if len(title) > WIDTH:
        title = title[:WIDTH - 4] + '..."'
    c = status.counters
    lines = [
        title,
        f"  Type      {status.type}" + (f" ({line_text(status)})" if line_text(status) != "-" else ""),
    ]
    if status.lbo:
        lines.append(f"  LBO       {status.lbo}")
    lines += [
        f"  Alarms    {' '.join(status.alarm_names) or 'OK'}",
        f"  Timing    {_sync_text(status)}",
    ]
    if status.type != "analog":
        lines += _packed("  Errors    ", [f"BPV {c.bpv}", f"CRC4 {c.crc4}", f"FAS {c.fas}",
                                           f"E-bit {c.ebit}", f"slips {c.slips}"])
    if channels:
        rows = [(ch.channo, ch.name, ch.signalling, ch.state) for ch in status.channels]
        table = format_table(("CHAN", "NAME", "SIGNALLING", "STATE"), rows)
        lines += [""] + ["  " + row for row in table.splitlines()]
    return "\n".join(lines)
