"""``qbox bench NAME``: measured figures for the hot paths.

Each module in :mod:`appliance.benchmarks` that defines ``register(subparsers)`` adds
one benchmark, the same way command modules add command groups.
"""
from __future__ import annotations

import importlib
import pkgutil

import appliance.benchmarks


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="run a benchmark and print its figures")
    names = parser.add_subparsers(dest="benchmark", metavar="NAME", required=True)
    for info in sorted(pkgutil.iter_modules(appliance.benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"appliance.benchmarks.{info.name}")
        if hasattr(module, "register"):
            module.register(names)
