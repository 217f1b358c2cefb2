"""configure: install the box's files and activate its release, validated before the swap.

Changed files are first written beside the live ones (``FILE.qbox-new``); the release
being activated checks the staged box YAML with ``qbox config check``; only then are
the files renamed over the live ones (atomic per file) and ``/opt/qbox/current``
switched.  A failed check removes the staged files, so the old configuration keeps
running.  Every activation is recorded as a generation (see :mod:`provisioning.state`)
with the file contents stored on the box, which is what ``rollback`` goes back to.
"""
from __future__ import annotations

import difflib
import json
import posixpath

from provisioning.layout import CONFIG, CURRENT, RELEASES, STORE, Layout
from provisioning.render import NOTIFY, ManagedFile, render_files
from provisioning.state import BoxState, iso_time
from provisioning.steps import HostContext, StepFailed, StepResult

__all__ = ["NAME", "run", "activate", "active_release"]

NAME = "configure"


def run(ctx: HostContext, result: StepResult) -> None:
    activate(ctx, result, render_files(ctx.box), ctx.builder.release.id)


def active_release(ctx: HostContext) -> str | None:
    """The release ``/opt/qbox/current`` points at, or None before the first activation."""
    target = ctx.remote.readlink(CURRENT)
    return posixpath.basename(target.rstrip("/")) if target else None


def activate(ctx: HostContext, result: StepResult, files: list[ManagedFile], release: str,
             state: BoxState | None = None) -> None:
    """Make ``files`` and ``release`` the box's active generation (see module doc).

    Files recorded in the current generation but absent from ``files`` are removed.
    With ``ctx.plan_only`` only the changes and diffs are reported.
    """
    remote = ctx.remote
    state = state if state is not None else BoxState.read(remote)
    changed: list[ManagedFile] = []
    for file in files:
        old = remote.read(file.path)
        if old == file.content and remote.mode(file.path) == file.mode:
            continue
        changed.append(file)
        result.diffs.append({"path": file.path, "diff": _diff(ctx.box.name, file.path, old, file.content)})
        result.change(file.path + (" (new)" if old is None else ""))
    wanted = {f.path for f in files}
    obsolete = [p for p in (state.current.files if state.current else {}) if p not in wanted and remote.exists(p)]
    for path in obsolete:
        result.change(f"{path} (remove)")
    was = active_release(ctx)
    if was != release:
        result.change(f"activate release {release} (active: {was or 'none'})")
        ctx.notify("qbox-restart")
    for path in [f.path for f in changed] + obsolete:
        ctx.notify(*NOTIFY.get(path, ()))
    record = {f.path: {"sha256": f.sha256, "mode": f.mode} for f in files}
    recorded = state.current is not None and (state.current.files, state.current.release) == (record, release)
    if ctx.plan_only or (not result.changes and recorded):
        return
    if result.changes:
        _swap(ctx, changed, obsolete, release, was)
    stored = set(remote.listdir(STORE))
    for file in files:
        if file.sha256 not in stored:
            remote.write(f"{STORE}/{file.sha256}", file.content, 0o600)
    if not recorded:
        state.push(release, record, iso_time(ctx.clock.wall()), ctx.command)
    removed = state.prune(remote, ctx.box.vars.keep_releases)
    state.write(remote)
    for gone in removed:
        result.changes.append(f"pruned release {gone}")


def _swap(ctx: HostContext, changed: list[ManagedFile], obsolete: list[str], release: str,
          was: str | None) -> None:
    remote, layout = ctx.remote, Layout(ctx.box.root)
    if not remote.exists(f"{RELEASES}/{release}/.qbox-release"):
        raise StepFailed(f"release {release} is not installed on the box (run bootstrap first)")
    staged = {}
    try:
        for file in changed:
            staged[file.path] = remote.stage(file.path, file.content, file.mode)
        _check(ctx, layout.qbox(release), staged.get(CONFIG, CONFIG), release)
    except BaseException:
        remote.remove(*staged.values())
        raise
    for file in changed:
        remote.replace(staged[file.path], file.path)
    remote.remove(*obsolete)
    if was != release:
        remote.link_atomic(posixpath.relpath(f"{RELEASES}/{release}", posixpath.dirname(CURRENT)), CURRENT)


def _check(ctx: HostContext, qbox: str, config: str, release: str) -> None:
    """``qbox config check`` of the release being activated, on the staged box YAML."""
    check = ctx.remote.run(f"{qbox} config check --json {ctx.remote.quote(config)}")
    if check.ok:
        return
    try:
        errors = [f"{e['line']}:{e['column']}: {e['path']}: {e['message']}"
                  for e in json.loads(check.stdout)["errors"]]
    except (ValueError, KeyError, TypeError):
        errors = [check.tail()]
    raise StepFailed(f"qbox config check (release {release}) refused the new configuration, "
                     f"nothing was replaced: {'; '.join(errors)}")


def _diff(box: str, path: str, old: bytes | None, new: bytes) -> str:
    try:
        before = (old or b"").decode("utf-8").splitlines(keepends=True)
        after = new.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return f"Binary files {box}:{path} differ\n"
    lines = difflib.unified_diff(before, after, f"{box}:{path} (on the box)" if old is not None else "/dev/null",
                                 f"{box}:{path} (planned)")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
