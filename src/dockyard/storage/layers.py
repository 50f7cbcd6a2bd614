"""The layer store: each layer unpacked once into `<root>/layers/<diff-id hex>/`, refcounted.

A layer directory appears only complete: it is unpacked into `<root>/tmp/`, verified against
its diff-ID, then renamed into place. The `layers` table is the source of truth; a directory
without a row (left by a crash) is treated as garbage. Per-layer file locks under
`<root>/locks/` make concurrent unpacks of one layer do the work once.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.state.db import StateDB
from dockyard.storage import schema

# Unpacking (tar, decompressors, writer threads) is imported where a layer is unpacked: most
# commands only look layers up, and start-up time is a feature of the CLI.
DEFAULT_WORKERS = 4  # threads writing an unpacked layer's files (storage.write_pool)

_DIFF_ID_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Layer:
    """One unpacked layer: its diff-ID, bytes of file content, references, and directory."""

    diff_id: str
    size: int
    refcount: int
    path: Path


def check_diff_id(diff_id: str) -> str:
    """Validate a diff-ID (`sha256:<64 hex>`, image-spec config.md) and return it."""
    if not _DIFF_ID_RE.match(diff_id):
        raise InvalidArgument(f"invalid diff-ID {diff_id!r}: expected 'sha256:<64 hex digits>'")
    return diff_id


class LayerStore:
    """Unpacked layers under `<root>/layers/`, recorded in the state database."""

    def __init__(
        self,
        root: Path,
        db: StateDB,
        *,
        allow_devices: bool = False,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.root = root
        self.db = db
        self.allow_devices = allow_devices
        self.workers = workers
        self.layers_dir = root / "layers"
        self.tmp_dir = root / "tmp"
        self.locks_dir = root / "locks"
        schema.migrate(db)

    def path(self, diff_id: str) -> Path:
        """The directory of a layer (whether or not it is unpacked)."""
        return self.layers_dir / check_diff_id(diff_id).removeprefix("sha256:")

    def get(self, diff_id: str) -> Layer:
        """The recorded layer; `NotFound` if it is not unpacked."""
        rows = self.db.query(
            "SELECT diff_id, size, refcount FROM layers WHERE diff_id = ?",
            (check_diff_id(diff_id),),
        )
        if not rows:
            raise NotFound(f"layer {diff_id} is not unpacked: pull the image that uses it")
        return self._layer(rows[0]["diff_id"], rows[0]["size"], rows[0]["refcount"])

    def exists(self, diff_id: str) -> bool:
        """Whether the layer is unpacked and recorded."""
        try:
            self.get(diff_id)
        except NotFound:
            return False
        return True

    def list(self) -> list[Layer]:
        """Every recorded layer."""
        rows = self.db.query("SELECT diff_id, size, refcount FROM layers ORDER BY diff_id")
        return [self._layer(r["diff_id"], r["size"], r["refcount"]) for r in rows]

    def unpack(self, diff_id: str, source: IO[bytes]) -> Layer:
        """Unpack a (compressed) layer blob unless already there; verifies it against `diff_id`."""
        target = self.path(diff_id)
        with self._locked(diff_id):
            if self.exists(diff_id):
                return self.get(diff_id)
            if target.exists():
                self._discard(target)  # a crash left it without a row: unverified
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=self.tmp_dir))
            try:
                from dockyard.storage.unpack import unpack

                result = unpack(
                    source,
                    tmp,
                    expected_diff_id=diff_id,
                    allow_devices=self.allow_devices,
                    workers=self.workers,
                )
                self.layers_dir.mkdir(parents=True, exist_ok=True)
                os.rename(tmp, target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO layers (diff_id, size, refcount, created_at) VALUES (?, ?, 0, ?)",
                    (diff_id, result.size, time.time()),
                )
            return self._layer(diff_id, result.size, 0)

    def acquire(self, diff_id: str) -> int:
        """Add a reference (an image using the layer); returns the new count."""
        return self._add_ref(diff_id, +1)

    def release(self, diff_id: str) -> int:
        """Drop a reference; returns the new count. The layer stays until removed or pruned."""
        return self._add_ref(diff_id, -1)

    def remove(self, diff_id: str) -> None:
        """Delete an unreferenced layer; `Conflict` while an image or snapshot uses it."""
        with self._locked(diff_id):
            with self.db.transaction() as conn:
                layer = self.get(diff_id)
                users = conn.execute(
                    "SELECT COUNT(*) FROM snapshot_layers WHERE diff_id = ?", (diff_id,)
                ).fetchone()[0]
                if layer.refcount or users:
                    raise Conflict(
                        f"layer {diff_id} is in use by {layer.refcount} image(s) and {users} "
                        "snapshot(s): remove those first"
                    )
                conn.execute("DELETE FROM layers WHERE diff_id = ?", (diff_id,))
            self._discard(layer.path)

    def reclaimable(self) -> builtins.list[Layer]:
        """The layers `prune()` would remove now: no image and no snapshot uses them."""
        rows = self.db.query(
            "SELECT diff_id, size, refcount FROM layers WHERE refcount = 0 AND diff_id NOT IN "
            "(SELECT diff_id FROM snapshot_layers) ORDER BY diff_id"
        )
        return [self._layer(r["diff_id"], r["size"], r["refcount"]) for r in rows]

    def prune(self) -> builtins.list[str]:
        """Remove every layer no image or snapshot references; returns their diff-IDs."""
        removed: builtins.list[str] = []
        for layer in self.reclaimable():
            with contextlib.suppress(Conflict, NotFound):  # taken or removed meanwhile
                self.remove(layer.diff_id)
                removed.append(layer.diff_id)
        return removed

    def clean_tmp(self) -> builtins.list[str]:
        """Remove temp dirs left by killed unpacks (those whose layer lock is free)."""
        removed: builtins.list[str] = []
        if not self.tmp_dir.is_dir():
            return removed
        for entry in os.scandir(self.tmp_dir):
            hex_part = entry.name.split(".", 1)[0]
            if not _DIFF_ID_RE.match("sha256:" + hex_part):
                continue
            try:
                with self._locked("sha256:" + hex_part, block=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed.append(entry.name)
            except BlockingIOError:
                continue
        return removed

    def _add_ref(self, diff_id: str, delta: int) -> int:
        with self.db.transaction() as conn:
            layer = self.get(diff_id)
            if layer.refcount + delta < 0:
                raise Conflict(f"layer {diff_id} has no references to release: a caller bug")
            conn.execute(
                "UPDATE layers SET refcount = refcount + ? WHERE diff_id = ?", (delta, diff_id)
            )
            return layer.refcount + delta

    def _layer(self, diff_id: str, size: int, refcount: int) -> Layer:
        return Layer(diff_id, size, refcount, self.path(diff_id))

    def _discard(self, path: Path) -> None:
        # Rename first so a half-deleted tree is never visible under layers/.
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        doomed = Path(tempfile.mkdtemp(prefix=path.name + ".rm.", dir=self.tmp_dir))
        try:
            os.rename(path, doomed / "tree")
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
        shutil.rmtree(doomed, ignore_errors=True)

    @contextlib.contextmanager
    def _locked(self, diff_id: str, *, block: bool = True) -> Iterator[None]:
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        lock = self.locks_dir / (check_diff_id(diff_id).removeprefix("sha256:") + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield
        finally:
            os.close(fd)
