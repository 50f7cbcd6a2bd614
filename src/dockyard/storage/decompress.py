"""Streaming decompression of layer blobs (tar, tar+gzip, tar+zstd), detected by magic bytes.

The reader also hashes the uncompressed bytes, which is the layer's diff-ID (image-spec
config.md, `rootfs.diff_ids`), so unpacking never reads a layer twice.
"""

from __future__ import annotations

import enum
import hashlib
import queue
import threading
import zlib
from collections.abc import Iterator
from typing import IO, cast

import zstandard

from dockyard.errors import InvalidArgument

CHUNK = 1 << 20
# Bound on the output of one decompress call, so a small "zip bomb" chunk cannot eat memory.
MAX_OUT = 4 << 20

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Compression(enum.Enum):
    """How a layer blob is compressed."""

    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


def detect(head: bytes) -> Compression:
    """The compression of a stream from its first bytes (media types can lie; magic cannot)."""
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


class _Prefixed:
    """A binary reader that returns `first` before the rest of `source`."""

    def __init__(self, first: bytes, source: IO[bytes]) -> None:
        self._first = first
        self._source = source

    def read(self, n: int = -1) -> bytes:
        if not self._first:
            return self._source.read(n)
        if n < 0 or n >= len(self._first):
            out, self._first = self._first, b""
            return out
        out, self._first = self._first[:n], self._first[n:]
        return out


def _raw(reader: _Prefixed) -> Iterator[bytes]:
    while chunk := reader.read(CHUNK):
        yield chunk


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # wbits=31: gzip framing. A gzip file may hold several members back to back (RFC 1952 2.2).
    d = zlib.decompressobj(31)
    fed = False  # whether the current member has seen any input
    for chunk in chunks:
        data = chunk
        while True:
            fed = fed or bool(data)
            out = d.decompress(data, MAX_OUT)
            if out:
                yield out
            if d.eof:
                data = d.unused_data
                d = zlib.decompressobj(31)
                fed = False
                if not data:
                    break
                continue
            data = d.unconsumed_tail
            # A full output buffer may leave output pending inside zlib: ask again.
            if not data and len(out) < MAX_OUT:
                break
    if fed:
        raise zlib.error("gzip stream ends before its trailer (truncated)")


def _unzstd(reader: _Prefixed) -> Iterator[bytes]:
    # stream_reader bounds each output to CHUNK, so a small hostile frame cannot eat memory.
    source = cast("IO[bytes]", reader)  # it only calls read(); the stub asks for a full IO
    z = zstandard.ZstdDecompressor().stream_reader(source, read_size=CHUNK, read_across_frames=True)
    while chunk := z.read(CHUNK):
        yield chunk


_Item = bytes | BaseException | None


class LayerReader:
    """A file-like reader of a layer's uncompressed tar stream that computes its diff-ID.

    A helper thread reads, decompresses and hashes ahead (zlib, zstd and hashlib release the
    GIL), so that work overlaps with file creation in the caller, as `tar -xz` overlaps with
    its gzip child. Use it as a context manager so the thread always ends.
    """

    def __init__(self, source: IO[bytes], *, prefetch: int = 8) -> None:
        first = source.read(CHUNK)
        self.compression = detect(first)
        raw = _Prefixed(first, source)
        if self.compression is Compression.GZIP:
            self._chunks = _gunzip(_raw(raw))
        elif self.compression is Compression.ZSTD:
            self._chunks = _unzstd(raw)
        else:
            self._chunks = _raw(raw)
        self._hash = hashlib.sha256()
        self.size = 0
        self._buf = b""
        self._pos = 0
        self._done = False
        self._queue: queue.Queue[_Item] = queue.Queue(prefetch)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="layer-reader", daemon=True)
        self._thread.start()

    def __enter__(self) -> LayerReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the helper thread (reading stops where it is)."""
        self._stop.set()
        self._thread.join()

    def read(self, n: int = -1) -> bytes:
        """Up to `n` uncompressed bytes (all that is left when `n` < 0); b"" at the end."""
        if n < 0:
            parts = [self._buf[self._pos :]]
            self._buf, self._pos = b"", 0
            while chunk := self._next():
                parts.append(chunk)
            return b"".join(parts)
        if self._pos >= len(self._buf):
            self._buf = self._next()
            self._pos = 0
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def drain(self) -> None:
        """Read (and hash) whatever follows the tar end-of-archive marker."""
        self._buf, self._pos = b"", 0
        while self._next():
            pass

    def diff_id(self) -> str:
        """`sha256:<hex>` of the whole uncompressed stream (reads the rest if needed)."""
        self.drain()
        self._thread.join()
        return "sha256:" + self._hash.hexdigest()

    def _produce(self) -> None:
        item: _Item = None
        try:
            for chunk in self._chunks:
                self._hash.update(chunk)
                self.size += len(chunk)
                if not self._put(chunk):
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            item = exc
        self._put(item)

    def _put(self, item: _Item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def _next(self) -> bytes:
        if self._done:
            return b""
        item = self._queue.get()
        if isinstance(item, bytes):
            return item
        self._done = True
        if item is None:
            return b""
        if isinstance(item, (zlib.error, zstandard.ZstdError)):
            raise InvalidArgument(
                f"corrupt {self.compression.value} layer stream ({item}): fetch the blob again"
            ) from item
        raise SourceError(item) from item


class SourceError(Exception):
    """Reading the layer's source failed; `original` is what the source raised.

    Deliberately not an OSError, so a network or disk error while reading is never mistaken
    for a failure to write the unpacked files.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original
