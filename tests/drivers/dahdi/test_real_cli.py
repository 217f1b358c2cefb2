"""``qbox span list/show --device dahdi:///dev/dahdi`` on the real backend, the kernel faked
below the system calls (the OS layer is swapped, nothing above it)."""
from __future__ import annotations

import json

import pytest

from drivers.dahdi.real import backend as real_backend
from tests.drivers.dahdi.fakedahdi import branch_kernel


@pytest.fixture
def kernel(monkeypatch):
    kernel = branch_kernel()
    monkeypatch.setattr(real_backend, "OsDeviceIO", lambda: kernel)
    return kernel


def test_span_list_shows_every_span(run_qbox, kernel):
    kernel.line_alarm(2, 8)
    status, out, err = run_qbox("span", "list", "--device", "dahdi:///dev/dahdi")
    assert status == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "TE4/0/1" in rows["1"] and "E1" in rows["1"] and rows["1"].endswith("OK")
    assert "DYN/loc/1:0" in rows["2"] and "T1" in rows["2"] and rows["2"].endswith("RED")
    assert "analog" in rows["3"]


def test_span_show_json_has_channels_and_counters(run_qbox, kernel):
    kernel.spans[1].crc4 = 17
    status, out, err = run_qbox("span", "show", "1", "--device", "dahdi:///dev/dahdi", "--json")
    assert status == 0, err
    data = json.loads(out)
    assert data["type"] == "E1" and data["counters"]["crc4"] == 17 and data["alarms"] == ["OK"]
    assert data["channels"][15]["signalling"] == "Hardware-assisted HDLC"
    assert len(data["channels"]) == 31


def test_without_the_driver_the_command_fails_with_one_line(run_qbox, kernel):
    kernel.loaded = False
    status, _, err = run_qbox("span", "list", "--device", "dahdi:///dev/dahdi")
    assert status == 1
    assert err.strip() == "qbox: /proc/dahdi: not found (is the dahdi kernel module loaded?)"
