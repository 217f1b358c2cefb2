"""The NOC console against a real ``qbox run --lockstep`` (tests/appliance/service/conftest.py).

``qbox`` runs the ``qbox`` command in this process (as ``appliance.cli.main``) and
returns its exit status and output; the service it talks to is the box's own process.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from appliance.cli import main
from tests.appliance.service.conftest import box_factory  # noqa: F401  (the fixture, shared)


@dataclass
class Result:
    status: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


@pytest.fixture
def qbox(capsys):
    def run(*argv: str) -> Result:
        capsys.readouterr()
        status = main(list(argv))
        out, err = capsys.readouterr()
        return Result(status, out, err)

    return run


def row(lines: list[str], first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first`` (cells are split on spaces)."""
    matches = [line.split() for line in lines if line.split()[:1] == [first]]
    assert len(matches) == 1, f"no single row starting with {first!r} in:\n" + "\n".join(lines)
    return matches[0]
