"""SSH to a box with pinned host keys, and the few file and command operations steps use.

Fabric's ``Connection`` accepts any host key by default (paramiko's ``AutoAddPolicy``).
Here every connection trusts exactly the keys in the inventory's known_hosts file:
an unknown key is refused by a ``RejectPolicy`` and a changed key by paramiko's own
check, each turned into a :class:`HostKeyError` that says what to do about it.  The
user's ``~/.ssh/config`` and ``known_hosts`` are not read, so a run depends on the
inventory alone.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import fabric
import paramiko
from fabric.exceptions import GroupException

from appliance.errors import QboxError
from provisioning.layout import Layout

if TYPE_CHECKING:
    from provisioning.inventory import Box

__all__ = ["BoxConnection", "ConnectionLost", "HostGroup", "HostKeyError", "Remote", "Unreachable",
           "CommandResult", "fingerprint"]

log = logging.getLogger(__name__)


class Unreachable(QboxError):
    """The box could not be reached or logged in to; nothing was done on it."""


class HostKeyError(Unreachable):
    """The box's host key is not the one pinned in the inventory."""


class ConnectionLost(QboxError):
    """The connection broke while a step was running on the box."""


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: ``ssh-ed25519 SHA256:...`` (what ``ssh-keygen -lf`` prints)."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class _PinnedOnly(paramiko.RejectPolicy):
    """RejectPolicy that says which file the key is missing from and how to pin it."""

    def __init__(self, known_hosts: Path, host: str, port: int) -> None:
        self.known_hosts, self.host, self.port = known_hosts, host, port

    def missing_host_key(self, client, hostname, key) -> None:
        try:
            super().missing_host_key(client, hostname, key)
        except paramiko.SSHException:
            raise HostKeyError(
                f"host key of {hostname} is not pinned in {self.known_hosts} (the box offers "
                f"{fingerprint(key)}); refusing to connect. Check the fingerprint on the box's console "
                f"(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add the key, e.g. "
                f"ssh-keyscan -p {self.port} {self.host} >> {self.known_hosts}") from None


class BoxConnection(fabric.Connection):
    """A Fabric connection to one inventory box that trusts only its pinned host keys."""

    def __init__(self, box: "Box", known_hosts: Path) -> None:
        config = fabric.Config(ssh_config=paramiko.SSHConfig(), overrides={
            "run": {"hide": True, "warn": True, "in_stream": False},
        })
        super().__init__(box.host, user=box.user, port=box.port, config=config,
                         connect_timeout=max(1, round(box.connect_timeout)),
                         connect_kwargs={"key_filename": box.key, "look_for_keys": box.key is None,
                                         "allow_agent": box.key is None})
        self.box = box
        self.known_hosts = known_hosts
        self.client.get_host_keys().load(str(known_hosts))
        self.client.set_missing_host_key_policy(_PinnedOnly(known_hosts, box.host, box.port))

    def call(self, fn: Callable[["BoxConnection"], Any]) -> Any:
        """``fn(self)``: lets a :class:`HostGroup` run different work on each box."""
        return fn(self)

    def open(self):
        if self.is_connected:
            return None
        where = f"{self.user}@{self.host}:{self.port}"
        try:
            return super().open()
        except HostKeyError:
            raise
        except paramiko.BadHostKeyException as exc:
            raise HostKeyError(
                f"host key of {exc.hostname} CHANGED: the box offers {fingerprint(exc.key)}, "
                f"{self.known_hosts} pins {fingerprint(exc.expected_key)}; refusing to connect "
                "(someone may be intercepting the connection; if the box was reinstalled, check the "
                "new fingerprint on its console and replace the pinned line)") from None
        except paramiko.AuthenticationException as exc:
            raise Unreachable(f"{where}: login refused ({exc}); key {self.box.key or '(ssh agent)'}") from None
        except (paramiko.SSHException, OSError, EOFError, socket.timeout) as exc:
            raise Unreachable(f"{where}: cannot connect: {exc or type(exc).__name__}") from None


class HostGroup(fabric.ThreadingGroup):
    """Fabric's ThreadingGroup running a per-box function on every member at once.

    Fabric's groups run one method with the same arguments on each connection; ours
    run ``connection.call(fn)``, through ``_do``, the hook Fabric keeps for subclasses.
    """

    def call(self, fn: Callable[[BoxConnection], Any]) -> dict[BoxConnection, Any]:
        """``{connection: fn(connection) or the exception it raised}``."""
        try:
            return dict(self._do("call", fn))
        except GroupException as exc:
            return dict(exc.result)


