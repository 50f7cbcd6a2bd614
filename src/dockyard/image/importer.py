"""`import`: a root file system tarball becomes a one-layer image."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from dockyard.errors import NotFound
from dockyard.image.content import Expected
from dockyard.image.store import ImageRecord, ImageStore, make_manifest
from dockyard.oci.image_spec import OCI_LAYER

_CHUNK = 1 << 20


def _uncompressed(path: Path) -> IO[bytes]:
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def parse_created(text: str) -> float:
    """An image's `created` (RFC 3339) as seconds since the epoch; 0 when unparsable."""
    base = text.rstrip("Z").split(".")[0]
    try:
        when = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return 0.0
    return when.replace(tzinfo=datetime.UTC).timestamp()


def created_time() -> str:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible images)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        if epoch and epoch.isdigit()
        else datetime.datetime.now(datetime.UTC)
    )
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def import_tarball(
    store: ImageStore,
    tarball: Path,
    *,
    tags: tuple[str, ...] = (),
    config: dict[str, Any] | None = None,
    comment: str = "",
) -> ImageRecord:
    """Store `tarball` (tar or tar.gz) as the single layer of a new image with `config`."""
    if not tarball.is_file():
        raise NotFound(f"{tarball}: no such file: give a tar or tar.gz of a root file system")
    with tempfile.NamedTemporaryFile(dir=store.scratch_dir(), prefix="import-") as tmp:
        # One pass to an uncompressed copy while hashing: the layer blob *is* the diff.
        sha = hashlib.sha256()
        size = 0
        with _uncompressed(tarball) as src:
            while chunk := src.read(_CHUNK):
                sha.update(chunk)
                tmp.write(chunk)
                size += len(chunk)
        tmp.flush()
        diff_id = "sha256:" + sha.hexdigest()
        tmp.seek(0)
        store.layers.unpack(diff_id, tmp)
        tmp.seek(0)
        store.content.ingest(Expected.of(diff_id, size), iter(lambda: tmp.read(_CHUNK), b""))
    created = created_time()
    image_config = {
        "created": created,
        "architecture": _go_arch(),
        "os": "linux",
        "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [
            {"created": created, "created_by": comment or f"dockyard import {tarball.name}"}
        ],
    }
    config_bytes = json.dumps(image_config, separators=(",", ":"), sort_keys=True).encode()
    manifest = make_manifest(
        config_bytes, [{"mediaType": OCI_LAYER, "digest": diff_id, "size": size}]
    )
    return store.add(manifest, config_bytes, tags=tags)


def _go_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(
        machine, machine
    )
