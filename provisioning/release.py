"""The qbox release a box should run: the wheel built from a source checkout.

A release is named by its content, ``VERSION-HASH`` (``0.1.0-3f2a9c81d0e4``), where the
hash covers every file that goes into the wheel.  Wheel builds are not byte-for-byte
reproducible, so naming releases by content is what lets a second ``apply`` from an
unchanged checkout find every box up to date.

Building is lazy (``plan`` never builds) and cached per release in a cache directory
shared by concurrent runs under a lock.  The build happens in a staging copy of the
sources kept in the cache, whose ``build/`` directory survives, so unchanged Cython
kernels are not compiled again: a rebuild after a Python-only change takes seconds.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from appliance.errors import BadInput, QboxError

__all__ = ["Release", "ReleaseBuilder", "default_cache_dir", "default_source"]

log = logging.getLogger(__name__)

_TOP_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "README.md")
_SKIP_DIRS = ("__pycache__", "*.egg-info", "build", "dist", ".*")
_SKIP_FILES = ("*.pyc", "*.pyo", "*.so", "*.o", "*.html")
_VERSION = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


def default_source() -> Path:
    """The checkout this code runs from (the one ``pip install -e .`` points at)."""
    return Path(__file__).resolve().parents[1]


def default_cache_dir() -> Path:
    if os.environ.get("QBOX_PROVISION_CACHE"):
        return Path(os.environ["QBOX_PROVISION_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "qbox" / "provision"


@dataclass(frozen=True)
class Release:
    id: str
    version: str
    files: dict[str, tuple[bytes, bool]]   # relative path -> (content, executable)


class ReleaseBuilder:
    """Snapshots a checkout once, names its release, and builds its wheel on demand."""

    def __init__(self, source: Path | None = None, cache_dir: Path | None = None) -> None:
        self.source = (source or default_source()).resolve()
        self.cache_dir = cache_dir or default_cache_dir()
        self._release: Release | None = None
        self._wheel: Path | None = None
        self._lock = threading.Lock()   # every box's thread asks; one snapshot, one build

    @property
    def release(self) -> Release:
        with self._lock:
            if self._release is None:
                self._release = self._snapshot()
            return self._release

    def wheel(self) -> Path:
        """The wheel of :attr:`release`, built now unless the cache has it."""
        release = self.release
        with self._lock:
            if self._wheel is None:
                self._wheel = self._build(release)
            return self._wheel

    def _snapshot(self) -> Release:
        if not (self.source / "pyproject.toml").is_file():
            raise BadInput(f"{self.source} is not a qbox source checkout (no pyproject.toml); "
                           "pass --source with a checkout to build the wheel from")
        files: dict[str, tuple[bytes, bool]] = {}
        for rel in _wheel_sources(self.source):
            path = self.source / rel
            files[rel] = (path.read_bytes(), os.access(path, os.X_OK))
        digest = hashlib.sha256()
        for rel in sorted(files):
            content, executable = files[rel]
            digest.update(f"{rel}\0{int(executable)}\0{len(content)}\0".encode())
            digest.update(content)
        init = files.get("appliance/__init__.py", (b"", False))[0].decode("utf-8", "replace")
        match = _VERSION.search(init)
        version = match.group(1) if match else "0"
        return Release(f"{version}-{digest.hexdigest()[:12]}", version, files)

    def _build(self, release: Release) -> Path:
        out = self.cache_dir / "wheels" / release.id
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self.cache_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)   # concurrent runs share one build
            found = sorted(out.glob("*.whl")) if out.is_dir() else []
            if found:
                return found[0]
            tree = self.cache_dir / "tree"
            _sync_tree(tree, release.files)
            _seed_built_kernels(self.source, tree, release.files)
            with tempfile.TemporaryDirectory(dir=self.cache_dir) as scratch:
                log.info("event=wheel_build release=%s source=%s", release.id, self.source)
                command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "--quiet", "--wheel-dir", scratch, str(tree)]
                done = subprocess.run(command, capture_output=True, text=True)
                wheels = sorted(Path(scratch).glob("*.whl"))
                if done.returncode != 0 or not wheels:
                    tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
                    raise QboxError(f"building the qbox wheel from {self.source} failed: {tail}")
                out.mkdir(parents=True, exist_ok=True)
                target = out / wheels[0].name
                shutil.move(str(wheels[0]), target)
            return target


def _wheel_sources(source: Path) -> list[str]:
    """Relative paths of the files the wheel is made from: the packaging files and every
    top-level package except ``tests``; git's view when the checkout is a git tree."""
    listed = _git_files(source)
    if listed is None:
        listed = [str(p.relative_to(source)) for p in _walk(source)]
    packages = {d.name for d in source.iterdir() if (d / "__init__.py").is_file() and d.name != "tests"}
    chosen = []
    for rel in listed:
        top = rel.split("/", 1)[0]
        if rel in _TOP_FILES or (top in packages and "/" in rel):
            if not any(fnmatch(rel.rsplit("/", 1)[-1], p) for p in _SKIP_FILES) and (source / rel).is_file():
                chosen.append(rel)
    return sorted(chosen)


