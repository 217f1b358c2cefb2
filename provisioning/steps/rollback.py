"""rollback: go back to the box's previous generation (release and files).

The previous files come from the box's own store, so the laptop needs nothing but the
inventory.  The restored configuration is checked by the restored release before it
replaces the live one, exactly as ``configure`` does; the handlers step then restarts
what changed.  Rolling back again goes one generation further, while there is one.
"""
from __future__ import annotations

from provisioning.layout import RELEASES, STORE
from provisioning.render import ManagedFile
from provisioning.state import BoxState
from provisioning.steps import HostContext, StepFailed, StepResult
from provisioning.steps.configure import activate

__all__ = ["NAME", "run"]

NAME = "rollback"


def run(ctx: HostContext, result: StepResult) -> None:
    remote = ctx.remote
    state = BoxState.read(remote)
    current, target = state.current, state.previous
    if current is None or target is None:
        raise StepFailed("nothing to roll back to: the box has "
                         f"{len(state.generations)} recorded generation(s); rollback needs two")
    if not remote.exists(f"{RELEASES}/{target.release}/.qbox-release"):
        raise StepFailed(f"the previous release {target.release} is no longer installed on the box")
    files = []
    for path, info in target.files.items():
        content = remote.read(f"{STORE}/{info['sha256']}")
        if content is None:
            raise StepFailed(f"the previous version of {path} is missing from the box's store")
        files.append(ManagedFile(path, content, info["mode"]))
    state.generations.pop()
    result.details = {"from": {"generation": current.number, "release": current.release},
                      "to": {"generation": target.number, "release": target.release}}
    activate(ctx, result, files, target.release, state)
