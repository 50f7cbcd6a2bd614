"""`save` and `load`: images to and from docker-archive and OCI archive tarballs.

docker-archive is what `docker save` wrote before Docker 25: `manifest.json` (config and layer
paths, RepoTags), `repositories`, `<config hex>.json`, and per layer `<id>/layer.tar` (the
uncompressed layer, whose sha256 is its diff-ID), `<id>/VERSION` and `<id>/json`. An OCI
archive is an image layout (`oci-layout`, `index.json`, `blobs/`) in a tar, each image named
by the `org.opencontainers.image.ref.name` and `io.containerd.image.name` annotations.

`load` reads both, plus Docker 25's layout-with-manifest.json and what `skopeo copy` writes
(`<hex>.tar` layers); each layer is ingested and unpacked in one pass, as a pull does.
"""

from __future__ import annotations

import contextlib
import enum
import gzip
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.digest import READ_SIZE, Digest, Digester
from dockyard.image.platform import host_platform, select_manifest
from dockyard.image.progress import Progress, QuietProgress, Status
from dockyard.image.pull import LayerJob, blob_chunks, store_layer
from dockyard.image.reference import Reference, parse_reference
from dockyard.image.store import make_manifest
from dockyard.oci.image_spec import (
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    Descriptor,
    Manifest,
    digest_bytes,
    is_index,
    parse_image_config,
    parse_manifest,
)

if TYPE_CHECKING:
    from dockyard.image.store import ImageRecord, ImageStore

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


class ArchiveFormat(enum.Enum):
    """The archive formats `save` writes."""

    DOCKER = "docker-archive"
    OCI = "oci-archive"


@dataclass(frozen=True)
class LoadedImage:
    """An image `load` recorded, with the tags the archive gave it."""

    record: ImageRecord
    tags: tuple[str, ...]


@dataclass(frozen=True)
class SaveItem:
    """One image to save and the names (`name:tag`, normalised) it is saved under."""

    record: ImageRecord
    tags: tuple[str, ...]


def _tag_of(ref: Reference) -> str:
    return f"{ref.name}:{ref.tag or 'latest'}"


def plan_save(store: ImageStore, names: Sequence[str]) -> list[SaveItem]:
    """Which images and tags to save for the names given (an id saves the image untagged)."""
    items: dict[str, list[str]] = {}
    records: dict[str, ImageRecord] = {}
    for name in names:
        record = store.resolve(name)
        records[record.id] = record
        tags = items.setdefault(record.id, [])
        with contextlib.suppress(InvalidArgument):
            tag = _tag_of(parse_reference(name))
            if tag in record.tags and tag not in tags:
                tags.append(tag)
    return [SaveItem(records[i], tuple(tags)) for i, tags in items.items()]


# -- save -----------------------------------------------------------------------------------


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    _add_file(tar, name, io.BytesIO(data), len(data))


def _add_file(tar: tarfile.TarFile, name: str, source: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    tar.addfile(info, source)


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
    tar.addfile(info)


def _decompressed(source: IO[bytes]) -> IO[bytes]:
    head = source.read(4)
    source.seek(0)
    if head.startswith(_GZIP):
        return gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[return-value]
    if head.startswith(_ZSTD):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)
    return source


@contextlib.contextmanager
def _layer_tar(store: ImageStore, digest: str, diff_id: str) -> Iterator[tuple[IO[bytes], int]]:
    """The uncompressed layer (a file and its size), verified against its diff-ID."""
    with store.content.open(Digest.parse(digest)) as blob:
        if digest == diff_id:  # stored uncompressed: the blob is the layer tar
            yield blob, os.fstat(blob.fileno()).st_size
            return
        with tempfile.TemporaryFile(dir=store.scratch_dir()) as tmp:
            hasher = Digester()
            with _decompressed(blob) as plain:
                while chunk := plain.read(READ_SIZE):
                    hasher.update(chunk)
                    tmp.write(chunk)
            if str(hasher.digest()) != diff_id:
                raise InvalidArgument(
                    f"layer blob {digest} does not decompress to diff-ID {diff_id}: the stored "
                    "blob is corrupt, pull the image again"
                )
            tmp.seek(0)
            yield tmp, hasher.size


