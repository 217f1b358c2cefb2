"""Signal towers (lamps + buzzer) behind one interface, one module per tower family.

``open_tower(url)`` picks the family from the URL scheme, as pyserial's
``serial_for_url`` does:

- ``serial:///dev/ttyUSB0?baud=9600``: Adafruit 5125 (:mod:`drivers.tower.adafruit`)
- ``hidraw://191a:8003`` or ``hidraw:///dev/hidraw0?model=lr6``: Patlite LR6-USB /
  NE-USB (:mod:`drivers.tower.patlite_usb`)
- ``tcp://host:10000``: Patlite LR5-LAN over PNS (:mod:`drivers.tower.patlite_pns`)

A new family is a new module plus one line in ``_FAMILIES``.  Emulators that speak
each family's bytes and record what they were told live in
:mod:`drivers.tower.emulators`.
"""
from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from drivers.tower.interface import ALL_OFF, LAMPS, LampMode, Tower, TowerError, TowerState

__all__ = ["open_tower", "Tower", "TowerError", "TowerState", "LampMode", "LAMPS", "ALL_OFF", "SCHEMES"]

# scheme -> "module:callable" taking the URL; imported only when used.
_FAMILIES = {
    "serial": "drivers.tower.adafruit:open_url",
    "hidraw": "drivers.tower.patlite_usb:open_url",
    "tcp": "drivers.tower.patlite_pns:open_url",
}
SCHEMES = tuple(_FAMILIES)


def open_tower(url: str, **options) -> Tower:
    """Open the tower a device URL names; TowerError if it is unknown or not there."""
    scheme = urlsplit(url).scheme
    target = _FAMILIES.get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise TowerError(f"{url}: unknown tower scheme {scheme!r} (known: {known})")
    module_name, _, func_name = target.partition(":")
    opener = getattr(importlib.import_module(module_name), func_name)
    return opener(url, **options)
