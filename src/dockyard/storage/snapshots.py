"""Snapshotters: turn a stack of unpacked layers into the mounts of a container root (containerd).

A snapshotter plans; it never mounts. `prepare` and `view` return `MountSpec`s that
`dockyard.storage.mount.mount_snapshot` executes. Two implementations share the verbs:
`OverlaySnapshotter` (layers as overlayfs lowerdirs, one upper/work dir per snapshot) and
`CopySnapshotter` (the vfs fallback: layers copied into one directory, mounted with a bind).
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.state.db import StateDB
from dockyard.storage import schema

if TYPE_CHECKING:
    from dockyard.storage.layers import LayerStore


class Kind(enum.Enum):
    """What a snapshot is: writable (`active`) or a read-only `view`."""

    ACTIVE = "active"
    VIEW = "view"


@dataclass(frozen=True)
class MountSpec:
    """One mount to make (containerd's Mount): `options` mixes flags (ro, rbind) and fs data."""

    type: str
    source: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    """Disk space a snapshot holds beyond its layers: bytes on disk and inodes."""

    size: int
    inodes: int


class Snapshotter(Protocol):
    """Makes container roots from layers; the words below mean one thing each.

    - layer: an unpacked, read-only layer in the `LayerStore`, named by its diff-ID.
    - parent_layers: the layers a snapshot stands on, base first (the order of the image
      config's `rootfs.diff_ids`).
    - key: the name of a snapshot this snapshotter made, unique per root. An *active* snapshot
      (from `prepare`) is writable: a container's root. A *view* (from `view`) is read-only.
      containerd's *name* (a committed snapshot) is what we call a layer: committing an
      active snapshot into a layer is the builder's job (diff the upper dir into a tar).

    Example: `prepare("ctr-1", [base, app])` returns the mounts of a writable root whose
    lower part is `base` under `app`; after mounting them at `/run/ctr-1/rootfs`, writes go to
    the snapshot, never to the layers. `remove("ctr-1")` (after unmounting) frees it.
    """

    def prepare(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]:
        """Create the active snapshot `key` on `parent_layers`; returns its mounts."""
        ...

    def view(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]:
        """Create the read-only snapshot `key` on `parent_layers`; returns its mounts."""
        ...

    def mounts(self, key: str) -> list[MountSpec]:
        """The mounts of an existing snapshot, as `prepare`/`view` returned them."""
        ...

    def remove(self, key: str) -> None:
        """Delete a snapshot and its data; it must be unmounted first."""
        ...

    def usage(self, key: str) -> Usage:
        """Space the snapshot's own data takes (not counting shared layers)."""
        ...

    def walk(self) -> list[str]:
        """Every snapshot key of this snapshotter."""
        ...


@dataclass(frozen=True)
class _Record:
    id: int
    key: str
    kind: Kind
    layers: tuple[str, ...]


class _Records:
    """The snapshots' rows in the state database and their directories under `<root>`."""

    def __init__(self, name: str, root: Path, db: StateDB, layers: LayerStore) -> None:
        self.name = name
        self.root = root / "snapshots"
        self.db = db
        self.layers = layers
        schema.migrate(db)

    def create(self, key: str, kind: Kind, parent_layers: Sequence[str]) -> _Record:
        if not key or "\0" in key:
            raise InvalidArgument(f"invalid snapshot key {key!r}: use a non-empty name")
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM snapshots WHERE key = ?", (key,)).fetchone():
                raise Conflict(f"snapshot {key!r} already exists: remove it or pick another key")
            for diff_id in parent_layers:
                self.layers.get(diff_id)  # NotFound names the missing layer
            cur = conn.execute(
                "INSERT INTO snapshots (key, snapshotter, kind, created_at) VALUES (?, ?, ?, ?)",
                (key, self.name, kind.value, time.time()),
            )
            sid = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO snapshot_layers (snapshot_id, position, diff_id) VALUES (?, ?, ?)",
                [(sid, i, diff_id) for i, diff_id in enumerate(parent_layers)],
            )
        return _Record(sid, key, kind, tuple(parent_layers))

    def get(self, key: str) -> _Record:
        rows = self.db.query(
            "SELECT id, kind FROM snapshots WHERE key = ? AND snapshotter = ?", (key, self.name)
        )
        if not rows:
            raise NotFound(f"snapshot {key!r} not found: list them with `dockyard system df`")
        sid = int(rows[0]["id"])
        layers = self.db.query(
            "SELECT diff_id FROM snapshot_layers WHERE snapshot_id = ? ORDER BY position", (sid,)
        )
        return _Record(sid, key, Kind(rows[0]["kind"]), tuple(r["diff_id"] for r in layers))

    def delete(self, key: str) -> None:
        record = self.get(key)
        where = mounted_at(self.dir(record) / "fs")
        if where is not None:
            raise Conflict(f"snapshot {key!r} is mounted at {where}: unmount it first")
        # Data first, row last: a crash in between leaves a row whose remove() can be retried.
        if self.dir(record).exists():
            shutil.rmtree(self.dir(record))
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM snapshots WHERE id = ?", (record.id,))

    def walk(self) -> list[str]:
        rows = self.db.query(
            "SELECT key FROM snapshots WHERE snapshotter = ? ORDER BY id", (self.name,)
        )
        return [r["key"] for r in rows]

    def dir(self, record: _Record) -> Path:
        return self.root / str(record.id)

    def make_dirs(self, record: _Record, *names: str) -> None:
        try:
            for name in names:
                (self.dir(record) / name).mkdir(parents=True, mode=0o755)
        except BaseException:
            self.delete(record.key)
            raise


