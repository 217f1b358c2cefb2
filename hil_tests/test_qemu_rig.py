"""The qemu DUT driver and the image recipe's bookkeeping, without booting anything.

A stand-in "qemu" (a Python script) speaks the guest init's console protocol, so the
driver's parsing, file transfer, timeout and clean-up are checked in milliseconds.
"""
from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from hil_tests.qemu import GuestError, GuestImage, QemuDut, install_wheel

CHECKOUT = Path(__file__).resolve().parent.parent


def fake_qemu(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-qemu"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def image(tmp_path) -> GuestImage:
    for name in ("vmlinuz", "initrd.img", "rootfs.ext4"):
        (tmp_path / name).write_bytes(b"\0")
    return GuestImage(tmp_path / "vmlinuz", tmp_path / "initrd.img", tmp_path / "rootfs.ext4")


@pytest.fixture
def payload(tmp_path) -> Path:
    directory = tmp_path / "payload"
    directory.mkdir()
    (directory / "run").write_text("#!/bin/sh\ntrue\n")
    return directory


def gone(pid: int) -> bool:
    """No such process, or only its zombie left for init to reap."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def eventually(predicate, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_console_protocol_status_and_files(tmp_path, image, payload):
    report = base64.b64encode(b"<testsuite/>" * 20).decode()
    qemu = fake_qemu(tmp_path, f"""
        print("[    0.0] Linux version 6.1.0", flush=True)
        print("QBOX-GUEST-BEGIN uptime=9.5\\r")
        print("check one PASSED")
        print("QBOX-FILE-BEGIN junit.xml")
        for at in range(0, {len(report)}, 76):
            print({report!r}[at:at + 76])
        print("QBOX-FILE-END junit.xml")
        print("QBOX-GUEST-EXIT 3")
    """)
    result = QemuDut(image, qemu=qemu).run(payload, tmp_path / "work", timeout=30)
    assert (result.exit_status, result.timed_out, result.passed) == (3, False, False)
    assert result.files == {"junit.xml": b"<testsuite/>" * 20}
    assert "check one PASSED" in result.console
    assert not any(report[:76] in line for line in result.console)   # file bodies stay out of the log
    assert result.boot_seconds is not None and result.boot_seconds <= result.total_seconds
    assert "QBOX-GUEST-EXIT 3" in (tmp_path / "work" / "console.log").read_text()
    assert (tmp_path / "work" / "payload.ext4").stat().st_size > 0
    assert gone(result.pid)


def test_qemu_command_boots_the_image_read_only(image, tmp_path):
    command = QemuDut(image).command(tmp_path / "payload.ext4")
    assert command[:3] == ["qemu-system-x86_64", "-accel", "tcg"]
    assert f"file={image.rootfs},if=virtio,format=raw,snapshot=on" in command
    assert command[command.index("-kernel") + 1] == str(image.kernel)
    assert command[command.index("-initrd") + 1] == str(image.initrd)
    append = command[command.index("-append") + 1]
    assert "console=ttyS0,115200" in append and "init=/usr/local/sbin/qbox-guest-init" in append
    assert "-no-reboot" in command


def test_a_hung_guest_is_killed_at_the_timeout(tmp_path, image, payload):
    qemu = fake_qemu(tmp_path, """
        print("QBOX-GUEST-BEGIN", flush=True)
        sys.stdout.write("stuck mid-line")
        sys.stdout.flush()
        time.sleep(600)
    """)
    result = QemuDut(image, qemu=qemu).run(payload, tmp_path / "work", timeout=1.5)
    assert result.timed_out and result.exit_status is None
    assert result.console[-1] == "stuck mid-line"
    assert gone(result.pid)


def test_an_interrupted_run_leaves_no_qemu(tmp_path, image, payload, monkeypatch):
    qemu = fake_qemu(tmp_path, """
        print("QBOX-GUEST-BEGIN", flush=True)
        time.sleep(600)
    """)
    started = []

    def interrupted(self, proc, *args):
        started.append(proc.pid)
        raise KeyboardInterrupt

    monkeypatch.setattr(QemuDut, "_follow", interrupted)
    with pytest.raises(KeyboardInterrupt):
        QemuDut(image, qemu=qemu).run(payload, tmp_path / "work", timeout=30)
    assert started and gone(started[0])


def test_qemu_dies_with_the_process_that_started_it(tmp_path, image, payload):
    pidfile = tmp_path / "qemu.pid"
    qemu = fake_qemu(tmp_path, f"""
        import os
        open({str(pidfile)!r}, "w").write(str(os.getpid()))
        print("QBOX-GUEST-BEGIN", flush=True)
        time.sleep(600)
    """)
    driver = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(CHECKOUT)!r})
        from pathlib import Path
        from hil_tests.qemu import GuestImage, QemuDut
        image = GuestImage(Path({str(image.kernel)!r}), Path({str(image.initrd)!r}), Path({str(image.rootfs)!r}))
        QemuDut(image, qemu={qemu!r}).run(Path({str(payload)!r}), Path({str(tmp_path / "work")!r}), timeout=600)
    """)])
    try:
        assert eventually(lambda: pidfile.exists() and pidfile.read_text().isdigit())
    finally:
        driver.kill()
        driver.wait()
    assert eventually(lambda: gone(int(pidfile.read_text())))


