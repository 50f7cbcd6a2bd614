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

from dockyard.errors import InvalidArgument, NotFound
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


def read_ids(root: Path, spec: str) -> tuple[int, int]:
    """`user[:group]` (names or numbers) → (uid, gid) using the image's /etc/passwd and group."""
    user, _, group = spec.partition(":")
    uid = gid = None
    if user.isdigit():
        uid = int(user)
    else:
        entry = _lookup(root, "etc/passwd", user)
        if entry is None:
            raise NotFound(f"unable to find user {user}: no matching entry in the image's passwd")
        uid, gid = int(entry[2]), int(entry[3])
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            entry = _lookup(root, "etc/group", group)
            if entry is None:
                raise NotFound(
                    f"unable to find group {group}: no matching entry in the image's group"
                )
            gid = int(entry[2])
    elif gid is None:
        # A numeric uid takes its passwd entry's group if any, else the same number.
        entry = next((e for e in _entries(root, "etc/passwd") if e[2] == user), None)
        gid = int(entry[3]) if entry is not None else uid
    return uid, gid


def supplementary_gids(root: Path, user: str, gid: int) -> tuple[int, ...]:
    """The groups of /etc/group that list `user` as a member, other than `gid`."""
    return tuple(
        int(e[2])
        for e in _entries(root, "etc/group")
        if len(e) > 3 and user in e[3].split(",") and e[2].isdigit() and int(e[2]) != gid
    )


def user_name(root: Path, uid: int) -> str | None:
    """The passwd name of `uid` in the image, if any."""
    entry = next((e for e in _entries(root, "etc/passwd") if e[2] == str(uid)), None)
    return entry[0] if entry is not None else None


def _entries(root: Path, name: str) -> list[list[str]]:
    path = secure_join(root, name)
    try:
        text = path.read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    rows = [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]
    return [r for r in rows if len(r) > 3 and r[2].isdigit() and (name != "etc/passwd"
            or r[3].isdigit())]  # fmt: skip


def _lookup(root: Path, name: str, key: str) -> list[str] | None:
    return next((e for e in _entries(root, name) if e[0] == key), None)
