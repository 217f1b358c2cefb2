"""Parse ``--since`` values: an ISO date or time, or an age such as ``15m``, ``2h``, ``7d``."""
from __future__ import annotations

import re
import time
from datetime import datetime

from appliance.errors import BadInput

__all__ = ["parse_since"]

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str | None, now: float | None = None) -> float:
    """Epoch seconds; ``None`` means the beginning of time (0)."""
    if not text:
        return 0.0
    now = time.time() if now is None else now
    match = _AGE.match(text.strip())
    if match:
        return now - float(match[1]) * _UNIT[match[2]]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"--since {text!r}: use a date/time like 2026-11-28T09:00 or an age like 15m, 2h, 7d") from None
    return moment.timestamp()  # naive times are local time, as a NOC operator means them