class OverlaySnapshotter:
    """Layers as overlayfs lowerdirs; an active snapshot owns an upper (`fs`) and work dir."""

    def __init__(self, root: Path, db: StateDB, layers: LayerStore) -> None:
        self._records = _Records("overlay", root, db, layers)
        self._layers = layers

    def prepare(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]:
        """Create the active snapshot `key` on `parent_layers`; returns its mounts."""
        record = self._records.create(key, Kind.ACTIVE, parent_layers)
        self._records.make_dirs(record, "fs", "work")
        return self._mounts(record)

    def view(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]:
        """Create the read-only snapshot `key`; returns its mounts."""
        record = self._records.create(key, Kind.VIEW, parent_layers)
        self._records.make_dirs(record, "fs")
        return self._mounts(record)

    def mounts(self, key: str) -> list[MountSpec]:
        """The mounts of an existing snapshot."""
        return self._mounts(self._records.get(key))

    def remove(self, key: str) -> None:
        """Delete a snapshot; unmount it first."""
        self._records.delete(key)

    def usage(self, key: str) -> Usage:
        """Space used by the upper dir (a view holds nothing)."""
        return disk_usage(self._records.dir(self._records.get(key)))

    def walk(self) -> list[str]:
        """Every overlay snapshot key."""
        return self._records.walk()

    def _mounts(self, record: _Record) -> list[MountSpec]:
        sdir = self._records.dir(record)
        # overlayfs lists lowerdirs top first; parent_layers are base first.
        lowers = [str(self._layers.path(d)) for d in reversed(record.layers)]
        if record.kind is Kind.VIEW:
            if not lowers:
                return [MountSpec("bind", str(sdir / "fs"), ("rbind", "ro"))]
            if len(lowers) == 1:
                return [MountSpec("bind", lowers[0], ("rbind", "ro"))]
            return [MountSpec("overlay", "overlay", ("ro", "lowerdir=" + ":".join(lowers)))]
        if not lowers:
            return [MountSpec("bind", str(sdir / "fs"), ("rbind", "rw"))]
        # index=off: the same lower layers are shared by many uppers (Docker sets it too).
        return [
            MountSpec(
                "overlay",
                "overlay",
                (
                    "index=off",
                    "lowerdir=" + ":".join(lowers),
                    f"upperdir={sdir / 'fs'}",
                    f"workdir={sdir / 'work'}",
                ),
            )
        ]


