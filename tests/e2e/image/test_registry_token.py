"""Bearer token auth against a real docker-registry trusting a test token issuer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dockyard.image.reference import parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.credentials import CredentialStore
from dockyard.image.registry.errors import Unauthorized
from dockyard.testing.registry import RunningRegistry, TokenIssuer, push_layout

# The busybox image fixture chowns files, which needs root.
pytestmark = pytest.mark.root


def test_token_login_push_pull(
    token_registry: RunningRegistry,
    token_issuer: TokenIssuer,
    auth_users: dict[str, str],
    busybox_layout: Path,
    client: RegistryClient,
    credential_store: CredentialStore,
) -> None:
    host = token_registry.host
    ref = parse_reference(f"{host}/private/busybox:1")
    # skopeo is an independent client of the same token flow.
    push_layout(busybox_layout, "latest", str(ref), credentials=("alice", auth_users["alice"]))

    with pytest.raises(Unauthorized, match=rf"authentication required for {host}"):
        client.get_manifest(ref)
    with pytest.raises(Unauthorized, match=rf"wrong credentials for {host}"):
        client.login(host, "alice", "wrong")

    client.login(host, "alice", auth_users["alice"])
    resolved = client.resolve(ref)
    layer = resolved.manifest.document["layers"][0]  # type: ignore[typeddict-item]
    data = io.BytesIO()
    client.fetch_blob(ref, layer, data.write)
    assert len(data.getvalue()) == layer["size"]
    scopes = token_issuer.requests[-1].get("scope", [])
    assert scopes == ["repository:private/busybox:pull"]
    assert token_issuer.requests[-1]["service"] == [TokenIssuer.SERVICE]

    # Pushing asks for a push scope: a new token, then a tag round-trips.
    target = ref.with_tag("copy")
    client.put_manifest(target, resolved.manifest.data, resolved.manifest.descriptor["mediaType"])
    assert "copy" in client.list_tags(ref)
    assert any(
        "repository:private/busybox:pull,push" in request.get("scope", [])
        for request in token_issuer.requests
    )