@dataclass(frozen=True)
class CommandResult:
    command: str
    exited: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exited == 0

    def tail(self, lines: int = 5) -> str:
        """The last lines of stderr (or stdout), joined for a one-line report."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(text[-lines:]) or f"exit status {self.exited}"


class Remote:
    """Commands and files on one box; paths are as on an installed box (below ``layout``)."""

    def __init__(self, connection: BoxConnection, layout: Layout) -> None:
        self.cxn = connection
        self.layout = layout
        self.name = connection.box.name

    def run(self, command: str, timeout: float | None = 900) -> CommandResult:
        try:
            result = self.cxn.run(command, timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc or type(exc).__name__}") from None
        if result.exited == -1:  # the channel closed without an exit status: the box went away
            raise ConnectionLost(f"connection to {self.name} lost while running: {command[:80]}")
        log.debug("event=remote_run box=%s exited=%s command=%r", self.name, result.exited, command)
        return CommandResult(command, result.exited, result.stdout, result.stderr)

    def _sftp(self) -> paramiko.SFTPClient:
        try:
            return self.cxn.sftp()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc or type(exc).__name__}") from None

    def read(self, path: str) -> bytes | None:
        """Content of ``path`` on the box, or None if there is no such file."""
        sftp = self._sftp()
        try:
            with sftp.open(self.layout.at(path), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc}") from None

    def exists(self, path: str) -> bool:
        try:
            self._sftp().lstat(self.layout.at(path))
            return True
        except FileNotFoundError:
            return False

    def mode(self, path: str) -> int | None:
        try:
            return self._sftp().stat(self.layout.at(path)).st_mode & 0o7777
        except FileNotFoundError:
            return None

    def listdir(self, path: str) -> list[str]:
        try:
            return self._sftp().listdir(self.layout.at(path))
        except FileNotFoundError:
            return []

    def write(self, path: str, content: bytes, mode: int = 0o644) -> None:
        """Write ``path`` in place (use :meth:`stage` + :meth:`replace` for live files)."""
        real = self.layout.at(path)
        sftp = self._sftp()
        try:
            sftp.putfo(io.BytesIO(content), real, confirm=True)
            sftp.chmod(real, mode)
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc}") from None

    def stage(self, path: str, content: bytes, mode: int) -> str:
        """Write ``path.qbox-new`` beside ``path``; returns the staged box path."""
        staged = path + ".qbox-new"
        self.write(staged, content, mode)
        return staged

    def replace(self, staged: str, path: str) -> None:
        """Atomically move ``staged`` over ``path`` (rename in one directory)."""
        try:
            self._sftp().posix_rename(self.layout.at(staged), self.layout.at(path))
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc}") from None

    def write_atomic(self, path: str, content: bytes, mode: int = 0o644) -> None:
        self.replace(self.stage(path, content, mode), path)

    def remove(self, *paths: str) -> None:
        if paths:
            self.run("rm -f -- " + " ".join(shlex.quote(self.layout.at(p)) for p in paths))

    def readlink(self, path: str) -> str | None:
        try:
            return self._sftp().readlink(self.layout.at(path))
        except (FileNotFoundError, OSError):
            return None

    def link_atomic(self, target: str, path: str) -> None:
        """Point symlink ``path`` at ``target`` (relative) with one rename: never missing."""
        temp = self.layout.at(path + ".qbox-new")
        result = self.run(f"ln -sfn {shlex.quote(target)} {shlex.quote(temp)} && "
                          f"mv -Tf {shlex.quote(temp)} {shlex.quote(self.layout.at(path))}")
        if not result.ok:
            raise QboxError(f"cannot switch {path} to {target}: {result.tail()}")

    def upload(self, real_path: str, content: bytes) -> None:
        """Write ``content`` at a real path on the box (not below the root)."""
        try:
            self._sftp().putfo(io.BytesIO(content), real_path, confirm=True)
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc}") from None

    def download(self, real_path: str, local: Path) -> None:
        """Fetch a real path on the box to ``local`` on this machine."""
        try:
            self._sftp().get(real_path, str(local))
        except (paramiko.SSHException, EOFError) as exc:
            raise ConnectionLost(f"connection to {self.name} lost: {exc}") from None

    def quote(self, path: str) -> str:
        """``path`` below the root, quoted for the box's shell."""
        return shlex.quote(self.layout.at(path))
