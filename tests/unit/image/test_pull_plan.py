"""Pure parts of pull, push and prune (no root, no registry): the layer plan, the tee that
verifies a blob before its reader sees the end, mount sources and prune selection.

They belong with the unit tests (tests/unit/image/) and live here only because this change
may not touch that directory; move them when convenient.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.image.content import ContentStore, Expected
from dockyard.image.digest import Digest
from dockyard.image.prune import select_images
from dockyard.image.pull import LayerJob, _Tee, plan_layers
from dockyard.image.push import mount_source
from dockyard.image.reference import parse_reference
from dockyard.image.store import ImageRecord
from dockyard.oci.image_spec import OCI_LAYER_GZIP, Descriptor, Manifest


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(data: bytes) -> Descriptor:
    return {"mediaType": OCI_LAYER_GZIP, "digest": _digest(data), "size": len(data)}


def _manifest(*layers: Descriptor) -> Manifest:
    config = _layer(b"{}")
    return {"schemaVersion": 2, "config": config, "layers": list(layers)}  # type: ignore[typeddict-item]


def test_plan_fetches_and_unpacks_only_what_is_missing() -> None:
    a, b, c = _layer(b"a"), _layer(b"b"), _layer(b"c")
    diff_ids = [_digest(b"A"), _digest(b"B"), _digest(b"C")]
    jobs = plan_layers(
        _manifest(a, b, c),
        diff_ids,
        has_blob=lambda d: d == b["digest"],
        has_layer=lambda d: d in (diff_ids[1], diff_ids[2]),
    )
    assert [(j.fetch, j.unpack) for j in jobs] == [(True, True), (False, False), (True, False)]
    assert jobs[0].key == a["digest"][7:19]


def test_plan_does_one_job_per_blob_and_checks_counts() -> None:
    empty = _layer(b"empty")
    diff = _digest(b"E")
    jobs = plan_layers(
        _manifest(empty, empty), [diff, diff], has_blob=lambda _: False, has_layer=lambda _: False
    )
    assert len(jobs) == 1
    with pytest.raises(InvalidArgument, match="2 layers but the config 1 diff-IDs"):
        plan_layers(_manifest(empty, empty), [diff], has_blob=bool, has_layer=bool)


def _tee(store: ContentStore, data: bytes, stream: list[bytes]) -> tuple[_Tee, list[int]]:
    seen: list[int] = []
    writer = store.writer(Expected.of(_digest(data), len(data)))
    return _Tee(iter(stream), writer, seen.append), seen


def test_tee_commits_the_blob_when_the_reader_reaches_the_end(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"0123456789" * 10
    tee, seen = _tee(store, data, [data[:60], data[60:]])
    assert tee.read(25) == data[:25] and tee.read(100) == data[25:60]
    assert not store.exists(Digest.parse(_digest(data)))
    assert tee.read(100) == data[60:] and tee.read(100) == b""
    assert store.read(Digest.parse(_digest(data))) == data
    assert seen == [60, 100]


def test_tee_raises_a_corrupt_blob_instead_of_ending(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"x" * 100
    tee, _ = _tee(store, data, [b"y" * 100])
    assert tee.read(1000) == b"y" * 100
    with pytest.raises(InvalidArgument, match="digest mismatch"):
        tee.read(1000)
    assert list(store.list()) == [] and list((tmp_path / "ingest").iterdir()) == []


def test_tee_finish_drains_what_the_consumer_left(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"abc" * 1000
    tee, _ = _tee(store, data, [data[:1000], data[1000:2000], data[2000:]])
    tee.read(10)
    tee.finish()
    assert store.exists(Digest.parse(_digest(data)))


def test_mount_source_is_another_repository_on_the_same_registry() -> None:
    target = parse_reference("reg.lan:5000/team/app:1")
    digest = "sha256:" + "a" * 64
    assert mount_source([f"docker.io/library/busybox@{digest}"], target) is None
    assert mount_source([f"reg.lan:5000/team/app@{digest}"], target) is None
    source = mount_source([f"reg.lan:5000/base/box@{digest}"], target)
    assert source is not None and source.path == "base/box"


def _record(image_id: str, *tags: str) -> ImageRecord:
    return ImageRecord(image_id, "sha256:m", "t", (), 0, "", tags)


def test_prune_selects_dangling_or_all_unused() -> None:
    records = [_record("a", "x:1"), _record("b"), _record("c"), _record("d", "y:1")]
    assert [r.id for r in select_images(records, all_unused=False, in_use={"c"})] == ["b"]
    assert [r.id for r in select_images(records, all_unused=True, in_use={"d"})] == ["a", "b", "c"]


def test_layer_job_key() -> None:
    job = LayerJob(_layer(b"q"), _digest(b"Q"), fetch=True, unpack=False)
    assert len(job.key) == 12
