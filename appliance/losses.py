"""What a writer loses while its disk is full, counted and logged at the edges.

The store's group commits and the queue_log's lines keep coming while the disk stays
full; a log line for each would flood the log (on the same full disk).  A
:class:`LossCounter` counts every loss and logs only when losses start and when the
writer works again.
"""
from __future__ import annotations

import logging
from typing import Any

__all__ = ["LossCounter"]


class LossCounter:
    def __init__(self, log: logging.Logger, lost_message: str, recovered_message: str, **kv: Any) -> None:
        self.count = 0                 # losses since start
        self._log = log
        self._lost_message = lost_message
        self._recovered_message = recovered_message
        self._kv = kv                  # what every line names (the file)
        self._failing = False

    def lost(self, error: str, **kv: Any) -> None:
        self.count += 1
        if not self._failing:
            self._failing = True
            self._log.error(self._lost_message, extra={"kv": {**self._kv, **kv, "error": error}})

    def written(self) -> None:
        if self._failing:
            self._failing = False
            self._log.warning(self._recovered_message, extra={"kv": {**self._kv, "lost": self.count}})
