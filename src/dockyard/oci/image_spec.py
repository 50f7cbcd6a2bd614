"""The OCI image-spec 1.x and Docker schema-2 JSON shapes, media types and pure validators.

TypedDicts over the parsed JSON (field names exactly the specs'), so a manifest read from a
registry or a layout is used as is; `parse_*` check the shape once at the edge.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NotRequired, TypedDict, TypeGuard, cast

from dockyard.errors import InvalidArgument

# OCI image-spec media types (image-spec media-types.md).
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

# Docker image manifest v2, schema 2 (distribution docs/spec/manifest-v2-2.md).
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
# What a client accepts when it fetches a manifest, best first.
MANIFEST_ACCEPT = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

# Algorithms and their hex lengths that go-digest (and so every registry) accepts.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


class Platform(TypedDict):
    architecture: str
    os: str
    variant: NotRequired[str]
    features: NotRequired[list[str]]


class Descriptor(TypedDict):
    mediaType: str
    digest: str
    size: int
    urls: NotRequired[list[str]]
    annotations: NotRequired[dict[str, str]]
    platform: NotRequired[Platform]
    artifactType: NotRequired[str]


class Manifest(TypedDict):
    """An OCI image manifest or a Docker schema-2 manifest: the two share this shape."""

    schemaVersion: int
    mediaType: NotRequired[str]
    config: Descriptor
    layers: list[Descriptor]
    annotations: NotRequired[dict[str, str]]
    subject: NotRequired[Descriptor]
    artifactType: NotRequired[str]


class Index(TypedDict):
    """An OCI image index or a Docker manifest list."""

    schemaVersion: int
    mediaType: NotRequired[str]
    manifests: list[Descriptor]
    annotations: NotRequired[dict[str, str]]


class ContainerConfig(TypedDict, total=False):
    User: str
    ExposedPorts: dict[str, dict[str, Any]]
    Env: list[str]
    Entrypoint: list[str] | None
    Cmd: list[str] | None
    Volumes: dict[str, dict[str, Any]]
    WorkingDir: str
    Labels: dict[str, str]
    StopSignal: str


class RootFS(TypedDict):
    type: str
    diff_ids: list[str]


class History(TypedDict, total=False):
    created: str
    created_by: str
    author: str
    comment: str
    empty_layer: bool


class ImageConfig(TypedDict):
    architecture: str
    os: str
    rootfs: RootFS
    variant: NotRequired[str]
    created: NotRequired[str]
    author: NotRequired[str]
    config: NotRequired[ContainerConfig]
    history: NotRequired[list[History]]


def digest_bytes(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of `data` in `algorithm:<hex>` form (sha256 unless told otherwise)."""
    return f"{algorithm}:" + hashlib.new(algorithm, data).hexdigest()


def validate_digest(digest: str) -> str:
    """Return `digest` if it is a well-formed `algorithm:hex` digest, else raise InvalidArgument."""
    if not _DIGEST_RE.fullmatch(digest):
        raise InvalidArgument(f"invalid digest {digest!r}: expected sha256:<64 hex digits>")
    algorithm, encoded = digest.split(":", 1)
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise InvalidArgument(
            f"unsupported digest algorithm in {digest!r}: use one of "
            + ", ".join(DIGEST_HEX_LENGTHS)
        )
    if len(encoded) != length or not all(c in "0123456789abcdef" for c in encoded):
        raise InvalidArgument(
            f"invalid digest {digest!r}: {algorithm} needs {length} lowercase hex digits"
        )
    return digest


def _fail(what: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"invalid {what}: {problem}")


def _check_descriptor(value: object, what: str) -> Descriptor:
    if not isinstance(value, dict):
        raise _fail(what, "descriptor is not a JSON object")
    media_type = value.get("mediaType")
    digest = value.get("digest")
    size = value.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _fail(what, "descriptor has no mediaType")
    if not isinstance(digest, str):
        raise _fail(what, "descriptor has no digest")
    try:
        validate_digest(digest)
    except InvalidArgument as exc:
        raise _fail(what, str(exc)) from None
    # bool is an int subclass; a size of `true` is garbage, not 1.
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _fail(what, f"descriptor {digest} has no valid size")
    platform = value.get("platform")
    if platform is not None and not (
        isinstance(platform, dict)
        and isinstance(platform.get("os"), str)
        and isinstance(platform.get("architecture"), str)
    ):
        raise _fail(what, f"descriptor {digest} has a malformed platform")
    return cast(Descriptor, value)


def _load_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(what, f"not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _fail(what, "not a JSON object")
    return doc


def _kind(doc: dict[str, Any], media_type: str | None) -> str:
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _fail("manifest", "mediaType is not a string")
    # The HTTP Content-Type wins over the body's mediaType; registries serve both consistently.
    for candidate in (media_type, declared):
        if candidate in MANIFEST_TYPES:
            return "manifest"
        if candidate in INDEX_TYPES:
            return "index"
    if "manifests" in doc:
        return "index"
    if "layers" in doc or "config" in doc:
        return "manifest"
    raise _fail("manifest", f"unsupported media type {media_type or declared!r}")


def parse_manifest(data: bytes, media_type: str | None = None) -> Manifest | Index:
    """Parse and check an image manifest or index; `media_type` is the served Content-Type."""
    doc = _load_object(data, "manifest")
    if doc.get("schemaVersion") != 2:
        raise _fail("manifest", f"schemaVersion is {doc.get('schemaVersion')!r}, expected 2")
    if _kind(doc, media_type) == "index":
        manifests = doc.get("manifests")
        if not isinstance(manifests, list):
            raise _fail("index", "manifests is not a list")
        for entry in manifests:
            _check_descriptor(entry, "index")
        return cast(Index, doc)
    _check_descriptor(doc.get("config"), "manifest config")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise _fail("manifest", "layers is not a list")
    for layer in layers:
        _check_descriptor(layer, "manifest layer")
    return cast(Manifest, doc)


def is_index(doc: Manifest | Index) -> TypeGuard[Index]:
    """Whether a parsed document is an index (manifest list) rather than an image manifest."""
    return "manifests" in doc


def parse_image_config(data: bytes) -> ImageConfig:
    """Parse and check an image configuration blob (os, architecture, rootfs.diff_ids)."""
    doc = _load_object(data, "image config")
    for key in ("os", "architecture"):
        if not isinstance(doc.get(key), str):
            raise _fail("image config", f"{key} is missing")
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise _fail("image config", "rootfs.diff_ids is missing")
    for diff_id in rootfs["diff_ids"]:
        if not isinstance(diff_id, str):
            raise _fail("image config", "rootfs.diff_ids holds a non-string")
        validate_digest(diff_id)
    return cast(ImageConfig, doc)
