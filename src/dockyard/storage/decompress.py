"""Streaming decompression of layer blobs (tar, tar+gzip, tar+zstd), detected by magic bytes.

The reader also hashes the uncompressed bytes, which is the layer's diff-ID (image-spec
config.md, `rootfs.diff_ids`), so unpacking never reads a layer twice.
"""

from __future__ import annotations

import enum
import hashlib
import zlib
from collections.abc import Iterator
from typing import IO

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


def _raw(source: IO[bytes], first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := source.read(CHUNK):
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


def _unzstd(chunks: Iterator[bytes]) -> Iterator[bytes]:
    d = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
    for chunk in chunks:
        out = d.decompress(chunk)
        if out:
            yield out


class LayerReader:
    """A file-like reader of a layer's uncompressed tar stream that computes its diff-ID."""

    def __init__(self, source: IO[bytes]) -> None:
        first = source.read(CHUNK)
        self.compression = detect(first)
        raw = _raw(source, first)
        if self.compression is Compression.GZIP:
            self._chunks = _gunzip(raw)
        elif self.compression is Compression.ZSTD:
            self._chunks = _unzstd(raw)
        else:
            self._chunks = raw
        self._hash = hashlib.sha256()
        self._buf = b""
        self._pos = 0
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        """Up to `n` uncompressed bytes (all that is left when `n` < 0); b"" at the end."""
        if n < 0:
            return b"".join([self._take_buffer(), *self._all()])
        if self._pos >= len(self._buf):
            self._buf = self._next()
            self._pos = 0
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def drain(self) -> None:
        """Read (and hash) whatever follows the tar end-of-archive marker."""
        self._pos = len(self._buf)
        for _ in self._all():
            pass

    def diff_id(self) -> str:
        """`sha256:<hex>` of every uncompressed byte read so far."""
        return "sha256:" + self._hash.hexdigest()

    def _take_buffer(self) -> bytes:
        rest = self._buf[self._pos :]
        self._buf, self._pos = b"", 0
        return rest

    def _all(self) -> Iterator[bytes]:
        while chunk := self._next():
            yield chunk

    def _next(self) -> bytes:
        try:
            chunk = next(self._chunks, b"")
        except (zlib.error, zstandard.ZstdError) as exc:
            raise InvalidArgument(
                f"corrupt {self.compression.value} layer stream ({exc}): fetch the blob again"
            ) from exc
        self._hash.update(chunk)
        self.size += len(chunk)
        return chunk
