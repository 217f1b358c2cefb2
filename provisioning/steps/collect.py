"""collect: a diagnostic bundle from the box, fetched to the laptop as one .tar.gz.

The bundle holds ``MANIFEST.json`` (what was collected, each item ``ok``, ``failed`` or
``not available`` in the box's release), the service's own views (status, alarms,
spans, the last day's CDRs, a short D-channel capture of every trunk span), the
installed files and provisioning state, and the logs.
"""
from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from provisioning.boxcli import NOT_AVAILABLE, not_available
from provisioning.layout import ASOUND, CONFIG, CONTROL_SOCKET, STATE_FILE, STORE_DB, SYSTEM_CONF, UDEV_RULES, UNIT, Layout
from provisioning.steps import FAILED, OK, HostContext, StepFailed, StepResult

__all__ = ["NAME", "run"]

NAME = "collect"
_COPIED = (CONFIG, SYSTEM_CONF, UNIT, ASOUND, UDEV_RULES, STATE_FILE)


def _qbox_items(ctx: HostContext, workdir: str) -> list[tuple[str, list[str]]]:
    """(file in the bundle, qbox arguments) for each view of the service."""
    layout = Layout(ctx.box.root)
    config, db, socket = layout.at(CONFIG), layout.at(STORE_DB), layout.at(CONTROL_SOCKET)
    seconds = str(ctx.options.get("capture_seconds") or 5)
    items = [
        ("version.json", ["version", "--json"]),
        ("config-check.json", ["config", "check", "--json", config]),
        ("status.json", ["status", "--socket", socket, "--json"]),
        ("alarms.json", ["alarms", "--db", db, "--all", "--json"]),
        ("spans.json", ["span", "list", "--config", config, "--json"]),
        ("cdr.json", ["cdr", "export", "--db", db, "--since", "1d", "--last", "200", "--format", "json"]),
    ]
    for span in ctx.box.config.trunk_spans:
        pcap = f"dchannel-span{span.number}.pcap"
        items.append((pcap, ["capture", "dchan", str(span.number), "-o", f"{workdir}/{pcap}", "--duration",
                             seconds, "--socket", socket, "--device", ctx.box.config.dahdi.device]))
    return items


def run(ctx: HostContext, result: StepResult) -> None:
    remote, layout = ctx.remote, Layout(ctx.box.root)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ctx.clock.wall()))
    name = f"{ctx.box.name}-{stamp}"
    made = remote.run(f"mktemp -d {shlex.quote(layout.at('/var/tmp'))}/qbox-collect.XXXXXX")
    if not made.ok:
        raise StepFailed(f"cannot make a work directory on the box: {made.tail()}")
    workdir = made.stdout.strip()
    bundle_dir = f"{workdir}/{name}"
    try:
        remote.run(f"mkdir -p {shlex.quote(bundle_dir)}/files {shlex.quote(bundle_dir)}/logs")
        manifest = _gather(ctx, bundle_dir)
        manifest_text = json.dumps({"box": ctx.box.name, "branch": ctx.box.branch, "collected": stamp,
                                    "items": manifest}, indent=1) + "\n"
        remote.upload(f"{bundle_dir}/MANIFEST.json", manifest_text.encode())
        tarball = f"{workdir}/{name}.tar.gz"
        packed = remote.run(f"tar -czf {shlex.quote(tarball)} -C {shlex.quote(workdir)} {shlex.quote(name)}")
        if not packed.ok:
            raise StepFailed(f"cannot pack the bundle: {packed.tail()}")
        output = Path(ctx.options.get("output") or ".")
        output.mkdir(parents=True, exist_ok=True)
        local = output / f"{name}.tar.gz"
        remote.download(tarball, local)
    finally:
        remote.run(f"rm -rf {shlex.quote(workdir)}")
    result.details["bundle"] = str(local)
    result.details["items"] = manifest
    waiting = [i["file"] for i in manifest if i["status"] == NOT_AVAILABLE]
    result.message = f"{local} ({len(manifest)} items" + (
        f"; not available in this release: {', '.join(waiting)})" if waiting else ")")


def _gather(ctx: HostContext, bundle: str) -> list[dict]:
    remote, layout = ctx.remote, Layout(ctx.box.root)
    qbox = shlex.quote(layout.qbox())
    manifest = []
    for file, args in _qbox_items(ctx, bundle):
        target = shlex.quote(f"{bundle}/{file}")
        command = " ".join([qbox, *map(shlex.quote, args)])
        writes_itself = "-o" in args
        done = remote.run(command if writes_itself else f"{command} > {target}")
        status = NOT_AVAILABLE if not_available(done) else OK if done.ok else FAILED
        if status != OK:
            remote.run(f"rm -f {target}")
        manifest.append({"file": file, "command": "qbox " + " ".join(args), "status": status,
                         "exit": done.exited, "stderr": done.stderr.strip()[-500:]})
    for path in _COPIED:
        done = remote.run(f"cp -p {remote.quote(path)} {shlex.quote(bundle)}/files/ 2>&1")
        manifest.append({"file": f"files/{path.rsplit('/', 1)[-1]}", "command": f"copy {path}",
                         "status": OK if done.ok else FAILED, "exit": done.exited, "stderr": done.stdout.strip()})
    logs = [f"cp -pr {remote.quote('/var/log/qbox')}/. {shlex.quote(bundle)}/logs/"]
    if layout.root in ("", "/"):
        logs.append(f"journalctl -u qbox.service --since -24h --no-pager > {shlex.quote(bundle)}/logs/journal.txt")
    for command in logs:
        done = remote.run(command)
        manifest.append({"file": "logs/", "command": command.split(" ", 1)[0], "status": OK if done.ok else FAILED,
                         "exit": done.exited, "stderr": done.stderr.strip()[-500:]})
    return manifest
