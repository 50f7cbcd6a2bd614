"""The content store: blobs addressed by digest under `<root>/blobs/<alg>/<hex>` (containerd).

Visibility rule: a blob appears under `blobs/` only after all of it was written, its size and
digest matched what the caller expected, and it was fsynced; until then it is a temp file under
`<root>/ingest/`, locked by its writer, that no `Provider` call ever sees. A writer killed midway
leaves only such a temp file, which `ContentStore.clean_ingest()` removes.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.digest import ALGORITHMS, READ_SIZE, Digest, Digester, parse_digest


@dataclass(frozen=True)
class Info:
    """What the store knows about one blob."""

    digest: Digest
    size: int


@dataclass(frozen=True)
class Expected:
    """What an ingest must produce: the descriptor's digest and, when known, its size."""

    digest: Digest
    size: int | None = None

    @classmethod
    def of(cls, digest: str | Digest, size: int | None = None) -> Expected:
        """Build from a descriptor's `digest` string and `size`."""
        if size is not None and size < 0:
            raise InvalidArgument(f"negative size {size} for blob {digest}: fix the descriptor")
        return cls(parse_digest(digest), size)


class Provider(Protocol):
    """Reads blobs by digest."""

    def open(self, digest: Digest) -> IO[bytes]: ...
    def read(self, digest: Digest) -> bytes: ...
    def info(self, digest: Digest) -> Info: ...
    def exists(self, digest: Digest) -> bool: ...


class Ingester(Protocol):
    """Writes blobs, verifying them before they become visible."""

    def ingest(self, expected: Expected, stream: IO[bytes] | Iterable[bytes]) -> Digest: ...
    def writer(self, expected: Expected, *, resume: bool = False) -> BlobWriter: ...


class Manager(Protocol):
    """Lists and deletes blobs."""

    def list(self) -> Iterator[Info]: ...
    def delete(self, digest: Digest) -> None: ...