def test_missing_image_or_run_script(tmp_path, image, payload):
    with pytest.raises(GuestError, match="image file missing"):
        QemuDut(GuestImage(tmp_path / "nope", image.initrd, image.rootfs))
    (payload / "run").unlink()
    with pytest.raises(GuestError, match="no run script"):
        QemuDut(image).run(payload, tmp_path / "work")


def test_install_wheel_unpacks_and_writes_console_scripts(tmp_path):
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/__init__.py", "def main():\n    return 0\n")
        archive.writestr("demo-1.0.dist-info/entry_points.txt",
                         "[console_scripts]\ndemo = demo:main\n\n[other]\nx = y:z\n")
    install_wheel(wheel, tmp_path / "payload")
    assert (tmp_path / "payload" / "site" / "demo" / "__init__.py").exists()
    script = tmp_path / "payload" / "bin" / "demo"
    assert script.read_text().splitlines()[:3] == ["#!/usr/bin/python3", "import sys", "from demo import main"]
    assert os.access(script, os.X_OK)
    assert not (tmp_path / "payload" / "bin" / "x").exists()


# --- images/build.py ---------------------------------------------------------------------------

@pytest.fixture
def recipe(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("qbox_images_build", CHECKOUT / "images" / "build.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    base = tmp_path / "base"
    (base / "overlay").mkdir(parents=True)
    (base / "packages.txt").write_text("# kernel\nlinux-image-6.1.0-50-amd64=6.1.176-1  # pinned\n\npython3\n")
    (base / "customize.sh").write_text("#!/bin/sh\n")
    monkeypatch.setattr(module, "RECIPE", base)
    monkeypatch.setenv("QBOX_IMAGE_CACHE", str(tmp_path / "cache"))
    return module


def test_package_list_reads_pins_and_comments(recipe):
    assert recipe.read_packages(recipe.RECIPE / "packages.txt") == [
        "linux-image-6.1.0-50-amd64=6.1.176-1", "python3"]
    (recipe.RECIPE / "packages.txt").write_text("python3\ntwo words\n")
    with pytest.raises(ValueError, match=r"packages.txt:2: one package per line"):
        recipe.read_packages(recipe.RECIPE / "packages.txt")


def test_base_key_follows_the_recipe_only(recipe):
    key = recipe.base_key()
    assert key == recipe.base_key() and len(key) == 16
    (recipe.RECIPE / "overlay" / "motd").write_text("hello\n")
    changed = recipe.base_key()
    assert changed != key
    (recipe.RECIPE / "overlay" / "motd").chmod(0o755)
    assert recipe.base_key() != changed


def test_cache_dir_is_outside_the_checkout(recipe, tmp_path):
    assert recipe.cache_dir() == tmp_path / "cache"
    assert not recipe.cache_dir().is_relative_to(CHECKOUT)