def _git_files(source: Path) -> list[str] | None:
    try:
        done = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "--cached", "--others",
                               "--exclude-standard"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    prefix = subprocess.run(["git", "-C", str(source), "rev-parse", "--show-prefix"],
                            capture_output=True, text=True).stdout.strip()
    if prefix:  # the source is a sub-directory of a larger repository
        return None
    return [name for name in done.stdout.decode().split("\0") if name]


def _walk(source: Path):
    for directory, dirs, names in os.walk(source):
        dirs[:] = [d for d in dirs if not any(fnmatch(d, p) for p in _SKIP_DIRS)]
        stems = {n[:-4] for n in names if n.endswith(".pyx")}
        for name in names:
            if name.endswith(".c") and name[:-2] in stems:
                continue  # Cython's output, rebuilt from the .pyx
            yield Path(directory) / name


def _sync_tree(tree: Path, files: dict[str, tuple[bytes, bool]]) -> None:
    """Make ``tree`` hold exactly ``files``.  Unchanged files (and build/) are left alone
    and changed ones are written now, so setuptools and Cython, which go by timestamps,
    rebuild exactly what changed."""
    manifest = tree / ".qbox-files"
    previous = set(manifest.read_text().split("\0")) - {""} if manifest.exists() else set()
    for rel in previous - set(files):
        (tree / rel).unlink(missing_ok=True)
    for rel, (content, executable) in files.items():
        path = tree / rel
        if not path.is_file() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        path.chmod(0o755 if executable else 0o644)
    manifest.write_text("\0".join(sorted(files)))


def _seed_built_kernels(source: Path, tree: Path, files: dict[str, tuple[bytes, bool]]) -> None:
    """Reuse the checkout's in-place built Cython kernels (``make build``) when up to date.

    A kernel is up to date when its ``.pyx`` is older than its generated ``.c``, and that
    older than its extension module.  Its ``.c`` then goes beside the ``.pyx`` and the
    module where setuptools' build_ext puts it, all three with the checkout's times, so
    Cython and setuptools skip it as they skip their own fresh output.
    """
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    lib = tree / "build" / f"lib.{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
    for rel in files:
        if not rel.endswith(".pyx"):
            continue
        stem = rel[:-len(".pyx")]
        pyx, generated, module = source / rel, source / f"{stem}.c", source / f"{stem}{suffix}"
        if not (generated.is_file() and module.is_file()):
            continue
        times = [p.stat().st_mtime for p in (pyx, generated, module)]
        if times != sorted(times) or pyx.read_bytes() != files[rel][0]:
            continue
        for origin, target in ((pyx, tree / rel), (generated, tree / f"{stem}.c"), (module, lib / f"{stem}{suffix}")):
            target.parent.mkdir(parents=True, exist_ok=True)
            if target != tree / rel:
                shutil.copyfile(origin, target)
            mtime = origin.stat().st_mtime
            os.utime(target, (mtime, mtime))
