"""Conformance suite every `Snapshotter` must pass, and the in-memory layer tars it builds.

`run_snapshotter_suite(factory, workdir)` runs every check in `CHECKS`; a test module can also
parametrize over `CHECKS` to see each check pass or fail on its own. The checks mount, so they
need root; each unmounts and removes what it made.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.errors import Conflict, NotFound
from dockyard.state.db import StateDB
from dockyard.storage.layers import LayerStore
from dockyard.storage.mount import mount_snapshot, unmount
from dockyard.storage.snapshots import Snapshotter

# Layer tars ----------------------------------------------------------------------------------


@dataclass
class Entry:
    """One tar member to build."""

    name: str
    type: bytes = tarfile.REGTYPE
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    linkname: str = ""
    mtime: int = 1_600_000_000
    xattrs: dict[str, str] = field(default_factory=dict)
    devmajor: int = 0
    devminor: int = 0


def make_tar(entries: list[Entry]) -> bytes:
    """A PAX tar holding `entries` in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type = e.type
            info.mode = e.mode
            info.uid, info.gid = e.uid, e.gid
            info.mtime = e.mtime
            info.linkname = e.linkname
            info.devmajor, info.devminor = e.devmajor, e.devminor
            info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in e.xattrs.items()}
            if e.type == tarfile.REGTYPE:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def tar_diff_id(raw: bytes) -> str:
    """The diff-ID of an uncompressed layer tar."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def compress(raw: bytes, how: str) -> bytes:
    """`raw` compressed with "gzip", "zstd" or "none"."""
    if how == "gzip":
        return gzip.compress(raw, compresslevel=1)
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(raw)
    return raw


def d(
    name: str, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: int = 1_600_000_000
) -> Entry:
    """A directory entry."""
    return Entry(name, tarfile.DIRTYPE, mode=mode, uid=uid, gid=gid, mtime=mtime)


def f(
    name: str,
    data: bytes = b"",
    mode: int = 0o644,
    uid: int = 0,
    gid: int = 0,
    *,
    xattrs: dict[str, str] | None = None,
) -> Entry:
    """A regular file entry."""
    return Entry(name, data=data, mode=mode, uid=uid, gid=gid, xattrs=xattrs or {})


def sym(name: str, target: str) -> Entry:
    """A symlink entry."""
    return Entry(name, tarfile.SYMTYPE, linkname=target, mode=0o777)


def hard(name: str, target: str) -> Entry:
    """A hardlink entry."""
    return Entry(name, tarfile.LNKTYPE, linkname=target)


# The suite -----------------------------------------------------------------------------------

SnapshotterFactory = Callable[[Path, StateDB, LayerStore], Snapshotter]

BASE = [
    d("etc"),
    f("etc/a", b"a1"),
    f("etc/b", b"b1"),
    d("dir/sub"),
    f("dir/sub/x", b"x"),
    f("dir/old", b"old"),
    d("gone-dir"),
    f("gone-dir/f", b"f"),
    sym("link", "etc/a"),
    f("bin/tool", b"\x7fELF", 0o4755, 1000, 1000),
    hard("bin/tool-alias", "bin/tool"),
]
TOP = [
    d("etc"),
    f("etc/a", b"a2"),
    f("etc/.wh.b"),
    f("etc/c", b"c2"),
    d("dir"),
    f("dir/.wh..wh..opq"),
    f("dir/new", b"new"),
    f(".wh.gone-dir"),
    d("link"),
    f("link/inside", b"i"),
]
# What the merged view of BASE under TOP must hold: path -> file content, "->target" or "/".
MERGED = {
    "bin": "/",
    "bin/tool": b"\x7fELF",
    "bin/tool-alias": b"\x7fELF",
    "dir": "/",
    "dir/new": b"new",
    "etc": "/",
    "etc/a": b"a2",
    "etc/c": b"c2",
    "link": "/",
    "link/inside": b"i",
}


@dataclass
class Harness:
    """What one check works with: a fresh root, its database, layer store and snapshotter."""

    root: Path
    db: StateDB
    layers: LayerStore
    snapshotter: Snapshotter
    base: str
    top: str

    def target(self, name: str) -> Path:
        """A fresh mount point."""
        path = self.root / "mnt" / name
        path.mkdir(parents=True)
        return path


def make_harness(factory: SnapshotterFactory, workdir: Path) -> Harness:
    """A root under `workdir` with the suite's two layers unpacked."""
    root = workdir / "root"
    db = StateDB(root)
    layers = LayerStore(root, db)
    ids = []
    for entries in (BASE, TOP):
        raw = make_tar(entries)
        ids.append(layers.unpack(tar_diff_id(raw), io.BytesIO(compress(raw, "gzip"))).diff_id)
    return Harness(root, db, layers, factory(root, db, layers), ids[0], ids[1])


