"""Real OpenSSH sshd processes on 127.0.0.1, one per simulated branch box.

Each gets its own config (``sshd -f``), a generated ed25519 host key and a port picked
by binding port 0 and releasing it (sshd cannot listen on port 0 and report back).
``kill()`` takes the listener and every process below it down with SIGKILL, as a box
losing power mid-run would; ``stop()`` is the tidy version.  Processes are only ever
signalled by their own PIDs.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"

CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {directory}/sshd.pid
AuthorizedKeysFile {authorized_keys}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel ERROR
MaxStartups 64
MaxSessions 64
PrintMotd no
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path) -> str:
    """Make an ed25519 key pair at ``path``; returns the public line (type and key)."""
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    kind, key = path.with_suffix(".pub").read_text().split()[:2]
    return f"{kind} {key}"


class Sshd:
    """One sshd; ``known_hosts_line`` is what an inventory pins for it."""

    def __init__(self, directory: Path, authorized_keys: Path) -> None:
        self.directory = directory
        self.authorized_keys = authorized_keys
        directory.mkdir(parents=True, exist_ok=True)
        self.host_key = directory / "host_ed25519"
        self.public_key = keygen(self.host_key)
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.public_key}"

    def new_host_key(self) -> None:
        """The box was reinstalled (or someone is in the middle): a different host key."""
        self.public_key = keygen(self.host_key)

    def start(self, port: int | None = None) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        for _ in range(5):
            self.port = port or free_port()
            config = self.directory / "sshd_config"
            config.write_text(CONFIG.format(port=self.port, host_key=self.host_key, directory=self.directory,
                                            authorized_keys=self.authorized_keys))
            log = open(self.directory / "sshd.log", "ab")
            self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log, start_new_session=True)
            log.close()
            if self._ready():
                return
            self.stop()
            if port:
                break
        raise RuntimeError(f"sshd did not start; see {self.directory / 'sshd.log'}")

    def _ready(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def kill(self) -> None:
        """SIGKILL the listener and everything under it (open sessions included)."""
        if self.process is None:
            return
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self.kill()


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children before grandchildren."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found
