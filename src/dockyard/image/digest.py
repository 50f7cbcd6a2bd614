"""Content digests (`sha256:<64 hex>`, OCI image-spec descriptor.md#digests) and hashing helpers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument

if TYPE_CHECKING:
    from hashlib import _Hash

# Registered algorithms and the length of their lower-case hex encoding (image-spec).
ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}
CANONICAL = "sha256"
READ_SIZE = 1 << 20

_DIGEST_RE = re.compile(r"^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")


@dataclass(frozen=True, order=True)
class Digest:
    """A validated content digest; `str(d)` is its canonical `algorithm:hex` form."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse and validate `text`; raises `InvalidArgument` naming the bad digest."""
        m = _DIGEST_RE.match(text)
        if not m:
            raise InvalidArgument(f"invalid digest {text!r}: expected 'sha256:<64 hex digits>'")
        algorithm, encoded = m.groups()
        length = ALGORITHMS.get(algorithm)
        if length is None:
            raise InvalidArgument(
                f"unsupported digest algorithm {algorithm!r} in {text!r}: use sha256 or sha512"
            )
        if len(encoded) != length or not re.fullmatch(r"[0-9a-f]+", encoded):
            raise InvalidArgument(
                f"invalid digest {text!r}: {algorithm} needs {length} lower-case hex digits"
            )
        return cls(algorithm, encoded)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def short(self) -> str:
        """The first 12 hex digits, as `docker images` shows ids."""
        return self.hex[:12]


def parse_digest(value: str | Digest) -> Digest:
    """Accept a digest string or a `Digest`; validate the string form."""
    return value if isinstance(value, Digest) else Digest.parse(value)


class Digester:
    """Incremental hashing that yields a `Digest` and counts the bytes fed to it."""

    def __init__(self, algorithm: str = CANONICAL) -> None:
        if algorithm not in ALGORITHMS:
            raise InvalidArgument(f"unsupported digest algorithm {algorithm!r}: use sha256")
        self.algorithm = algorithm
        self._hash: _Hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        """Feed more bytes."""
        self._hash.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        """The digest of everything fed so far."""
        return Digest(self.algorithm, self._hash.hexdigest())


def digest_bytes(data: bytes, algorithm: str = CANONICAL) -> Digest:
    """The digest of an in-memory byte string."""
    d = Digester(algorithm)
    d.update(data)
    return d.digest()


def digest_file(path: Path, algorithm: str = CANONICAL) -> Digest:
    """The digest of a file's contents, read in large chunks."""
    d = Digester(algorithm)
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(READ_SIZE):
            d.update(chunk)
    return d.digest()
