"""What provisioning installed on a box, kept on the box: generations for rollback.

``/var/lib/qbox/provision/state.json`` lists the last few generations, each the release
that ran and the sha256 and mode of every managed file.  The contents themselves sit in
``/var/lib/qbox/provision/files/SHA256``, so rolling back restores exactly what ran
before without the laptop having it.  Format (``"format": 1``)::

    {"format": 1, "ha_role": "standby",
     "generations": [{"number": 7, "release": "0.1.0-3f2a9c81d0e4", "applied": "2026-...Z",
                      "command": "apply", "files": {"/etc/qbox/qbox.yaml": {"sha256": "...", "mode": 416}}}]}
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from provisioning.layout import RELEASES, STATE_FILE, STORE, WHEELS
from provisioning.remote import Remote
from provisioning.steps import StepFailed

__all__ = ["BoxState", "Generation", "iso_time"]

FORMAT = 1


def iso_time(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


@dataclass
class Generation:
    number: int
    release: str
    files: dict[str, dict[str, Any]]     # path -> {"sha256": ..., "mode": ...}
    applied: str = ""
    command: str = ""


@dataclass
class BoxState:
    generations: list[Generation] = field(default_factory=list)
    ha_role: str | None = None

    @property
    def current(self) -> Generation | None:
        return self.generations[-1] if self.generations else None

    @property
    def previous(self) -> Generation | None:
        return self.generations[-2] if len(self.generations) > 1 else None

    @classmethod
    def read(cls, remote: Remote) -> "BoxState":
        raw = remote.read(STATE_FILE)
        if raw is None:
            return cls()
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            return cls([Generation(**g) for g in data["generations"]], data.get("ha_role"))
        except (ValueError, KeyError, TypeError) as exc:
            raise StepFailed(f"{STATE_FILE} on the box is unreadable ({exc}); "
                             "move it away to start the history afresh") from None

    def write(self, remote: Remote) -> None:
        data = {"format": FORMAT, "ha_role": self.ha_role,
                "generations": [asdict(g) for g in self.generations]}
        remote.write_atomic(STATE_FILE, (json.dumps(data, indent=1) + "\n").encode(), 0o600)

    def push(self, release: str, files: dict[str, dict[str, Any]], applied: str, command: str) -> Generation:
        number = self.current.number + 1 if self.current else 1
        generation = Generation(number, release, files, applied, command)
        self.generations.append(generation)
        return generation

    def prune(self, remote: Remote, keep: int) -> list[str]:
        """Forget generations beyond ``keep``; remove the releases (venv and wheel) and the
        stored files that no kept generation uses.  Returns the releases removed."""
        self.generations = self.generations[-keep:]
        kept_releases = {g.release for g in self.generations}
        kept_files = {f["sha256"] for g in self.generations for f in g.files.values()}
        gone = sorted(set(remote.listdir(RELEASES)) - kept_releases)
        stale = [f"{STORE}/{sha}" for sha in remote.listdir(STORE) if sha not in kept_files]
        remote.remove(*stale)
        if gone:
            remote.run("rm -rf -- " + " ".join(remote.quote(f"{top}/{release}")
                                              for release in gone for top in (RELEASES, WHEELS)))
        return gone
