"""Content store and digests: verified ingestion, nothing partial ever visible."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.content import ContentStore, Expected
from dockyard.image.digest import Digest, Digester, digest_bytes, digest_file, parse_digest

DATA = os.urandom(3 * (1 << 20) + 123)
GOOD = Digest("sha256", hashlib.sha256(DATA).hexdigest())


def _visible(store: ContentStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file())


def _assert_clean(store: ContentStore) -> None:
    assert not any(store.ingest_dir.iterdir()), "temp file left in ingest/"
    assert list(store.list()) == []


# digests


def test_parse_digest_accepts_sha256_and_sha512() -> None:
    d = Digest.parse("sha256:" + "a" * 64)
    assert (d.algorithm, d.hex, str(d), d.short()) == (
        "sha256",
        "a" * 64,
        "sha256:" + "a" * 64,
        "a" * 12,
    )
    assert Digest.parse("sha512:" + "0" * 128).algorithm == "sha512"
    assert parse_digest(d) is d


@pytest.mark.parametrize(
    "bad",
    ["", "sha256", "sha256:", "sha256:" + "a" * 63, "sha256:" + "A" * 64, "md5:" + "a" * 32,
     "sha256:" + "g" * 64, ":" + "a" * 64, "sha512:" + "a" * 64, "SHA256:" + "a" * 64],
)  # fmt: skip
def test_parse_digest_rejects(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        Digest.parse(bad)


def test_hash_helpers_agree(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(DATA)
    d = Digester()
    d.update(DATA[:10])
    d.update(memoryview(DATA)[10:])
    assert d.digest() == digest_bytes(DATA) == digest_file(f) == GOOD
    assert d.size == len(DATA)
    assert digest_bytes(b"", "sha512").hex == hashlib.sha512().hexdigest()


# content store


def test_ingest_good_blob_from_file_and_iterable(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    assert not store.exists(GOOD)
    assert store.ingest(Expected.of(str(GOOD), len(DATA)), io.BytesIO(DATA)) == GOOD
    assert store.exists(GOOD)
    assert store.info(GOOD).size == len(DATA)
    assert store.read(GOOD) == DATA
    assert store.blob_path(GOOD) == tmp_path / "blobs" / "sha256" / GOOD.hex
    assert _visible(store) == [store.blob_path(GOOD)]
    # Already present: returns at once without reading the stream.
    assert store.ingest(Expected(GOOD), iter(())) == GOOD
    small = b"hello"
    d = digest_bytes(small)
    assert store.ingest(Expected(d), [b"he", b"", b"llo"]) == d
    assert sorted(i.digest for i in store.list()) == sorted([GOOD, d])


def _flipped() -> bytes:
    data = bytearray(DATA)
    data[len(data) // 2] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize(
    ("payload", "size", "message"),
    [
        (_flipped(), len(DATA), "expected sha256:.* got sha256:"),
        (DATA[:-1], len(DATA), "truncated"),
        (DATA, len(DATA) - 1, "larger than its declared size"),
        (DATA, len(DATA) + 1, "truncated"),
        (_flipped(), None, "digest mismatch"),
    ],
    ids=["flipped-byte", "truncated", "too-long", "wrong-size", "no-size"],
)
def test_bad_blob_is_rejected_and_nothing_stays(
    tmp_path: Path, payload: bytes, size: int | None, message: str
) -> None:
    store = ContentStore(tmp_path)
    with pytest.raises(InvalidArgument, match=message) as err:
        store.ingest(Expected(GOOD, size), io.BytesIO(payload))
    assert str(GOOD) in str(err.value)
    _assert_clean(store)
    assert not store.exists(GOOD)
    # The store stays usable: the correct blob goes in afterwards.
    store.ingest(Expected(GOOD, len(DATA)), io.BytesIO(DATA))
    assert store.read(GOOD) == DATA


def test_writer_failure_midstream_leaves_nothing(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)

    def dropping() -> Iterator[bytes]:
        yield DATA[:1000]
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        store.ingest(Expected(GOOD, len(DATA)), dropping())
    _assert_clean(store)


def test_partial_blob_is_invisible_while_writing(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    seen: list[bool] = []

    def observed() -> Iterator[bytes]:
        yield DATA[:1000]
        seen.append(store.exists(GOOD))
        assert list(store.list()) == []
        with pytest.raises(NotFound):
            store.open(GOOD)
        # A cleaner running now must not remove a live writer's temp file.
        assert store.clean_ingest() == []
        yield DATA[1000:]

    store.ingest(Expected(GOOD, len(DATA)), observed())
    assert seen == [False]
    assert store.read(GOOD) == DATA


def test_clean_ingest_removes_files_of_dead_writers(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    store.ingest_dir.mkdir(parents=True)
    (store.ingest_dir / "dead-123").write_bytes(b"partial")
    live = store.ingest_dir / "live-456"
    live.write_bytes(b"partial")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        pid = os.fork()
        if pid == 0:  # another process sees the lock held
            os._exit(0 if ContentStore(tmp_path).clean_ingest() == ["dead-123"] else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        os.close(fd)
    assert [p.name for p in store.ingest_dir.iterdir()] == ["live-456"]
    assert store.clean_ingest() == ["live-456"]


def test_missing_blob_and_delete(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    with pytest.raises(NotFound, match=str(GOOD)):
        store.read(GOOD)
    with pytest.raises(NotFound):
        store.info(GOOD)
    with pytest.raises(NotFound):
        store.delete(GOOD)
    store.ingest(Expected(GOOD), io.BytesIO(DATA))
    store.delete(GOOD)
    assert not store.exists(GOOD)
    assert list(store.list()) == []


def test_sha512_blob(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    d = digest_bytes(b"x" * 100, "sha512")
    assert store.ingest(Expected(d, 100), io.BytesIO(b"x" * 100)) == d
    assert [i.digest for i in store.list()] == [d]


def test_negative_size_rejected() -> None:
    with pytest.raises(InvalidArgument):
        Expected.of(str(GOOD), -1)


def test_writer_pushes_bytes_and_commits(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    teed: list[bytes] = []
    with store.writer(Expected(GOOD, len(DATA))) as w:
        for i in range(0, len(DATA), 1 << 20):
            chunk = DATA[i : i + (1 << 20)]
            w.write(chunk)
            teed.append(chunk)
            assert not store.exists(GOOD)
        assert w.offset == len(DATA)
        assert w.commit() == GOOD
    assert b"".join(teed) == store.read(GOOD)
    assert not any(store.ingest_dir.iterdir())


def test_writer_left_without_commit_discards(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    with store.writer(Expected(GOOD, len(DATA))) as w:
        w.write(DATA[:10])
    _assert_clean(store)
    with pytest.raises(InvalidArgument, match="larger"), store.writer(Expected(GOOD, 5)) as w:
        w.write(DATA[:10])
    _assert_clean(store)
    with pytest.raises(InvalidArgument, match="digest mismatch"), store.writer(Expected(GOOD)) as w:
        w.write(b"other")
        w.commit()
    _assert_clean(store)


def test_resumable_writer_continues_where_the_last_one_stopped(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    exp = Expected(GOOD, len(DATA))
    with pytest.raises(ConnectionResetError), store.writer(exp, resume=True) as w:
        assert w.offset == 0
        w.write(DATA[:1000])
        raise ConnectionResetError("dropped mid-layer")
    assert not store.exists(GOOD)
    assert [p.name for p in store.ingest_dir.iterdir()] == [f"sha256-{GOOD.hex}.partial"]
    with store.writer(exp, resume=True) as w:
        assert w.offset == 1000  # ask the registry for Range: bytes=1000-
        w.write(DATA[1000:])
        assert w.commit() == GOOD
    assert store.read(GOOD) == DATA
    assert not any(store.ingest_dir.iterdir())


def test_resumed_garbage_fails_verification_and_is_dropped(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    exp = Expected(GOOD, len(DATA))
    with pytest.raises(ConnectionResetError), store.writer(exp, resume=True) as w:
        w.write(b"\0" * 1000)
        raise ConnectionResetError
    with (
        pytest.raises(InvalidArgument, match="digest mismatch"),
        store.writer(exp, resume=True) as w,
    ):
        w.write(DATA[w.offset :])
        w.commit()
    _assert_clean(store)
    # A partial longer than the blob (a changed descriptor) starts over.
    store.ingest_dir.mkdir(exist_ok=True)
    (store.ingest_dir / f"sha256-{GOOD.hex}.partial").write_bytes(DATA + b"extra")
    with store.writer(exp, resume=True) as w:
        assert w.offset == 0
        w.write(DATA)
        w.commit()
    assert store.read(GOOD) == DATA


def test_resumable_writers_of_one_blob_take_turns(tmp_path: Path) -> None:
    import threading

    store = ContentStore(tmp_path)
    exp = Expected(GOOD, len(DATA))
    second: list[int] = []
    first = store.writer(exp, resume=True)
    first.write(DATA[:5000])

    def other() -> None:
        with store.writer(exp, resume=True) as w:  # blocks until `first` is done
            second.append(w.offset)
            assert w.commit() == GOOD

    t = threading.Thread(target=other)
    t.start()
    t.join(0.2)
    assert t.is_alive() and second == []
    first.write(DATA[5000:])
    first.commit()
    t.join(10)
    assert second == [len(DATA)]  # it found the blob complete and wrote nothing
    assert store.read(GOOD) == DATA
    assert not any(store.ingest_dir.iterdir())