class CopySnapshotter:
    """The vfs fallback: every snapshot is a full copy of its merged layers, bind-mounted."""

    def __init__(self, root: Path, db: StateDB, layers: LayerStore) -> None:
        self._records = _Records("copy", root, db, layers)
        self._layers = layers

    def prepare(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]:
        """Copy `parent_layers` into a new writable snapshot `key`; returns its mounts."""
        return self._create(key, Kind.ACTIVE, parent_layers)

    def view(self, key: str, parent_layers: Sequence[str]) -> list[MountSpec]:
        """Copy `parent_layers` into a new read-only snapshot `key`; returns its mounts."""
        return self._create(key, Kind.VIEW, parent_layers)

    def mounts(self, key: str) -> list[MountSpec]:
        """The mounts of an existing snapshot."""
        return self._mounts(self._records.get(key))

    def remove(self, key: str) -> None:
        """Delete a snapshot; unmount it first."""
        self._records.delete(key)

    def usage(self, key: str) -> Usage:
        """Space used by the copy."""
        return disk_usage(self._records.dir(self._records.get(key)))

    def walk(self) -> list[str]:
        """Every copy snapshot key."""
        return self._records.walk()

    def _create(self, key: str, kind: Kind, parent_layers: Sequence[str]) -> list[MountSpec]:
        # Only the copy snapshotter unpacks: overlay users (the monitor) never load tar code.
        from dockyard.storage.apply import apply_layer

        record = self._records.create(key, kind, parent_layers)
        self._records.make_dirs(record, "fs")
        fs = self._records.dir(record) / "fs"
        try:
            for diff_id in record.layers:
                apply_layer(self._layers.path(diff_id), fs)
        except BaseException:
            self._records.delete(key)
            raise
        return self._mounts(record)

    def _mounts(self, record: _Record) -> list[MountSpec]:
        mode = "ro" if record.kind is Kind.VIEW else "rw"
        return [MountSpec("bind", str(self._records.dir(record) / "fs"), ("rbind", mode))]


def disk_usage(path: Path) -> Usage:
    """Bytes on disk (st_blocks) and inodes under `path`, each hardlinked inode counted once."""
    seen: set[tuple[int, int]] = set()
    size = 0
    stack = [str(path)]
    while stack:
        top = stack.pop()
        try:
            entries = list(os.scandir(top))
        except FileNotFoundError:
            continue
        for entry in entries:
            st = entry.stat(follow_symlinks=False)
            ident = (st.st_dev, st.st_ino)
            if ident in seen:
                continue
            seen.add(ident)
            size += st.st_blocks * 512
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
    return Usage(size, len(seen))


def mounted_at(path: Path) -> str | None:
    """Where `path` is in use by a mount of this mount namespace (bind source or overlay
    upperdir), from /proc/self/mountinfo (proc(5)); None if nowhere or if it is gone."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    dev = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    text = str(path)
    mounts: list[tuple[str, str, str, str]] = []  # (dev, root, mount point, whole line)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mounts.append((fields[2], _unescape(fields[3]), _unescape(fields[4]), line))
    for _, _, point, line in mounts:
        if f"upperdir={text}," in line or line.rstrip().endswith(f"upperdir={text}"):
            return point
    # A bind mount names its source by the path inside the source's file system: find the
    # mount that holds `path` (longest mount point above it) to learn that path.
    holders = [m for m in mounts if m[0] == dev and _is_under(text, m[2])]
    if not holders:
        return None
    _, root, point, _ = max(holders, key=lambda m: len(m[2]))
    inside = os.path.normpath(os.path.join(root, os.path.relpath(text, point)))
    for mdev, mroot, mpoint, _ in mounts:
        if mdev == dev and mroot == inside:
            return mpoint
    return None


def _is_under(path: str, point: str) -> bool:
    return point in ("/", path) or path.startswith(point.rstrip("/") + "/")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)
