#!/usr/bin/env python3
"""Build the qbox appliance image: a cached Debian base plus the qbox wheel of this checkout.

The image comes in two layers, so that changing qbox's code never rebuilds the slow part:

* the **base** (``images/base/``): Debian bookworm made by mmdebstrap with the pinned kernel,
  its headers, dahdi-dkms (whose DKMS build runs during the image build), the DAHDI tools and
  Python 3 with qbox's dependencies, turned into an ext4 disk with ``mkfs.ext4 -d`` (no loop
  mounts).  Its kernel and initrd are copied out beside it for ``qemu -kernel/-initrd``.  It is
  cached under a key hashed from the recipe (every file in ``images/base/`` and the mmdebstrap
  command line), so an unchanged recipe is built once per machine;
* the **wheel**: qbox built from this checkout as provisioning builds releases (cached by
  content, so a code change costs seconds).  A test rig puts it into the guest on a small
  second disk on every boot.

The cache lives outside the checkout: ``$QBOX_IMAGE_CACHE``, else ``$XDG_CACHE_HOME/qbox/images``,
else ``~/.cache/qbox/images``.  Usage (as root; ``make image`` runs the first)::

    python3 images/build.py              # build or reuse both; print what was built as JSON
    python3 images/build.py base         # only the base image
    python3 images/build.py wheel        # only the wheel (run with the qbox venv's python)

Building the base needs mmdebstrap, e2fsprogs and the Debian mirror; nothing else is downloaded.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["BaseImage", "cache_dir", "base_key", "build_base", "build_wheel", "read_packages", "main"]

log = logging.getLogger("qbox.images")

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
RECIPE = HERE / "base"

SUITE = "bookworm"
MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# Documentation and translations are of no use on a headless box and make a third of a minbase.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
)
# Spare room in the root file system (the rig boots it with snapshot=on, so this is only for
# what a guest writes during one run).
ROOTFS_SPARE_BYTES = 256 << 20



@dataclass(frozen=True)
class BaseImage:
    """One built base image: the paths a qemu rig needs, and what went into it."""

    directory: str
    key: str
    rootfs: str
    kernel: str
    initrd: str
    kernel_release: str
    build_seconds: float
    size_bytes: int

    @classmethod
    def load(cls, directory: Path) -> "BaseImage":
        manifest = json.loads((directory / "manifest.json").read_text())
        return cls(directory=str(directory), **{k: manifest[k] for k in (
            "key", "kernel_release", "build_seconds", "size_bytes")},
            rootfs=str(directory / "rootfs.ext4"), kernel=str(directory / "vmlinuz"),
            initrd=str(directory / "initrd.img"))


def cache_dir() -> Path:
    """Where built images are kept (created on first use)."""
    if os.environ.get("QBOX_IMAGE_CACHE"):
        root = Path(os.environ["QBOX_IMAGE_CACHE"])
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qbox" / "images"
    root.mkdir(parents=True, exist_ok=True)
    return root


def read_packages(path: Path = RECIPE / "packages.txt") -> list[str]:
    """The package list: one ``name`` or ``name=version`` a line; ``#`` starts a comment."""
    packages = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        word = line.split("#", 1)[0].strip()
        if not word:
            continue
        if " " in word:
            raise ValueError(f"{path}:{number}: one package per line, got {word!r}")
        packages.append(word)
    return packages


def _mmdebstrap_command(target: Path, recipe: Path = RECIPE) -> list[str]:
    command = ["mmdebstrap", "--mode=root", "--variant=apt", "--format=directory",
               "--include=" + ",".join(read_packages())]
    command += [f"--dpkgopt={option}" for option in DPKG_OPTIONS]
    command += [f"--customize-hook={recipe / 'customize.sh'} \"$1\""]
    command += [SUITE, str(target), *MIRRORS]
    return command