def snapshot_tree(root: Path) -> dict[str, bytes | str]:
    """A tree in `MERGED`'s form."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode):
            out[rel] = "/"
        elif stat.S_ISLNK(st.st_mode):
            out[rel] = "->" + os.readlink(path)
        else:
            out[rel] = path.read_bytes()
    return out


class _Mounted:
    """Mount a snapshot for the duration of a `with` block; always unmounts."""

    def __init__(self, h: Harness, key: str, name: str) -> None:
        self.mounts = h.snapshotter.mounts(key)
        self.target = h.target(name)

    def __enter__(self) -> Path:
        mount_snapshot(self.mounts, self.target)
        return self.target

    def __exit__(self, *exc: object) -> None:
        unmount(self.target)


def _cleanup(h: Harness) -> None:
    for key in h.snapshotter.walk():
        h.snapshotter.remove(key)
    h.db.close()


def _expect(exc: type[Exception], fn: Callable[[], object]) -> None:
    try:
        fn()
    except exc:
        return
    raise AssertionError(f"expected {exc.__name__}")


def check_prepare_merges_layers(h: Harness) -> None:
    """An active snapshot shows the layers merged with whiteouts and opaque dirs applied."""
    mounts = h.snapshotter.prepare("c1", [h.base, h.top])
    assert mounts == h.snapshotter.mounts("c1")
    with _Mounted(h, "c1", "c1") as root:
        assert snapshot_tree(root) == MERGED, snapshot_tree(root)
        tool = (root / "bin/tool").lstat()
        assert (stat.S_IMODE(tool.st_mode), tool.st_uid, tool.st_gid) == (0o4755, 1000, 1000)
        assert tool.st_ino == (root / "bin/tool-alias").lstat().st_ino
        (root / "etc/a").write_bytes(b"written")
        (root / "etc/new").write_bytes(b"n" * 200_000)
        (root / "dir/new").unlink()
    assert h.snapshotter.usage("c1").size >= 200_000
    # The layers themselves never change.
    assert (h.layers.path(h.base) / "etc/a").read_bytes() == b"a1"
    assert (h.layers.path(h.top) / "etc/a").read_bytes() == b"a2"
    assert (h.layers.path(h.top) / "dir/new").exists()
    with _Mounted(h, "c1", "c1-again") as root:
        assert (root / "etc/a").read_bytes() == b"written"
        assert not (root / "dir/new").exists()
    h.snapshotter.remove("c1")
    assert h.snapshotter.walk() == []
    _expect(NotFound, lambda: h.snapshotter.mounts("c1"))


def check_active_snapshots_are_isolated(h: Harness) -> None:
    """Writes in one active snapshot are invisible in another on the same layers."""
    h.snapshotter.prepare("one", [h.base])
    h.snapshotter.prepare("two", [h.base])
    with _Mounted(h, "one", "one") as one, _Mounted(h, "two", "two") as two:
        (one / "etc/a").write_bytes(b"mine")
        assert (two / "etc/a").read_bytes() == b"a1"
    assert sorted(h.snapshotter.walk()) == ["one", "two"]


def check_view_is_read_only(h: Harness) -> None:
    """A view shows the merged layers and refuses writes, with zero, one or two layers."""
    for key, parents in (("v0", []), ("v1", [h.base]), ("v2", [h.base, h.top])):
        h.snapshotter.view(key, parents)
        with _Mounted(h, key, key) as root:
            if key == "v2":
                assert snapshot_tree(root) == MERGED
            if key == "v1":
                assert (root / "etc/b").read_bytes() == b"b1"
            try:
                (root / "new-file").write_bytes(b"x")
            except OSError as exc:
                assert exc.errno == errno.EROFS, exc
            else:
                raise AssertionError(f"view {key} is writable")


def check_prepare_without_parents(h: Harness) -> None:
    """An active snapshot on no layers is an empty writable directory."""
    h.snapshotter.prepare("empty", [])
    with _Mounted(h, "empty", "empty") as root:
        assert list(root.iterdir()) == []
        (root / "x").write_text("ok")
    assert h.snapshotter.usage("empty").inodes >= 1


def check_errors(h: Harness) -> None:
    """Duplicate keys conflict; unknown keys and layers are not found."""
    h.snapshotter.prepare("dup", [h.base])
    _expect(Conflict, lambda: h.snapshotter.prepare("dup", [h.base]))
    _expect(Conflict, lambda: h.snapshotter.view("dup", []))
    _expect(NotFound, lambda: h.snapshotter.prepare("x", ["sha256:" + "0" * 64]))
    assert "x" not in h.snapshotter.walk()
    _expect(NotFound, lambda: h.snapshotter.mounts("nope"))
    _expect(NotFound, lambda: h.snapshotter.remove("nope"))
    _expect(NotFound, lambda: h.snapshotter.usage("nope"))


def check_snapshots_pin_their_layers(h: Harness) -> None:
    """A layer under a snapshot cannot be removed or pruned until the snapshot is gone."""
    h.snapshotter.prepare("pin", [h.base, h.top])
    _expect(Conflict, lambda: h.layers.remove(h.top))
    assert h.layers.prune() == []
    h.snapshotter.remove("pin")
    assert sorted(h.layers.prune()) == sorted([h.base, h.top])


def check_remove_refuses_a_mounted_snapshot(h: Harness) -> None:
    """Removing a mounted active snapshot is a conflict; after unmounting it works."""
    h.snapshotter.prepare("busy", [h.base])
    with _Mounted(h, "busy", "busy"):
        _expect(Conflict, lambda: h.snapshotter.remove("busy"))
    h.snapshotter.remove("busy")


CHECKS: tuple[Callable[[Harness], None], ...] = (
    check_prepare_merges_layers,
    check_active_snapshots_are_isolated,
    check_view_is_read_only,
    check_prepare_without_parents,
    check_errors,
    check_snapshots_pin_their_layers,
    check_remove_refuses_a_mounted_snapshot,
)


def run_check(check: Callable[[Harness], None], factory: SnapshotterFactory, workdir: Path) -> None:
    """Run one check in a fresh root under `workdir`, removing its snapshots afterwards."""
    h = make_harness(factory, workdir)
    try:
        check(h)
    finally:
        _cleanup(h)


def run_snapshotter_suite(factory: SnapshotterFactory, workdir: Path) -> None:
    """Run every check, each in its own subdirectory of `workdir`."""
    for check in CHECKS:
        sub = workdir / check.__name__
        sub.mkdir()
        run_check(check, factory, sub)
