"""Fixtures for the ISDN tests: the libpri peer and back-to-back stack pairs."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance.isdn.backtoback import BackToBack
from tests.appliance.isdn.libpri import LibpriSession


@pytest.fixture(scope="session")
def libpri_peer_binary(tmp_path_factory) -> Path:
    """libpri_peer.c compiled against Debian's libpri (cc ... -lpri)."""
    source = Path(__file__).with_name("libpri_peer.c")
    binary = tmp_path_factory.mktemp("libpri") / "libpri_peer"
    result = subprocess.run(["cc", "-O1", "-Wall", "-Werror", "-o", str(binary), str(source), "-lpri"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return binary


@pytest.fixture
def libpri(libpri_peer_binary, tmp_path):
    """Factory: ``libpri("user")`` is a session with qbox as the user side."""
    sessions: list[LibpriSession] = []

    def make(qbox_role: str, **options) -> LibpriSession:
        session = LibpriSession(libpri_peer_binary, tmp_path, qbox_role, **options)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def pair():
    """A user and a network stack back to back, link up."""
    b2b = BackToBack()
    b2b.start()
    yield b2b
    b2b.close()


def kinds(events, call=None) -> list[str]:
    return [e.kind for e in events if call is None or e.call is call]
