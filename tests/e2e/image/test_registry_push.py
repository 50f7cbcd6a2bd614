"""Pushing to a real docker-registry: blobs (monolithic, chunked, mounted), manifests, indexes."""

from __future__ import annotations

import io
import json
import os

from dockyard.image.platform import Platform
from dockyard.image.reference import Reference, parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.oci.image_spec import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Descriptor,
    digest_bytes,
)
from dockyard.testing.registry import RunningRegistry


def _descriptor(media_type: str, data: bytes) -> Descriptor:
    return {"mediaType": media_type, "digest": digest_bytes(data), "size": len(data)}


def _fetch(client: RegistryClient, ref: Reference, descriptor: Descriptor) -> bytes:
    buffer = io.BytesIO()
    client.fetch_blob(ref, descriptor, buffer.write)
    return buffer.getvalue()


def test_push_blobs_and_manifest_then_pull(
    client: RegistryClient, registry: RunningRegistry
) -> None:
    ref = parse_reference(f"{registry.host}/e2e/pushed:1")
    layer = os.urandom(300_000)
    config = json.dumps(
        {
            "os": "linux",
            "architecture": "amd64",
            "rootfs": {"type": "layers", "diff_ids": [digest_bytes(layer)]},
        }
    ).encode()
    layer_desc = _descriptor(OCI_LAYER_GZIP, layer)
    config_desc = _descriptor(OCI_CONFIG, config)
    client.push_blob(ref, layer_desc, io.BytesIO(layer), chunk_size=64 * 1024)
    client.push_blob(ref, config_desc, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_desc,
            "layers": [layer_desc],
        }
    ).encode()
    digest = client.put_manifest(ref, manifest, OCI_MANIFEST)

    fetched = client.resolve(ref).manifest
    assert fetched.data == manifest and fetched.descriptor["digest"] == digest
    assert _fetch(client, ref, layer_desc) == layer
    assert _fetch(client, ref, config_desc) == config
    # Pushing again is a no-op: the blob is already there.
    client.push_blob(ref, layer_desc, b"")

    # Cross-repository mount: the registry links the blob without an upload.
    other = parse_reference(f"{registry.host}/e2e/mounted:1")
    client.push_blob(other, layer_desc, b"", mount_from=ref)
    assert client.blob_exists(other, layer_desc["digest"]) is not None

    # An index over the manifest: resolve picks the requested platform.
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    **_descriptor(OCI_MANIFEST, manifest),
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {
                    **_descriptor(OCI_MANIFEST, manifest),
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
            ],
        }
    ).encode()
    index_ref = ref.with_tag("multi")
    client.put_manifest(index_ref, index, OCI_INDEX)
    resolved = client.resolve(index_ref, Platform("linux", "arm64", "v8"))
    assert resolved.index is not None and resolved.digest == digest_bytes(index)
    assert resolved.manifest.descriptor["digest"] == digest
