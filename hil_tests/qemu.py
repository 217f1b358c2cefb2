"""A qemu DUT: boot a qbox image under TCG, run one payload in the guest, collect the result.

The guest image (``images/build.py``) boots with its own kernel and initrd
(``-kernel/-initrd``), the root disk opened with ``snapshot=on`` so the cached image is never
written, and a second small ext4 disk, the *payload*, made on every run with ``mkfs.ext4 -d``
from a directory: the qbox code under test and a ``run`` script.  The image's init
(``images/base/overlay/usr/local/sbin/qbox-guest-init``) runs ``run``, sends back the files it
leaves in ``$QBOX_RESULTS``, prints its exit status and powers the machine off; all of it on the
serial console, which this driver reads line by line, logs (logger ``qbox.hil.qemu``) and keeps.

qemu never outlives a run: it is killed (by its own PID) on timeout, on any error or interrupt
in the caller, and by the kernel if the process that started it dies (``setpriv --pdeathsig``).
"""
from __future__ import annotations

import base64
import logging
import os
import re
import selectors
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GuestImage", "GuestRun", "QemuDut", "GuestError", "make_ext4", "install_wheel"]

log = logging.getLogger("qbox.hil.qemu")

GUEST_INIT = "/usr/local/sbin/qbox-guest-init"
_BEGIN = re.compile(r"QBOX-GUEST-BEGIN\b")
_EXIT = re.compile(r"QBOX-GUEST-EXIT (\d+)")
_FILE_BEGIN = re.compile(r"QBOX-FILE-BEGIN (\S+)")
_FILE_END = re.compile(r"QBOX-FILE-END (\S+)")
# qemu is started through util-linux's setpriv, which sets PR_SET_PDEATHSIG and execs it: if
# the test process dies, the kernel kills qemu too (preexec_fn would do it in Python, but is
# unsafe in a process with threads, as a pytest-xdist worker is).
_DIE_WITH_PARENT = ("setpriv", "--pdeathsig", "KILL", "--")


class GuestError(RuntimeError):
    """The guest could not be started, or its console broke the init's protocol."""


@dataclass(frozen=True)
class GuestImage:
    """The three files of a built image that qemu boots."""

    kernel: Path
    initrd: Path
    rootfs: Path

    @classmethod
    def from_manifest(cls, base: dict) -> "GuestImage":
        """From the ``base`` object that ``images/build.py`` prints."""
        return cls(Path(base["kernel"]), Path(base["initrd"]), Path(base["rootfs"]))


@dataclass
class GuestRun:
    """What one boot produced."""

    exit_status: int | None               # the payload's exit status; None if it never reported
    timed_out: bool
    pid: int | None = None                 # qemu's process id (gone when run() returns)
    console: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    boot_seconds: float | None = None      # qemu start to the payload starting
    total_seconds: float = 0.0             # qemu start to qemu gone

    @property
    def passed(self) -> bool:
        return self.exit_status == 0

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.console[-lines:])


def make_ext4(source: Path, image: Path, label: str, spare_bytes: int = 16 << 20) -> Path:
    """Write ``source``'s tree into a new ext4 disk image with ``mkfs.ext4 -d`` (no loop mount)."""
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    entries = sum(1 for _ in source.rglob("*"))
    blocks_k = (size * 6 // 5 + spare_bytes) // 1024
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-L", label, "-m", "0", "-N", str(entries + 1024),
         "-E", "root_owner=0:0", "-d", str(source), str(image), f"{blocks_k}k"],
        check=True, capture_output=True)
    return image


