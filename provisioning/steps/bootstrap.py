"""bootstrap: the qbox user, the directories, and the release's venv with the qbox wheel.

The venv is made from the box's own Python (``vars.python``) with
``--system-site-packages``: the libraries qbox needs come from the box's image
(Debian's python3-yaml, python3-serial, ...), and the wheel built from this checkout
is installed with ``--no-deps --no-index``, so a branch box never needs the Internet.
Each release gets its own venv under ``/opt/qbox/releases/ID``; installing one does not
touch the running release (``configure`` activates it), and a venv whose install did
not finish has no ``.qbox-release`` marker and is made again.
"""
from __future__ import annotations

import json
import shlex
import sys

from provisioning.layout import DIRECTORIES, RELEASES, WHEELS, Layout
from provisioning.state import iso_time
from provisioning.steps import HostContext, StepFailed, StepResult

__all__ = ["NAME", "run", "USER"]

NAME = "bootstrap"
USER = "qbox"


def run(ctx: HostContext, result: StepResult) -> None:
    _check_python(ctx)
    _ensure_user(ctx, result)
    _ensure_directories(ctx, result)
    _ensure_release(ctx, result)


def _check_python(ctx: HostContext) -> None:
    python = ctx.box.vars.python
    probe = ctx.remote.run(f"{shlex.quote(python)} -c 'import sys, venv; print(\"%d.%d\" % sys.version_info[:2])'")
    if not probe.ok:
        raise StepFailed(f"{python} on the box cannot make a venv: {probe.tail()}")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if probe.stdout.strip() != here:
        raise StepFailed(f"the box's {python} is Python {probe.stdout.strip()} but the qbox wheel is built "
                         f"for Python {here} (this laptop's); run qbox provision from a Python {probe.stdout.strip()}")


def _passwd(layout: Layout) -> str:
    return layout.at("/etc/passwd")


def _ensure_user(ctx: HostContext, result: StepResult) -> None:
    remote, layout = ctx.remote, Layout(ctx.box.root)
    if remote.run(f"grep -q '^{USER}:' {shlex.quote(_passwd(layout))}").ok:
        return
    result.change(f"user {USER}")
    if ctx.plan_only:
        return
    prefix = ""
    if layout.root not in ("", "/"):  # a staged tree gets its own passwd, not the host's
        etc = shlex.quote(layout.at("/etc"))
        prefix = f"--prefix {shlex.quote(layout.root)} "
        remote.run(f"mkdir -p {etc} && cd {etc} && touch passwd group shadow gshadow")
    done = remote.run(f"useradd {prefix}--system --user-group --home-dir /var/lib/qbox --no-create-home "
                      f"--shell /usr/sbin/nologin {USER}")
    if not done.ok:
        raise StepFailed(f"cannot create user {USER}: {done.tail()}")


def _ensure_directories(ctx: HostContext, result: StepResult) -> None:
    remote, layout = ctx.remote, Layout(ctx.box.root)
    paths = " ".join(shlex.quote(layout.at(d)) for d, _ in DIRECTORIES)
    missing = set(remote.run(f'for d in {paths}; do [ -d "$d" ] || echo "$d"; done').stdout.split())
    todo = [(d, owned) for d, owned in DIRECTORIES if layout.at(d) in missing]
    for directory, _ in todo:
        result.change(f"directory {directory}")
    if ctx.plan_only or not todo:
        return
    owned = " ".join(shlex.quote(layout.at(d)) for d, mine in todo if mine)
    command = "mkdir -p " + " ".join(shlex.quote(layout.at(d)) for d, _ in todo)
    if owned:
        owner = f"$(awk -F: '$1==\"{USER}\" {{print $3\":\"$4}}' {shlex.quote(_passwd(layout))})"
        command += f" && chown {owner} {owned} && chmod 0750 {owned}"
    done = remote.run(command)
    if not done.ok:
        raise StepFailed(f"cannot create directories: {done.tail()}")


def _ensure_release(ctx: HostContext, result: StepResult) -> None:
    remote, layout = ctx.remote, Layout(ctx.box.root)
    release = ctx.builder.release
    venv = f"{RELEASES}/{release.id}"
    if remote.exists(f"{venv}/.qbox-release"):
        return
    result.change(f"install release {release.id}")
    if ctx.plan_only:
        return
    wheel = ctx.builder.wheel()
    remote_wheel = f"{WHEELS}/{release.id}/{wheel.name}"
    if not remote.exists(remote_wheel):
        remote.run(f"mkdir -p {remote.quote(f'{WHEELS}/{release.id}')}")
        remote.write_atomic(remote_wheel, wheel.read_bytes())
    python = shlex.quote(ctx.box.vars.python)
    # The box's pip, seen through --system-site-packages, installs into the venv; without
    # one, the venv brings its own (ensurepip, slower).
    with_pip = "" if remote.run(f"{python} -m pip --version").ok else None
    venv_flags = "--system-site-packages" + (" --without-pip" if with_pip is not None else "")
    steps = [
        f"rm -rf {remote.quote(venv)}",
        f"{python} -m venv {venv_flags} {remote.quote(venv)}",
        f"{remote.quote(venv + '/bin/python')} -m pip install --no-deps --no-index --no-cache-dir "
        f"--disable-pip-version-check --quiet {remote.quote(remote_wheel)}",
    ]
    done = remote.run(" && ".join(steps))
    if not done.ok:
        raise StepFailed(f"installing release {release.id} failed: {done.tail()}")
    smoke = remote.run(f"{layout.qbox(release.id)} version --json")
    try:
        version = json.loads(smoke.stdout)["version"] if smoke.ok else None
    except (ValueError, KeyError, TypeError):
        version = None
    if version != release.version:
        raise StepFailed(f"release {release.id} installed but `qbox version` does not run on the box "
                         f"(missing libraries in the box image?): {smoke.tail()}")
    marker = {"release": release.id, "version": release.version, "wheel": wheel.name,
              "installed": iso_time(ctx.clock.wall())}
    remote.write(f"{venv}/.qbox-release", (json.dumps(marker) + "\n").encode())
