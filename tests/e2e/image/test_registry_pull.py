"""Pulling from a real docker-registry: resolve, manifests, config and layer blobs, mirrors."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from dockyard.errors import NotFound, Unavailable
from dockyard.image.reference import Reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.config import RegistryConfig
from dockyard.image.registry.credentials import CredentialStore
from dockyard.oci.image_spec import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    Descriptor,
    is_index,
    parse_image_config,
)
from dockyard.testing.registry import RunningRegistry, free_port

# The busybox image fixture chowns files, which needs root.
pytestmark = pytest.mark.root


def _fetch(client: RegistryClient, ref: Reference, descriptor: Descriptor) -> bytes:
    buffer = io.BytesIO()
    client.fetch_blob(ref, descriptor, buffer.write)
    return buffer.getvalue()


def _layout_blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def test_resolve_and_fetch_oci_image(
    client: RegistryClient, pushed_busybox: Reference, busybox_layout: Path
) -> None:
    resolved = client.resolve(pushed_busybox)
    assert resolved.index is None
    manifest = resolved.manifest
    assert manifest.descriptor["mediaType"] == OCI_MANIFEST
    assert not is_index(manifest.document)
    config_desc = manifest.document["config"]  # type: ignore[typeddict-item]
    config = parse_image_config(_fetch(client, pushed_busybox, config_desc))
    assert config["os"] == "linux"
    assert config["config"]["Cmd"] == ["/bin/sh"]
    (layer,) = manifest.document["layers"]  # type: ignore[typeddict-item]
    data = _fetch(client, pushed_busybox, layer)
    assert "sha256:" + hashlib.sha256(data).hexdigest() == layer["digest"]
    assert data == _layout_blob(busybox_layout, layer["digest"])
    assert len(config["rootfs"]["diff_ids"]) == 1


def test_docker_schema2_manifest(client: RegistryClient, pushed_busybox_docker: Reference) -> None:
    manifest = client.get_manifest(pushed_busybox_docker)
    assert manifest.descriptor["mediaType"] == DOCKER_MANIFEST
    assert manifest.document["config"]["mediaType"] == DOCKER_CONFIG  # type: ignore[typeddict-item]
    assert client.head_manifest(pushed_busybox_docker) == manifest.descriptor


def test_fetch_by_digest_verifies(client: RegistryClient, pushed_busybox: Reference) -> None:
    descriptor = client.head_manifest(pushed_busybox)
    by_digest = client.get_manifest(pushed_busybox.with_digest(descriptor["digest"]))
    assert by_digest.descriptor == descriptor
    assert json.loads(by_digest.data)["schemaVersion"] == 2


def test_unknown_tag_names_the_reference(client: RegistryClient, registry: RunningRegistry) -> None:
    from dockyard.image.reference import parse_reference

    ref = parse_reference(f"{registry.host}/e2e/busybox:no-such-tag")
    with pytest.raises(NotFound, match="e2e/busybox:no-such-tag"):
        client.get_manifest(ref)
    with pytest.raises(NotFound, match="e2e/nothing"):
        client.get_manifest(parse_reference(f"{registry.host}/e2e/nothing"))


def test_blob_exists(client: RegistryClient, pushed_busybox: Reference) -> None:
    manifest = client.get_manifest(pushed_busybox).document
    layer = manifest["layers"][0]  # type: ignore[typeddict-item]
    found = client.blob_exists(pushed_busybox, layer["digest"])
    assert found is not None and found["size"] == layer["size"]
    assert client.blob_exists(pushed_busybox, "sha256:" + "0" * 64) is None


def test_tags_list(
    client: RegistryClient, pushed_busybox: Reference, pushed_busybox_docker: Reference
) -> None:
    assert {"oci", "v2s2"} <= set(client.list_tags(pushed_busybox))


def test_unreachable_registry_names_host_and_reason(client: RegistryClient) -> None:
    from dockyard.image.reference import parse_reference

    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(Unavailable, match=rf"cannot reach registry {host}: .*refused"):
        client.get_manifest(parse_reference(f"{host}/x/y:1"))


def test_mirror_first_then_registry(
    registry: RunningRegistry, pushed_busybox: Reference, credential_store: CredentialStore
) -> None:
    # A dead mirror is skipped; the registry itself serves the pull.
    dead = f"127.0.0.1:{free_port()}"
    config = RegistryConfig(mirrors={registry.host: (dead,)})
    with RegistryClient(credentials=credential_store, config=config, timeout=5) as client:
        resolved = client.resolve(pushed_busybox)
    assert resolved.manifest.descriptor["mediaType"] == OCI_MANIFEST