class ContentStore:
    """The file-system content store; implements `Provider`, `Ingester` and `Manager`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.ingest_dir = root / "ingest"

    def blob_path(self, digest: Digest) -> Path:
        """Where the blob with this digest lives (whether or not it exists)."""
        return self.blobs / digest.algorithm / digest.hex

    # Provider

    def open(self, digest: Digest) -> IO[bytes]:
        """Open a blob for reading; `NotFound` if the store does not hold it."""
        try:
            return open(self.blob_path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(
                f"blob {digest} not found in {self.blobs}: pull the image again"
            ) from None

    def read(self, digest: Digest) -> bytes:
        """A whole blob in memory (for manifests and configs, not layers)."""
        with self.open(digest) as f:
            return f.read()

    def info(self, digest: Digest) -> Info:
        """Size of a stored blob; `NotFound` if absent."""
        try:
            return Info(digest, self.blob_path(digest).stat().st_size)
        except FileNotFoundError:
            raise NotFound(
                f"blob {digest} not found in {self.blobs}: pull the image again"
            ) from None

    def exists(self, digest: Digest) -> bool:
        """Whether the blob is in the store."""
        return self.blob_path(digest).is_file()

    # Ingester

    def ingest(self, expected: Expected, stream: IO[bytes] | Iterable[bytes]) -> Digest:
        """Write a blob from `stream`, verifying size and digest; returns at once if present."""
        if self.exists(expected.digest):
            return expected.digest
        with self.writer(expected) as w:
            for chunk in _chunks(stream):
                w.write(chunk)
            return w.commit()

    def writer(self, expected: Expected, *, resume: bool = False) -> BlobWriter:
        """A writer for one blob, for callers that push bytes (tee a download into an unpack).

        Use it as a context manager. Without `resume`, leaving the block without `commit()`
        discards the bytes. With `resume`, the partial file is named by the digest and kept
        when the block is left by an error (not by a failed verification): the next
        `writer(..., resume=True)` continues at `offset` (ask the registry for that Range).
        Writers of one blob with `resume` take turns: the second waits for the first.
        """
        self.ingest_dir.mkdir(parents=True, exist_ok=True)
        return BlobWriter(expected, self.ingest_dir, self.blob_path(expected.digest), resume)

    # Manager

    def list(self) -> Iterator[Info]:
        """Every stored blob, in no particular order."""
        for algorithm in ALGORITHMS:
            directory = self.blobs / algorithm
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                if entry.is_file(follow_symlinks=False):
                    yield Info(Digest(algorithm, entry.name), entry.stat().st_size)

    def delete(self, digest: Digest) -> None:
        """Remove a blob; `NotFound` if absent."""
        try:
            os.unlink(self.blob_path(digest))
        except FileNotFoundError:
            raise NotFound(f"blob {digest} not found in {self.blobs}: nothing to delete") from None

    def clean_ingest(self) -> builtins.list[str]:
        """Remove temp files left by killed writers (those no live writer holds locked)."""
        removed: builtins.list[str] = []
        if not self.ingest_dir.is_dir():
            return removed
        for entry in os.scandir(self.ingest_dir):
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
            finally:
                os.close(fd)
        return removed


class BlobWriter:
    """Writes one blob to a locked temp file, hashing as it goes; `commit()` verifies it and
    renames it into place. Nothing is visible under `blobs/` before a successful commit."""

    def __init__(self, expected: Expected, ingest_dir: Path, target: Path, resume: bool) -> None:
        self.expected = expected
        self.target = target
        self.resume = resume
        self._digester = Digester(expected.digest.algorithm)
        self._present = False
        if resume:
            self._fd, self._tmp = _locked_partial(ingest_dir, expected.digest)
        else:
            self._fd, self._tmp = _locked_temp(ingest_dir, expected.digest)
        self._open = True
        if resume:
            self._catch_up()

    @property
    def offset(self) -> int:
        """Bytes of the blob held so far (where a resumed download continues)."""
        return self._digester.size

    def write(self, chunk: bytes | memoryview) -> None:
        """Append bytes; fails at once when they exceed the expected size."""
        exp = self.expected
        if not self._open or self._present:
            raise InvalidArgument(f"writer of blob {exp.digest} is closed: start a new one")
        try:
            self._digester.update(chunk)
            if exp.size is not None and self._digester.size > exp.size:
                raise InvalidArgument(
                    f"blob {exp.digest} is larger than its declared size {exp.size}: "
                    "the source is corrupt or the descriptor is wrong"
                )
            view = memoryview(chunk)
            while view:
                view = view[os.write(self._fd, view) :]
        except BaseException:
            self.abort()
            raise

    def commit(self) -> Digest:
        """Verify size and digest, fsync, and make the blob visible; returns its digest."""
        exp = self.expected
        if self._present:
            self._close()
            return exp.digest
        try:
            actual = self._digester.digest()
            if exp.size is not None and self._digester.size != exp.size:
                raise InvalidArgument(
                    f"blob {exp.digest} is truncated: got {self._digester.size} of "
                    f"{exp.size} bytes (digest {actual}): retry the download"
                )
            if actual != exp.digest:
                raise InvalidArgument(
                    f"blob digest mismatch: expected {exp.digest}, got {actual}: "
                    "the source is corrupt, retry or check the registry"
                )
            os.fchmod(self._fd, 0o644)
            os.fsync(self._fd)
            self.target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self._tmp, self.target)
            _fsync_dir(self.target.parent)
        except BaseException:
            self.abort()
            raise
        self._close()
        return actual

    def abort(self) -> None:
        """Discard what was written (idempotent)."""
        if self._open:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            self._close()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self.resume and exc_type is not None:
            self._close()  # keep the partial file for the next attempt
        else:
            self.abort()

    def _catch_up(self) -> None:
        # hashlib state cannot be saved, so a resumed writer re-reads what is already there.
        if self.target.is_file():  # another writer finished while we waited for the lock
            self._present = True
            self._digester = Digester(self.expected.digest.algorithm)
            self._digester.size = self.target.stat().st_size
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            return
        while chunk := os.read(self._fd, READ_SIZE):
            self._digester.update(chunk)
        size = self.expected.size
        if size is not None and self._digester.size > size:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            self._digester = Digester(self.expected.digest.algorithm)

    def _close(self) -> None:
        if self._open:
            self._open = False
            os.close(self._fd)


def _locked_temp(ingest_dir: Path, digest: Digest) -> tuple[int, str]:
    # The lock tells clean_ingest() that a live writer owns the file. A cleaner may unlink it
    # between mkstemp() and flock(); then the file has no name left, so make another.
    while True:
        fd, tmp = tempfile.mkstemp(prefix=digest.hex[:16] + "-", dir=ingest_dir)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return fd, tmp
        os.close(fd)


def _locked_partial(ingest_dir: Path, digest: Digest) -> tuple[int, str]:
    # One resumable file per digest. After waiting for the lock, the name may have moved on
    # (committed, or removed by a cleaner): only an fd still behind the name may be used.
    path = str(ingest_dir / f"{digest.algorithm}-{digest.hex}.partial")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, path
        os.close(fd)


def _missing(digest: Digest, blobs: Path) -> NotFound:
    return NotFound(f"blob {digest} not found in {blobs}: pull the image again")


def _chunks(stream: IO[bytes] | Iterable[bytes]) -> Iterator[bytes]:
    read = getattr(stream, "read", None)
    if read is None:
        yield from stream
        return
    while chunk := read(READ_SIZE):
        yield chunk


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (tmpfs on old kernels) refuse fsync on directories; the data is safe.
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)
