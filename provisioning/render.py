"""The files a box should have, rendered on the laptop from its inventory entry.

Each :class:`ManagedFile` names the handlers to notify when it changes: a new
``system.conf`` restarts DAHDI and the service, a new box YAML only reloads the
service, and so on.  ``system.conf`` comes from the box YAML through
:func:`appliance.config.render_system_conf`, the code behind ``qbox config dahdi``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from string import Template
from urllib.parse import urlsplit

from appliance.config import render_system_conf
from provisioning.inventory import Box
from provisioning.layout import ASOUND, CONFIG, CURRENT, SYSTEM_CONF, UDEV_RULES, UNIT, Layout

__all__ = ["ManagedFile", "NOTIFY", "render_files"]

#: Handlers to run when each file changes (also used by rollback).
NOTIFY: dict[str, tuple[str, ...]] = {
    CONFIG: ("qbox-reload",),
    SYSTEM_CONF: ("dahdi-restart", "qbox-restart"),
    UNIT: ("systemd-reload", "qbox-restart"),
    ASOUND: ("qbox-restart",),
    UDEV_RULES: ("udev-reload",),
}


@dataclass(frozen=True)
class ManagedFile:
    path: str        # as on an installed box
    content: bytes
    mode: int = 0o644

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def notify(self) -> tuple[str, ...]:
        return NOTIFY.get(self.path, ())


def render_files(box: Box) -> list[ManagedFile]:
    """Every file provisioning manages on ``box``, in the order they are installed."""
    layout = Layout(box.root)
    common = {"name": box.name, "branch": box.branch}
    files = [
        ManagedFile(CONFIG, box.config_text.encode(), 0o640),
        ManagedFile(SYSTEM_CONF, render_system_conf(box.config).encode()),
        ManagedFile(UNIT, _template("qbox.service.tmpl", path=UNIT, qbox=f"{layout.at(CURRENT)}/bin/qbox",
                                    config=layout.at(CONFIG), state_dir=layout.at("/var/lib/qbox"),
                                    **common)),
        ManagedFile(ASOUND, _asound(box, layout, common)),
    ]
    vendor, product = box.vars.tower_usb.lower().split(":")
    files.append(ManagedFile(UDEV_RULES, _template("tower.rules.tmpl", path=UDEV_RULES, vendor=vendor,
                                                   product=product, subsystem=box.vars.tower_subsystem,
                                                   **common)))
    return files


def _asound(box: Box, layout: Layout, common: dict[str, str]) -> bytes:
    url = urlsplit(box.vars.sound)
    if url.scheme == "file":
        return _template("asound-file.conf.tmpl", path=ASOUND, directory=layout.at(url.path), **common)
    return _template("asound-card.conf.tmpl", path=ASOUND, card=url.netloc or "0", **common)


def _template(file: str, /, **values: str) -> bytes:
    text = resources.files("provisioning.templates").joinpath(file).read_text(encoding="utf-8")
    return Template(text).substitute(values).encode()