def base_key() -> str:
    """A hash of everything the base image is made from: recipe files and the build command."""
    digest = hashlib.sha256()
    for path in sorted(p for p in RECIPE.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(RECIPE)).encode() + b"\0")
        digest.update(oct(path.stat().st_mode & 0o777).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    # Relative paths: the same recipe in another clone (CI's) has the same key.
    command = _mmdebstrap_command(Path("TARGET"), recipe=Path("images/base"))
    digest.update("\0".join(command).encode())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(name: str):
    """Serialise builds of one cache entry across processes (two test workers, `make image`)."""
    with open(cache_dir() / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    log.info("run command=%s", " ".join(command))
    return subprocess.run(command, check=True, **kwargs)


def _tree_size(root: Path) -> tuple[int, int]:
    """(bytes, entries) of a directory tree, without following symlinks."""
    total = count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            count += 1
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total, count


def _make_ext4(source: Path, image: Path, label: str) -> None:
    """An ext4 disk holding ``source``'s tree, written with ``mkfs.ext4 -d`` (no loop mount)."""
    size, entries = _tree_size(source)
    # ext4 metadata and block rounding cost about a fifth over the file sizes.
    blocks_k = (size * 6 // 5 + ROOTFS_SPARE_BYTES) // 1024
    inodes = entries + entries // 4 + 4096
    _run(["mkfs.ext4", "-q", "-F", "-L", label, "-m", "0", "-N", str(inodes),
          "-E", "root_owner=0:0", "-d", str(source), str(image), f"{blocks_k}k"])


def _kernel_files(root: Path) -> tuple[Path, Path, str]:
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if len(kernels) != 1:
        raise RuntimeError(f"expected one kernel in the image's /boot, found {kernels}")
    release = kernels[0].name.removeprefix("vmlinuz-")
    initrd = root / "boot" / f"initrd.img-{release}"
    if not initrd.exists():
        raise RuntimeError(f"the image has no initrd for kernel {release}")
    return kernels[0], initrd, release


def build_base(force: bool = False) -> tuple[BaseImage, bool]:
    """The cached base image for the current recipe, building it if needed.

    Returns (image, built) where built says whether this call built it.
    """
    key = base_key()
    final = cache_dir() / f"base-{key}"
    with _locked(f"base-{key}"):
        if (final / "manifest.json").exists() and not force:
            log.info("base image cached key=%s dir=%s", key, final)
            os.utime(final)  # most recently used: the last to be pruned
            return BaseImage.load(final), False
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f"base-{key}.", dir=cache_dir()))
        try:
            root = work / "root"
            env = dict(os.environ, QBOX_OVERLAY=str(RECIPE / "overlay"))
            _run(_mmdebstrap_command(root), env=env)
            kernel, initrd, release = _kernel_files(root)
            out = work / "image"
            out.mkdir()
            shutil.copy2(kernel, out / "vmlinuz")
            shutil.copy2(initrd, out / "initrd.img")
            packages = subprocess.run(
                ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package}=${Version}\\n"],
                check=True, capture_output=True, text=True).stdout.split()
            _make_ext4(root, out / "rootfs.ext4", "qboxroot")
            shutil.rmtree(root)
            manifest = {
                "key": key, "kernel_release": release,
                "build_seconds": round(time.monotonic() - started, 1),
                "size_bytes": sum(_allocated(out / name) for name in
                                  ("rootfs.ext4", "vmlinuz", "initrd.img")),
                "packages": packages,
            }
            (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
            if final.exists():
                shutil.rmtree(final)
            out.rename(final)
            _prune("base-????????????????", keep=2)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log.info("base image built key=%s seconds=%.0f", key, time.monotonic() - started)
        return BaseImage.load(final), True


def _prune(pattern: str, keep: int) -> None:
    """Remove all but the ``keep`` newest cache entries matching ``pattern`` (old recipes)."""
    entries = sorted(cache_dir().glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        log.info("cache prune path=%s", old)
        shutil.rmtree(old, ignore_errors=True)


def _allocated(path: Path) -> int:
    """Bytes a (sparse) file really occupies on disk."""
    return path.stat().st_blocks * 512


def build_wheel() -> Path:
    """The qbox wheel of this checkout: the release provisioning ships (:mod:`provisioning.release`,
    cached by content, reusing the kernels ``make build`` compiled).  Needs the qbox venv."""
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    from provisioning.release import ReleaseBuilder

    return ReleaseBuilder(CHECKOUT).wheel()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="?", choices=("all", "base", "wheel"), default="all")
    parser.add_argument("--force", action="store_true", help="rebuild the base even if cached")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="images: %(message)s", stream=sys.stderr)
    result: dict[str, object] = {}
    if args.what in ("all", "base"):
        started = time.monotonic()
        image, built = build_base(force=args.force)
        result["base"] = asdict(image) | {"built_now": built,
                                          "seconds": round(time.monotonic() - started, 1)}
    if args.what in ("all", "wheel"):
        started = time.monotonic()
        wheel = build_wheel()
        result["wheel"] = {"path": str(wheel), "seconds": round(time.monotonic() - started, 1)}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