def _write_docker(store: ImageStore, items: Sequence[SaveItem], tar: tarfile.TarFile) -> None:
    entries: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    written: set[str] = set()
    for item in items:
        manifest = store.manifest(item.record)
        config_name = item.record.id.split(":", 1)[1] + ".json"
        if config_name not in written:
            _add_bytes(tar, config_name, store.content.read(Digest.parse(item.record.id)))
            written.add(config_name)
        paths: list[str] = []
        parent = ""
        for layer, diff_id in zip(manifest["layers"], item.record.diff_ids, strict=True):
            layer_id = diff_id.split(":", 1)[1]
            if layer_id not in written:
                _add_dir(tar, layer_id)
                _add_bytes(tar, f"{layer_id}/VERSION", b"1.0")
                legacy = {"id": layer_id, **({"parent": parent} if parent else {})}
                _add_bytes(tar, f"{layer_id}/json", json.dumps(legacy).encode())
                with _layer_tar(store, layer["digest"], diff_id) as (source, size):
                    _add_file(tar, f"{layer_id}/layer.tar", source, size)
                written.add(layer_id)
            paths.append(f"{layer_id}/layer.tar")
            parent = layer_id
        # Fully qualified names, as skopeo writes them: Docker reads both forms, while podman
        # would file a familiar `busybox:latest` under `localhost/`.
        names = list(item.tags)
        entries.append({"Config": config_name, "RepoTags": names or None, "Layers": paths})
        for name in names:
            repo, _, tag = name.rpartition(":")
            repositories.setdefault(repo, {})[tag] = parent
    _add_bytes(tar, "manifest.json", json.dumps(entries).encode())
    if repositories:
        _add_bytes(tar, "repositories", json.dumps(repositories).encode())


def _write_oci(store: ImageStore, items: Sequence[SaveItem], tar: tarfile.TarFile) -> None:
    _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    _add_dir(tar, "blobs")
    _add_dir(tar, "blobs/sha256")
    written: set[str] = set()
    index: list[Descriptor] = []
    for item in items:
        record = item.record
        manifest = store.manifest(record)
        for blob in [*manifest["layers"], manifest["config"]]:
            digest = Digest.parse(blob["digest"])
            if str(digest) in written:
                continue
            with store.content.open(digest) as source:
                _add_file(tar, f"blobs/{digest.algorithm}/{digest.hex}", source, blob["size"])
            written.add(str(digest))
        data = store.content.read(Digest.parse(record.manifest_digest))
        if record.manifest_digest not in written:
            digest = Digest.parse(record.manifest_digest)
            _add_bytes(tar, f"blobs/{digest.algorithm}/{digest.hex}", data)
            written.add(record.manifest_digest)
        base: Descriptor = {
            "mediaType": record.manifest_media_type,
            "digest": record.manifest_digest,
            "size": len(data),
        }
        for tag in item.tags or (None,):
            entry = dict(base)
            if tag is not None:
                ref = parse_reference(tag)
                entry["annotations"] = {CONTAINERD_NAME: str(ref), REF_NAME: ref.tag or "latest"}
            index.append(entry)  # type: ignore[arg-type]
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": index}
    _add_bytes(tar, "index.json", json.dumps(doc).encode())


