"""Faults between client and registry: a connection dropped mid-blob, a corrupted manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dockyard.image.content import ContentStore, Expected
from dockyard.image.reference import Reference, parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.credentials import CredentialStore
from dockyard.image.registry.errors import DigestMismatch
from dockyard.testing.registry import FaultyProxy, RunningRegistry

# The busybox image fixture chowns files, which needs root.
pytestmark = pytest.mark.root


def _via(proxy: FaultyProxy, ref: Reference) -> Reference:
    return parse_reference(str(ref).replace(ref.domain, proxy.host, 1))


def test_dropped_connection_resumes_with_range(
    registry: RunningRegistry, pushed_busybox: Reference, credential_store: CredentialStore
) -> None:
    with (
        FaultyProxy(registry.host, drop_blob_after=100_000) as proxy,
        RegistryClient(credentials=credential_store, timeout=10) as client,
    ):
        ref = _via(proxy, pushed_busybox)
        layer = client.get_manifest(ref).document["layers"][0]  # type: ignore[typeddict-item]
        hasher = hashlib.sha256()
        written = 0

        def write(chunk: bytes) -> None:
            nonlocal written
            hasher.update(chunk)
            written += len(chunk)

        client.fetch_blob(ref, layer, write)
    assert proxy.drops == 1
    assert proxy.range_requests == ["bytes=100000-"]
    assert written == layer["size"]
    assert "sha256:" + hasher.hexdigest() == layer["digest"]


def test_manifest_not_matching_its_digest(
    registry: RunningRegistry, pushed_busybox: Reference, client: RegistryClient
) -> None:
    digest = client.head_manifest(pushed_busybox)["digest"]
    with FaultyProxy(registry.host, corrupt_manifests=True) as proxy:
        ref = _via(proxy, pushed_busybox).with_digest(digest)
        with pytest.raises(DigestMismatch, match=rf"has digest sha256:\w+ but {digest} was asked"):
            client.get_manifest(ref)


def test_resumed_download_lands_in_the_content_store(
    registry: RunningRegistry,
    pushed_busybox: Reference,
    credential_store: CredentialStore,
    scratch: Path,
) -> None:
    store = ContentStore(scratch / "content")
    with (
        FaultyProxy(registry.host, drop_blob_after=50_000) as proxy,
        RegistryClient(credentials=credential_store, timeout=10) as client,
    ):
        ref = _via(proxy, pushed_busybox)
        layer = client.get_manifest(ref).document["layers"][0]  # type: ignore[typeddict-item]
        expected = Expected.of(layer["digest"], layer["size"])
        digest = store.ingest(expected, client.iter_blob(ref, layer, verify=False))
    assert str(digest) == layer["digest"] and proxy.drops == 1
    assert store.info(digest).size == layer["size"]
