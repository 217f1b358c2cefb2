"""qbox's real DAHDI backend proven against the kernel driver, in a qemu guest (slow).

One boot of the appliance image (``images/build.py``: built once per recipe, then cached) runs
``hil_tests/guest/dahdi_checks.py`` with pytest inside the guest, on two cross-connected
dynamic spans.  Each guest check is reported here as its own test, so a failure names the
check; the guest's console is in the log and in ``console.log`` under the test's tmp dir.
"""
from __future__ import annotations

import ast
import json
import logging
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from hil_tests.qemu import GuestImage, GuestRun, QemuDut, install_wheel

log = logging.getLogger("qbox.hil.qemu_dahdi")

CHECKOUT = Path(__file__).resolve().parent.parent
GUEST = Path(__file__).resolve().parent / "guest"
CHECKS = GUEST / "dahdi_checks.py"
BOOT_TIMEOUT = 420.0   # whole guest run; a loaded 2-core machine makes TCG slow

RUN_SCRIPT = """\
#!/bin/sh
# Run inside the guest by qbox-guest-init (cwd /tmp, payload read-only on /opt/qbox).
# A check stuck for 2 minutes gets its traceback printed (faulthandler) before the host gives up.
exec python3 -m pytest -p no:cacheprovider -v -rfE --junitxml="$QBOX_RESULTS/junit.xml" \\
    -o faulthandler_timeout=120 --color=no \\
    --rootdir=/opt/qbox/checks /opt/qbox/checks/dahdi_checks.py
"""


def guest_check_names() -> list[str]:
    """The test functions of the guest module, in file order (read without importing it)."""
    tree = ast.parse(CHECKS.read_text())
    return [node.name for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


@dataclass
class GuestCase:
    name: str
    outcome: str          # "passed", "failed", "error", "skipped"
    message: str = ""


@dataclass
class GuestReport:
    run: GuestRun
    cases: list[GuestCase]
    workdir: Path

    def where(self) -> str:
        return f"guest console: {self.workdir / 'console.log'}"


def _parse_junit(data: bytes) -> list[GuestCase]:
    cases = []
    for case in ElementTree.fromstring(data).iter("testcase"):
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                message = (element.get("message") or "") + "\n" + (element.text or "")
                break
        cases.append(GuestCase(case.get("name", ""), outcome, message.strip()))
    return cases


def _build_image() -> dict:
    """``images/build.py`` (the same as ``make image``): the cached base and this checkout's wheel."""
    done = subprocess.run([sys.executable, str(CHECKOUT / "images" / "build.py")],
                          capture_output=True, text=True)
    for line in done.stderr.splitlines():
        log.info("images | %s", line)
    assert done.returncode == 0, f"images/build.py failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def guest(tmp_path_factory) -> GuestReport:
    # The guest's console is logged at INFO: keep it in the captured log of a failing test.
    logging.getLogger("qbox.hil.qemu").setLevel(logging.INFO)
    built = _build_image()
    workdir = tmp_path_factory.mktemp("qemu-dahdi")
    payload = workdir / "payload"
    (payload / "checks").mkdir(parents=True)
    install_wheel(Path(built["wheel"]["path"]), payload)
    for name in ("dahdi_checks.py", "loc_pair.yaml"):
        shutil.copy2(GUEST / name, payload / "checks" / name)
    (payload / "run").write_text(RUN_SCRIPT)
    (payload / "run").chmod(0o755)
    dut = QemuDut(GuestImage.from_manifest(built["base"]))
    result = dut.run(payload, workdir / "guest", timeout=BOOT_TIMEOUT)
    junit = result.files.get("junit.xml")
    cases = _parse_junit(junit) if junit else []
    log.info("figures image_cached=%s image_seconds=%s wheel_seconds=%s boot_to_test_s=%s guest_total_s=%.1f",
             not built["base"]["built_now"], built["base"]["seconds"], built["wheel"]["seconds"],
             None if result.boot_seconds is None else round(result.boot_seconds, 1), result.total_seconds)
    return GuestReport(result, cases, workdir / "guest")


@pytest.mark.slow
@pytest.mark.xdist_group("qemu_dahdi")
def test_guest_runs_the_checks_and_powers_off(guest):
    assert not guest.run.timed_out, f"the guest did not finish in {BOOT_TIMEOUT:.0f} s; {guest.where()}"
    assert guest.run.exit_status is not None, f"the guest never reported; {guest.where()}\n{guest.run.tail()}"
    assert guest.cases, f"the guest's pytest reported no checks; {guest.where()}\n{guest.run.tail()}"


@pytest.mark.slow
@pytest.mark.xdist_group("qemu_dahdi")
@pytest.mark.parametrize("check", guest_check_names())
def test_in_guest(guest, check):
    cases = [c for c in guest.cases if c.name == check or c.name.startswith(check + "[")]
    assert cases, f"guest check {check} did not run; {guest.where()}\n{guest.run.tail()}"
    failed = [c for c in cases if c.outcome != "passed"]
    assert not failed, "\n\n".join(f"{c.name}: {c.outcome}\n{c.message}" for c in failed) + f"\n{guest.where()}"