def save_images(
    store: ImageStore, names: Sequence[str], dest: Path | IO[bytes], fmt: ArchiveFormat
) -> list[SaveItem]:
    """Write the images `names` name to `dest` (a file, replaced only when complete, or a
    stream) in `fmt`; returns what was saved."""
    items = plan_save(store, names)
    write = _write_docker if fmt is ArchiveFormat.DOCKER else _write_oci
    if not isinstance(dest, Path):
        with tarfile.open(fileobj=dest, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            write(store, items, tar)
        return items
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", dir=dest.parent or Path("."))
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            write(store, items, tar)
        os.chmod(tmp, 0o644)
        os.rename(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return items


# -- load -----------------------------------------------------------------------------------


class _Archive:
    """Random access to the members of a (possibly compressed) tar by normalised name."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members = {os.path.normpath(m.name): m for m in tar.getmembers() if m.isreg()}

    def has(self, name: str) -> bool:
        return os.path.normpath(name) in self.members

    def open(self, name: str) -> IO[bytes]:
        member = self.members.get(os.path.normpath(name))
        source = self.tar.extractfile(member) if member is not None else None
        if source is None:
            raise InvalidArgument(f"archive has no file {name!r}: it is incomplete or corrupt")
        return source

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.open(name) as f:
            while chunk := f.read(READ_SIZE):
                yield chunk

    def blob(self, digest: str) -> str:
        parsed = Digest.parse(digest)
        return f"blobs/{parsed.algorithm}/{parsed.hex}"

    def verified(self, descriptor: Descriptor) -> bytes:
        data = self.read(self.blob(descriptor["digest"]))
        if digest_bytes(data) != descriptor["digest"]:
            raise InvalidArgument(
                f"blob {descriptor['digest']} in the archive has digest {digest_bytes(data)}: "
                "the archive is corrupt"
            )
        return data


def _media_type(head: bytes) -> str:
    if head.startswith(_GZIP):
        return OCI_LAYER_GZIP
    if head.startswith(_ZSTD):
        return OCI_LAYER_ZSTD
    return OCI_LAYER


def _store(
    store: ImageStore, archive: _Archive, path: str, job: LayerJob, progress: Progress
) -> None:
    if not (job.fetch or job.unpack):
        progress.layer(job.key, Status.EXISTS)
        return
    progress.layer(job.key, Status.LOADING)
    # A blob stored already is unpacked from the store, not read again from the archive.
    chunks = archive.chunks(path) if job.fetch else blob_chunks(store, job.descriptor["digest"])
    store_layer(store, job, chunks)
    progress.layer(job.key, Status.LOADED)


def _normal_tags(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(_tag_of(parse_reference(n)) for n in names)


def _load_docker(store: ImageStore, archive: _Archive, progress: Progress) -> list[LoadedImage]:
    try:
        entries = json.loads(archive.read("manifest.json"))
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"manifest.json of the archive is not JSON ({exc})") from None
    loaded: list[LoadedImage] = []
    for entry in entries:
        config = archive.read(entry["Config"])
        diff_ids = parse_image_config(config)["rootfs"]["diff_ids"]
        paths = entry.get("Layers") or []
        if len(paths) != len(diff_ids):
            raise InvalidArgument(
                f"archive lists {len(paths)} layers for {len(diff_ids)} diff-IDs: it is corrupt"
            )
        layers: list[Descriptor] = []
        for path, diff_id in zip(paths, diff_ids, strict=True):
            hasher = Digester()
            head = b""
            for chunk in archive.chunks(path):
                head = head or chunk[:4]
                hasher.update(chunk)
            descriptor: Descriptor = {
                "mediaType": _media_type(head),
                "digest": str(hasher.digest()),
                "size": hasher.size,
            }
            job = LayerJob(
                descriptor,
                diff_id,
                fetch=not store.content.exists(hasher.digest()),
                unpack=not store.layers.exists(diff_id),
            )
            _store(store, archive, path, job, progress)
            layers.append(descriptor)
        tags = _normal_tags(entry.get("RepoTags") or [])
        record = store.add(make_manifest(config, layers), config, tags=tags)
        loaded.append(LoadedImage(record, tags))
    return loaded


def _oci_name(annotations: dict[str, str]) -> str | None:
    name = annotations.get(CONTAINERD_NAME) or annotations.get(REF_NAME)
    # A bare tag ("latest") names no repository: such an image loads untagged, as in Docker.
    if not name or ("/" not in name and ":" not in name):
        return None
    try:
        return _tag_of(parse_reference(name))
    except InvalidArgument:
        return None


def _load_oci(store: ImageStore, archive: _Archive, progress: Progress) -> list[LoadedImage]:
    index = json.loads(archive.read("index.json"))
    by_manifest: dict[str, tuple[Descriptor, bytes, list[str]]] = {}
    for top in index.get("manifests") or []:
        data = archive.verified(top)
        doc = parse_manifest(data, top.get("mediaType"))
        descriptor = top
        if is_index(doc):
            descriptor = select_manifest(doc, host_platform())
            data = archive.verified(descriptor)
        name = _oci_name(top.get("annotations") or {})
        _, _, names = by_manifest.setdefault(descriptor["digest"], (descriptor, data, []))
        if name and name not in names:
            names.append(name)
    loaded: list[LoadedImage] = []
    for descriptor, data, names in by_manifest.values():
        doc = parse_manifest(data, descriptor.get("mediaType"))
        if is_index(doc):
            raise InvalidArgument(f"{descriptor['digest']} in the archive is not an image")
        manifest = cast("Manifest", doc)
        config = archive.verified(manifest["config"])
        diff_ids = parse_image_config(config)["rootfs"]["diff_ids"]
        if len(diff_ids) != len(manifest["layers"]):
            raise InvalidArgument("archive image has as many layers as diff-IDs: it is corrupt")
        for layer, diff_id in zip(manifest["layers"], diff_ids, strict=True):
            job = LayerJob(
                layer,
                diff_id,
                fetch=not store.content.exists(Digest.parse(layer["digest"])),
                unpack=not store.layers.exists(diff_id),
            )
            _store(store, archive, archive.blob(layer["digest"]), job, progress)
        media_type = manifest.get("mediaType") or descriptor["mediaType"]
        record = store.add(data, config, tags=tuple(names), media_type=media_type)
        loaded.append(LoadedImage(record, tuple(names)))
    return loaded


def load_archive(
    store: ImageStore, source: Path | IO[bytes], *, progress: Progress | None = None
) -> list[LoadedImage]:
    """Load every image of a docker-archive or OCI archive (tar, maybe compressed)."""
    progress = progress or QuietProgress()
    with contextlib.ExitStack() as stack:
        if isinstance(source, Path):
            if not source.is_file():
                raise NotFound(f"{source}: no such file: give a tar written by save")
            path = source
        else:  # a pipe: tar needs to seek, so spool it next to the store first
            spool = stack.enter_context(tempfile.NamedTemporaryFile(dir=store.scratch_dir()))
            shutil.copyfileobj(source, spool, READ_SIZE)
            spool.flush()
            path = Path(spool.name)
        try:
            tar = stack.enter_context(tarfile.open(path, "r:*"))
        except tarfile.TarError as exc:
            raise InvalidArgument(f"{path} is not a tar archive ({exc})") from None
        archive = _Archive(tar)
        if archive.has("manifest.json"):
            return _load_docker(store, archive, progress)
        if archive.has("index.json"):
            return _load_oci(store, archive, progress)
    raise InvalidArgument(
        "archive has neither manifest.json nor index.json: not a docker-archive or OCI archive"
    )
