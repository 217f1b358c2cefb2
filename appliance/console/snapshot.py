"""One moment of the running service, as ``qbox top`` draws it."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from appliance.console.client import Console

__all__ = ["Snapshot", "take_snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """The control API's ``status`` (spans included), ``queues``, ``agents`` and ``calls`` answers."""

    status: dict[str, Any]
    queues: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    calls: list[dict[str, Any]]

    @property
    def wall(self) -> float:
        """The service's own time when it answered (simulated time under ``--lockstep``)."""
        return self.status["started"] + self.status["uptime_s"]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def take_snapshot(console: Console) -> Snapshot:
    return Snapshot(status=console.request("status"), queues=console.request("queues"),
                    agents=console.request("agents"), calls=console.request("calls"))
