"""Where provisioning puts things on a box, below an install prefix (``--root``).

Every path is written as on an installed box (``/etc/qbox/qbox.yaml``) and reached
through :meth:`Layout.at`, which prefixes the root.  With ``root="/"`` that is the
path itself; with ``--root /srv/stage/box1`` the whole tree lives in that directory
and the files that name other files (the systemd unit, the venv) point inside it, so
a staged box runs where it was installed.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

__all__ = ["Layout", "CONFIG", "SYSTEM_CONF", "UNIT", "ASOUND", "UDEV_RULES", "RELEASES",
           "CURRENT", "WHEELS", "STATE_DIR", "STATE_FILE", "STORE", "STORE_DB", "CONTROL_SOCKET",
           "DIRECTORIES"]

CONFIG = "/etc/qbox/qbox.yaml"
SYSTEM_CONF = "/etc/dahdi/system.conf"
UNIT = "/etc/systemd/system/qbox.service"
ASOUND = "/etc/asound.conf"
UDEV_RULES = "/etc/udev/rules.d/70-qbox-tower.rules"
RELEASES = "/opt/qbox/releases"          # one venv per release, named by release id
CURRENT = "/opt/qbox/current"            # symlink to the active release
WHEELS = "/opt/qbox/wheels"
STATE_DIR = "/var/lib/qbox/provision"
STATE_FILE = STATE_DIR + "/state.json"   # generations: which release and files are active
STORE = STATE_DIR + "/files"             # every managed file version, by sha256
STORE_DB = "/var/lib/qbox/qbox.db"       # the service's SQLite store (alarms, CDRs)
CONTROL_SOCKET = "/run/qbox/control.sock"  # the running service's control API

#: Directories bootstrap creates: (path, owned by the qbox user).
DIRECTORIES: tuple[tuple[str, bool], ...] = (
    ("/etc/qbox", False),
    ("/etc/dahdi", False),
    ("/etc/systemd/system", False),
    ("/etc/udev/rules.d", False),
    (RELEASES, False),
    (WHEELS, False),
    (STATE_DIR, False),
    (STORE, False),
    ("/var/lib/qbox", True),
    ("/var/log/qbox", True),
    ("/var/tmp", False),
)


@dataclass(frozen=True)
class Layout:
    """The install prefix of one box."""

    root: str = "/"

    def at(self, path: str) -> str:
        """The real path of ``path`` (as on an installed box) under this root."""
        if not path.startswith("/"):
            raise ValueError(f"box paths are absolute, got {path!r}")
        if self.root in ("", "/"):
            return path
        return posixpath.join(self.root.rstrip("/"), path.lstrip("/"))

    def release(self, release_id: str) -> str:
        return self.at(f"{RELEASES}/{release_id}")

    def qbox(self, release_id: str | None = None) -> str:
        """The ``qbox`` command of a release (default: the active one)."""
        base = self.release(release_id) if release_id else self.at(CURRENT)
        return f"{base}/bin/qbox"
