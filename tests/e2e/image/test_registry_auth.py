"""Basic auth against a real docker-registry with htpasswd: login, pull, wrong password, logout."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dockyard.image.reference import parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.credentials import CredentialStore
from dockyard.image.registry.errors import Unauthorized
from dockyard.testing.registry import RunningRegistry, push_layout

# The busybox image fixture chowns files, which needs root.
pytestmark = pytest.mark.root


def test_login_pull_logout(
    auth_registry: RunningRegistry,
    auth_users: dict[str, str],
    busybox_layout: Path,
    client: RegistryClient,
    credential_store: CredentialStore,
) -> None:
    host = auth_registry.host
    push_layout(
        busybox_layout,
        "latest",
        f"{host}/private/busybox:1",
        credentials=("alice", auth_users["alice"]),
    )
    ref = parse_reference(f"{host}/private/busybox:1")

    with pytest.raises(
        Unauthorized, match=rf"authentication required for {host}: run `dockyard login {host}`"
    ):
        client.get_manifest(ref)
    with pytest.raises(Unauthorized, match=rf"wrong credentials for {host}: run `dockyard login"):
        client.login(host, "alice", "wrong")
    assert credential_store.get(host) is None

    client.login(host, "alice", auth_users["alice"])
    saved = json.loads(credential_store.path.read_text())
    assert base64.b64decode(saved["auths"][host]["auth"]) == b"alice:wonderland"
    assert credential_store.path.stat().st_mode & 0o777 == 0o600
    assert client.resolve(ref).manifest.document["layers"]  # type: ignore[typeddict-item]

    assert client.logout(host)
    with RegistryClient(credentials=credential_store) as fresh, pytest.raises(Unauthorized):
        fresh.get_manifest(ref)


def test_stale_stored_password(
    auth_registry: RunningRegistry, credential_store: CredentialStore
) -> None:
    from dockyard.image.registry.credentials import Credentials

    credential_store.store(auth_registry.host, Credentials("alice", "stale"))
    with (
        RegistryClient(credentials=credential_store) as client,
        pytest.raises(Unauthorized, match=f"wrong credentials for {auth_registry.host}"),
    ):
        client.list_tags(parse_reference(f"{auth_registry.host}/private/busybox"))