def install_wheel(wheel: Path, payload: Path) -> None:
    """Unpack ``wheel`` into ``payload/site`` and write its console scripts to ``payload/bin``.

    What ``pip install --target`` would do, without needing pip (or the time pip takes) in a
    TCG guest: the guest puts ``site`` on ``PYTHONPATH`` and ``bin`` on ``PATH``.
    """
    site, bin_dir = payload / "site", payload / "bin"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    bin_dir.mkdir(parents=True, exist_ok=True)
    for entry_points in site.glob("*.dist-info/entry_points.txt"):
        section = None
        for line in entry_points.read_text().splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "console_scripts" and "=" in line:
                name, target = (part.strip() for part in line.split("=", 1))
                module, function = target.split(":")
                script = bin_dir / name
                script.write_text(
                    "#!/usr/bin/python3\n"
                    f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n")
                script.chmod(0o755)


class QemuDut:
    """A TCG guest booted from a :class:`GuestImage`; :meth:`run` boots it once per call."""

    def __init__(self, image: GuestImage, *, memory_mb: int = 1024, cpus: int = 1,
                 qemu: str = "qemu-system-x86_64", kernel_args: str = "") -> None:
        for path in (image.kernel, image.initrd, image.rootfs):
            if not path.exists():
                raise GuestError(f"image file missing: {path}")
        self.image = image
        self.memory_mb = memory_mb
        self.cpus = cpus
        self.qemu = qemu
        self.kernel_args = kernel_args

    def command(self, payload_disk: Path) -> list[str]:
        append = (f"root=/dev/vda rw rootfstype=ext4 console=ttyS0,115200 init={GUEST_INIT} "
                  f"panic=-1 {self.kernel_args}").strip()
        return [
            self.qemu, "-accel", "tcg", "-machine", "pc", "-cpu", "max",
            "-m", str(self.memory_mb), "-smp", str(self.cpus),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-serial", "stdio",
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", append,
            # snapshot=on: the guest's writes go to a temporary overlay, never the cached image.
            "-drive", f"file={self.image.rootfs},if=virtio,format=raw,snapshot=on",
            "-drive", f"file={payload_disk},if=virtio,format=raw,readonly=on",
        ]

    def run(self, payload: Path, workdir: Path, timeout: float = 300.0) -> GuestRun:
        """Boot with ``payload`` (a directory with an executable ``run``) and wait for the result.

        The console goes to ``workdir/console.log`` and to the log as it arrives.  Returns when
        the guest powered off, or after ``timeout`` seconds (``timed_out`` set, qemu killed).
        """
        if not (payload / "run").is_file():
            raise GuestError(f"{payload} has no run script")
        workdir.mkdir(parents=True, exist_ok=True)
        disk = make_ext4(payload, workdir / "payload.ext4", "qboxpayload")
        command = self.command(disk)
        log.info("qemu start command=%s", " ".join(command))
        started = time.monotonic()
        result = GuestRun(exit_status=None, timed_out=False)
        with open(workdir / "console.log", "w", encoding="utf-8", errors="replace") as console:
            proc = subprocess.Popen([*_DIE_WITH_PARENT, *command], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, TMPDIR=str(workdir)))
            result.pid = proc.pid
            try:
                self._follow(proc, started + timeout, started, console, result)
            finally:
                # A guest that reported its status is powering off: give it a moment.
                self._stop(proc, grace=10.0 if result.exit_status is not None else 0.0)
        result.total_seconds = time.monotonic() - started
        log.info("qemu done pid=%d status=%s timed_out=%s boot_s=%s total_s=%.1f", proc.pid,
                 result.exit_status, result.timed_out,
                 None if result.boot_seconds is None else round(result.boot_seconds, 1),
                 result.total_seconds)
        return result

    def _follow(self, proc: subprocess.Popen, deadline: float, started: float, console,
                result: GuestRun) -> None:
        """Read the console until qemu exits or the deadline passes."""
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        pending = b""
        receiving: tuple[str, list[str]] | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out = True
                log.error("qemu timeout pid=%d", proc.pid)
                break
            if not selector.select(min(remaining, 1.0)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                console.write(line + "\n")
                if receiving is not None:
                    if _FILE_END.fullmatch(line):
                        name, body = receiving
                        result.files[name] = base64.b64decode("".join(body))
                        receiving = None
                    else:
                        body_lines = receiving[1]
                        body_lines.append(line)
                    continue
                result.console.append(line)
                log.info("guest | %s", line)
                if result.boot_seconds is None and _BEGIN.search(line):
                    result.boot_seconds = time.monotonic() - started
                elif match := _FILE_BEGIN.fullmatch(line):
                    receiving = (match.group(1), [])
                elif match := _EXIT.fullmatch(line):
                    result.exit_status = int(match.group(1))
            console.flush()
        if pending:  # a last line without its newline (a guest stuck mid-line)
            line = pending.decode("utf-8", "replace").rstrip("\r")
            console.write(line + "\n")
            result.console.append(line)
            log.info("guest | %s", line)

    @staticmethod
    def _stop(proc: subprocess.Popen, grace: float) -> None:
        """Wait up to ``grace`` seconds for qemu to exit, then kill it by its PID and reap it."""
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("qemu kill pid=%d", proc.pid)
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()
