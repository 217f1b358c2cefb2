"""Fixtures shared by every test package."""
from __future__ import annotations

import pytest

from drivers.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def run_qbox(capsys):
    """Run ``qbox ARGS...`` in-process; returns (exit status, stdout, stderr)."""
    from appliance.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            status = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return status, out, err

    return run
