"""The client against `FakeRegistry`: a push → pull round trip through the in-memory fake."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dockyard.errors import NotFound
from dockyard.image.reference import parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.credentials import CredentialStore
from dockyard.oci.image_spec import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Descriptor, digest_bytes
from dockyard.testing.registry import FakeRegistry


def _descriptor(media_type: str, data: bytes) -> Descriptor:
    return {"mediaType": media_type, "digest": digest_bytes(data), "size": len(data)}


def test_round_trip(scratch: Path) -> None:
    fake = FakeRegistry()
    layer, config = b"layer" * 1000, b'{"os": "linux"}'
    layer_desc, config_desc = _descriptor(OCI_LAYER, layer), _descriptor(OCI_CONFIG, config)
    manifest = json.dumps(
        {"schemaVersion": 2, "config": config_desc, "layers": [layer_desc]}
    ).encode()
    ref = parse_reference("127.0.0.1:5000/team/app:1")
    store = CredentialStore(scratch / "config.json")
    with RegistryClient(transport=fake.transport(), credentials=store) as client:
        client.push_blob(ref, layer_desc, layer, chunk_size=1500)
        client.push_blob(ref, config_desc, io.BytesIO(config))
        client.put_manifest(ref, manifest, OCI_MANIFEST)
        other = ref.with_tag("2")
        client.push_blob(
            parse_reference("127.0.0.1:5000/team/other"), layer_desc, b"", mount_from=ref
        )

        resolved = client.resolve(ref)
        assert resolved.manifest.data == manifest
        assert b"".join(client.iter_blob(ref, layer_desc)) == layer
        assert b"".join(client.iter_blob(ref, layer_desc, offset=4000)) == layer[4000:]
        assert client.list_tags(ref) == ["1"]
        with pytest.raises(NotFound, match="MANIFEST_UNKNOWN"):
            client.get_manifest(other)
    assert ("POST", "/v2/team/other/blobs/uploads/") in fake.requests
    assert layer_desc["digest"] in fake.repos["team/other"]
