"""Manifest, index and image config parsing: valid documents pass, garbage is InvalidArgument."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.errors import InvalidArgument
from dockyard.oci.image_spec import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_bytes,
    is_index,
    parse_image_config,
    parse_manifest,
    validate_digest,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D1, "size": 7},
    "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "size": 9}
    ],
}
INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "manifests": [
        {
            "mediaType": OCI_MANIFEST,
            "digest": D1,
            "size": 3,
            "platform": {"os": "linux", "architecture": "amd64"},
        }
    ],
}


def _bytes(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_manifest_and_index() -> None:
    manifest = parse_manifest(_bytes(MANIFEST), OCI_MANIFEST)
    assert not is_index(manifest) and manifest["layers"][0]["digest"] == D2  # type: ignore[typeddict-item]
    assert is_index(parse_manifest(_bytes(INDEX), OCI_INDEX))
    # The kind comes from the Content-Type, the body's mediaType, or the fields present.
    assert is_index(parse_manifest(_bytes(INDEX)))
    assert is_index(parse_manifest(_bytes(INDEX), DOCKER_MANIFEST_LIST))
    docker = dict(MANIFEST, mediaType=DOCKER_MANIFEST)
    assert not is_index(parse_manifest(_bytes(docker), "application/json"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{", "not JSON"),
        (b"[]", "not a JSON object"),
        (_bytes(dict(MANIFEST, schemaVersion=1)), "schemaVersion"),
        (_bytes({k: v for k, v in MANIFEST.items() if k != "config"}), "not a JSON object"),
        (_bytes(dict(MANIFEST, layers={})), "layers is not a list"),
        (
            _bytes(dict(MANIFEST, layers=[{"mediaType": "x", "digest": "sha256:1", "size": 1}])),
            "64",
        ),
        (_bytes(dict(MANIFEST, layers=[{"mediaType": "x", "digest": D1, "size": -1}])), "size"),
        (_bytes(dict(MANIFEST, layers=[{"mediaType": "x", "digest": D1, "size": True}])), "size"),
        (_bytes(dict(MANIFEST, layers=[{"mediaType": "x", "size": 1}])), "no digest"),
        (_bytes(dict(INDEX, manifests=None)), "manifests is not a list"),
        (
            _bytes({"schemaVersion": 2, "manifests": [{**INDEX["manifests"][0], "platform": "x"}]}),
            "platform",
        ),
        (_bytes({"schemaVersion": 2}), "unsupported media type"),
        (_bytes(dict(MANIFEST, mediaType=7)), "mediaType is not a string"),
    ],
)
def test_garbage(data: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_manifest(data)


@given(st.binary(max_size=200) | st.text(max_size=100).map(str.encode))
def test_never_crashes(data: bytes) -> None:
    with contextlib.suppress(InvalidArgument):
        parse_manifest(data, None)


_KEYS = st.sampled_from(
    ["schemaVersion", "layers", "config", "manifests", "mediaType", "digest", "size", "platform"]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_KEYS, c, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_never_crashes_on_shaped_json(doc: object) -> None:
    for wrapped in (
        doc,
        {"schemaVersion": 2, "layers": doc, "config": doc},
        {"schemaVersion": 2, "manifests": doc},
    ):
        with contextlib.suppress(InvalidArgument):
            parse_manifest(_bytes(wrapped), None)


def test_image_config() -> None:
    config = {
        "os": "linux",
        "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": [D1]},
    }
    assert parse_image_config(_bytes(config))["rootfs"]["diff_ids"] == [D1]
    with pytest.raises(InvalidArgument, match="os is missing"):
        parse_image_config(_bytes({"architecture": "amd64"}))
    with pytest.raises(InvalidArgument, match=r"rootfs.diff_ids"):
        parse_image_config(_bytes({"os": "linux", "architecture": "amd64"}))
    with pytest.raises(InvalidArgument, match="invalid digest"):
        parse_image_config(_bytes({**config, "rootfs": {"diff_ids": ["nope"]}}))


def test_digests() -> None:
    assert (
        digest_bytes(b"")
        == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert validate_digest("sha512:" + "a" * 128).startswith("sha512:")
    for bad in ("sha256", "sha256:", ":abc", "SHA256:" + "a" * 64, "sha256:" + "g" * 64):
        with pytest.raises(InvalidArgument):
            validate_digest(bad)
