"""A step's writable root: a snapshot mounted on the host, paths resolved inside it safely.

The builder writes into (COPY) and reads from (COPY --from) image trees on the host, so a
symlink in an image must never lead outside its root: `secure_join` resolves every component
against the root, as runc's securejoin does (CVE-2019-14271 was `docker cp` following one).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockyard.errors import InvalidArgument
from dockyard.image.users import ResolvedUser, resolve_user
from dockyard.storage.mount import mount_snapshot, unmount
from dockyard.storage.snapshots import MountSpec

_MAX_LINKS = 255


class SnapshotMaker(Protocol):
    """The snapshotter verbs a step needs (see `dockyard.storage.snapshots.Snapshotter`)."""

    def prepare(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]: ...
    def view(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]: ...
    def remove(self, key: str) -> None: ...


@dataclass(frozen=True)
class StepRoot:
    """A mounted snapshot: the merged root, and the upper dir holding the step's changes."""

    key: str
    rootfs: Path
    upper: Path


def upper_dir(mounts: Sequence[MountSpec]) -> Path:
    """The directory that receives writes: overlay's upperdir, or the bound dir of no layers."""
    for m in mounts:
        for opt in m.options:
            if opt.startswith("upperdir="):
                return Path(opt.removeprefix("upperdir="))
    return Path(mounts[0].source)


@contextlib.contextmanager
def step_root(
    snapshots: SnapshotMaker, work: Path, layers: Sequence[str], *, readonly: bool = False
) -> Iterator[StepRoot]:
    """Prepare (or view) a snapshot on `layers`, mount it under `work`, remove it afterwards."""
    key = f"build-{secrets.token_hex(8)}"
    directory = work / key
    rootfs = directory / "rootfs"
    rootfs.mkdir(parents=True)
    try:
        mounts = snapshots.view(key, layers) if readonly else snapshots.prepare(key, layers)
        try:
            mount_snapshot(mounts, rootfs)
            try:
                yield StepRoot(key, rootfs, upper_dir(mounts))
            finally:
                unmount(rootfs)
        finally:
            snapshots.remove(key)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def secure_join(root: Path, path: str) -> Path:
    """`path` inside `root`, following symlinks as if `root` were `/`; never leaves `root`."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > _MAX_LINKS:
                raise InvalidArgument(f"{path}: too many levels of symbolic links in the image")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


def ensure_dir(root: Path, path: str, uid: int = 0, gid: int = 0) -> Path:
    """Make directory `path` (and missing parents, 0755) in the image at `root`."""
    target = secure_join(root, path)
    missing: list[Path] = []
    probe = target
    while not probe.exists() and probe != root:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o755)
        os.chown(directory, uid, gid)
    if not target.is_dir():
        raise InvalidArgument(f"{path} exists in the image and is not a directory")
    return target


def image_user(root: Path, spec: str) -> ResolvedUser:
    """`user[:group]` (names or numbers) resolved against the image's own passwd and group."""
    return resolve_user(spec, secure_join(root, "etc/passwd"), secure_join(root, "etc/group"))


def read_ids(root: Path, spec: str) -> tuple[int, int]:
    """`user[:group]` → (uid, gid) in the image at `root` (`COPY --chown`)."""
    user = image_user(root, spec)
    return user.uid, user.gid
