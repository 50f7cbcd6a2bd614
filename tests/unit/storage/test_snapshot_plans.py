"""Snapshotters plan mounts without mounting: overlay option order, binds, records (no root)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.state.db import StateDB
from dockyard.storage.layers import LayerStore
from dockyard.storage.snapshots import CopySnapshotter, MountSpec, OverlaySnapshotter
from dockyard.testing.snapshotter_suite import Entry, d, make_tar, tar_diff_id

ME = (os.getuid(), os.getgid())


def _layer(store: LayerStore, name: str) -> str:
    raw = make_tar([d("dir", uid=ME[0], gid=ME[1]), Entry(f"dir/{name}", uid=ME[0], gid=ME[1])])
    return store.unpack(tar_diff_id(raw), io.BytesIO(raw)).diff_id


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Path, StateDB, LayerStore, list[str]]]:
    db = StateDB(tmp_path)
    store = LayerStore(tmp_path, db)
    ids = [_layer(store, n) for n in ("base", "mid", "top")]
    yield tmp_path, db, store, ids
    db.close()


def test_overlay_prepare_lists_lowerdirs_top_first(
    env: tuple[Path, StateDB, LayerStore, list[str]],
) -> None:
    root, db, store, ids = env
    snap = OverlaySnapshotter(root, db, store)
    (spec,) = snap.prepare("c", ids)
    sdir = root / "snapshots" / "1"
    lowers = ":".join(str(store.path(i)) for i in reversed(ids))
    assert spec == MountSpec(
        "overlay",
        "overlay",
        ("index=off", f"lowerdir={lowers}", f"upperdir={sdir}/fs", f"workdir={sdir}/work"),
    )
    assert (sdir / "fs").is_dir() and (sdir / "work").is_dir()
    assert snap.mounts("c") == [spec]
    assert snap.walk() == ["c"]
    snap.remove("c")
    assert not sdir.exists()
    assert snap.walk() == []


def test_overlay_views_and_empty_roots(env: tuple[Path, StateDB, LayerStore, list[str]]) -> None:
    root, db, store, ids = env
    snap = OverlaySnapshotter(root, db, store)
    assert snap.view("v0", []) == [MountSpec("bind", f"{root}/snapshots/1/fs", ("rbind", "ro"))]
    assert snap.view("v1", ids[:1]) == [MountSpec("bind", str(store.path(ids[0])), ("rbind", "ro"))]
    lowers = f"{store.path(ids[1])}:{store.path(ids[0])}"
    assert snap.view("v2", ids[:2]) == [
        MountSpec("overlay", "overlay", ("ro", f"lowerdir={lowers}"))
    ]
    assert snap.prepare("a0", []) == [MountSpec("bind", f"{root}/snapshots/4/fs", ("rbind", "rw"))]


def test_records_are_shared_but_keys_are_per_snapshotter(
    env: tuple[Path, StateDB, LayerStore, list[str]],
) -> None:
    root, db, store, ids = env
    overlay = OverlaySnapshotter(root, db, store)
    copy = CopySnapshotter(root, db, store)
    overlay.prepare("k", ids)
    with pytest.raises(Conflict):
        copy.prepare("k", ids)  # one key space per root: a key names one container root
    with pytest.raises(NotFound):
        copy.mounts("k")
    assert copy.walk() == []


def test_bad_requests(env: tuple[Path, StateDB, LayerStore, list[str]]) -> None:
    root, db, store, ids = env
    snap = OverlaySnapshotter(root, db, store)
    with pytest.raises(InvalidArgument):
        snap.prepare("", ids)
    with pytest.raises(InvalidArgument):
        snap.prepare("x", ["not-a-digest"])
    with pytest.raises(NotFound, match=r"sha256:0+ is not unpacked"):
        snap.prepare("x", [ids[0], "sha256:" + "0" * 64])
    assert snap.walk() == []
    assert not (root / "snapshots").exists() or list((root / "snapshots").iterdir()) == []


def test_copy_snapshotter_merges_into_one_dir(
    env: tuple[Path, StateDB, LayerStore, list[str]],
) -> None:
    root, db, store, ids = env
    snap = CopySnapshotter(root, db, store)
    (spec,) = snap.prepare("c", ids)
    assert spec == MountSpec("bind", f"{root}/snapshots/1/fs", ("rbind", "rw"))
    assert sorted(p.name for p in (root / "snapshots/1/fs/dir").iterdir()) == ["base", "mid", "top"]
    assert snap.usage("c").inodes == 5  # fs/, dir/ and three files
    (ro,) = snap.view("v", ids[:1])
    assert ro.options == ("rbind", "ro")
