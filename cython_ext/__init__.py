"""Cython kernels: G.711, DTMF detection, tone generation and the ACD queue core.

Each kernel is a compiled extension built from ``cython_ext/<name>.pyx``.  Importing
one that has not been built raises an ImportError that says how to build it, rather
than Python's bare "No module named ...".
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

__all__ = ["NotBuiltError"]

_HERE = Path(__file__).parent


class NotBuiltError(ImportError):
    """A kernel's .pyx source is present but its extension has not been compiled."""


class _NotBuiltFinder(importlib.abc.MetaPathFinder):
    """Last-resort finder: explains a missing build instead of 'module not found'."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package != __name__ or not (_HERE / f"{name}.pyx").exists():
            return None
        # Only reached when the normal finders found no compiled module.
        raise NotBuiltError(
            f"{fullname} is not built: run `pip install -e .` (or "
            f"`python setup.py build_ext --inplace`) in the qbox checkout",
            name=fullname,
        )


if not any(isinstance(f, _NotBuiltFinder) for f in sys.meta_path):
    sys.meta_path.append(_NotBuiltFinder())
