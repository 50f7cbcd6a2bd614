"""LayerStore: unpack once, verified, recorded and refcounted in the state database."""

from __future__ import annotations

import io
import multiprocessing
import os
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.state.db import StateDB
from dockyard.storage.layers import LayerStore, check_diff_id
from dockyard.testing.snapshotter_suite import compress, f, make_tar, tar_diff_id

pytestmark = pytest.mark.root

RAW = make_tar([f("etc/hello", b"hello\n"), f("big", b"z" * 100_000)])
DIFF_ID = tar_diff_id(RAW)


def _store(root: Path) -> LayerStore:
    return LayerStore(root, StateDB(root))


def test_unpack_records_and_places_the_layer(scratch: Path) -> None:
    store = _store(scratch)
    layer = store.unpack(DIFF_ID, io.BytesIO(compress(RAW, "gzip")))
    assert layer.path == scratch / "layers" / DIFF_ID.removeprefix("sha256:")
    assert (layer.path / "etc/hello").read_text() == "hello\n"
    assert (layer.size, layer.refcount) == (100_006, 0)
    assert store.get(DIFF_ID) == layer
    assert store.list() == [layer]
    assert list((scratch / "tmp").iterdir()) == []
    # A second unpack does nothing (the stream is not even read).
    assert store.unpack(DIFF_ID, io.BytesIO(b"")) == layer


def test_mismatch_keeps_nothing(scratch: Path) -> None:
    store = _store(scratch)
    wrong = "sha256:" + "1" * 64
    with pytest.raises(InvalidArgument, match="diff-ID mismatch"):
        store.unpack(wrong, io.BytesIO(RAW))
    assert not store.exists(wrong)
    assert not store.path(wrong).exists()
    assert list((scratch / "tmp").iterdir()) == []


def test_refcounts_guard_removal(scratch: Path) -> None:
    store = _store(scratch)
    layer = store.unpack(DIFF_ID, io.BytesIO(RAW))
    assert store.acquire(DIFF_ID) == 1
    assert store.acquire(DIFF_ID) == 2
    with pytest.raises(Conflict, match="in use"):
        store.remove(DIFF_ID)
    assert store.reclaimable() == []
    assert store.prune() == []
    assert store.release(DIFF_ID) == 1
    assert store.release(DIFF_ID) == 0
    with pytest.raises(Conflict):
        store.release(DIFF_ID)
    assert store.reclaimable() == [store.get(DIFF_ID)]
    assert store.prune() == [DIFF_ID]
    assert not layer.path.exists()
    assert not store.exists(DIFF_ID)
    with pytest.raises(NotFound):
        store.remove(DIFF_ID)
    with pytest.raises(NotFound):
        store.acquire(DIFF_ID)


def test_orphan_directory_without_row_is_replaced(scratch: Path) -> None:
    store = _store(scratch)
    orphan = store.path(DIFF_ID)
    orphan.mkdir(parents=True)
    (orphan / "junk").write_text("left by a crash")
    layer = store.unpack(DIFF_ID, io.BytesIO(RAW))
    assert sorted(p.name for p in layer.path.iterdir()) == ["big", "etc"]


def test_clean_tmp_removes_dead_unpacks(scratch: Path) -> None:
    store = _store(scratch)
    dead = scratch / "tmp" / (DIFF_ID.removeprefix("sha256:") + ".abc")
    dead.mkdir(parents=True)
    (scratch / "tmp" / "unrelated").mkdir()
    assert store.clean_tmp() == [dead.name]
    assert [p.name for p in (scratch / "tmp").iterdir()] == ["unrelated"]


def test_check_diff_id() -> None:
    assert check_diff_id(DIFF_ID) == DIFF_ID
    for bad in ("", "sha256:abc", "sha512:" + "a" * 128, DIFF_ID.upper(), "../" + "a" * 64):
        with pytest.raises(InvalidArgument):
            check_diff_id(bad)


def _unpack_in_child(root: str) -> None:
    layer = LayerStore(Path(root), StateDB(Path(root))).unpack(DIFF_ID, io.BytesIO(RAW))
    os._exit(0 if (layer.path / "big").stat().st_size == 100_000 else 1)


def test_concurrent_unpacks_of_one_layer_agree(scratch: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_unpack_in_child, args=(str(scratch),)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = _store(scratch)
    assert [layer.diff_id for layer in store.list()] == [DIFF_ID]
    assert list((scratch / "tmp").iterdir()) == []


def test_layers_unpack_concurrently_from_threads_sharing_one_store(scratch: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = _store(scratch)
    raws = [
        make_tar([f(f"layer{i}/file{j}", os.urandom(2000)) for j in range(50)]) for i in range(6)
    ]

    def one(raw: bytes) -> str:
        return store.unpack(tar_diff_id(raw), io.BytesIO(compress(raw, "gzip"))).diff_id

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(one, raws))
    assert done == [tar_diff_id(r) for r in raws]
    assert sorted(layer.diff_id for layer in store.list()) == sorted(done)
    for i, raw in enumerate(raws):
        assert len(list((store.path(tar_diff_id(raw)) / f"layer{i}").iterdir())) == 50
