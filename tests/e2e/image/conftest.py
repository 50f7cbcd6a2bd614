"""Fixtures for the registry e2e tests: real `docker-registry` servers, a pushed busybox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.image.reference import Reference, parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.config import RegistryConfig
from dockyard.image.registry.credentials import CredentialStore
from dockyard.testing.registry import (
    RunningRegistry,
    TokenIssuer,
    make_oci_layout,
    push_layout,
    run_registry,
)

USERS = {"alice": "wonderland"}


@pytest.fixture(scope="session")
def registry(test_base: Path) -> Iterator[RunningRegistry]:
    """An anonymous registry on 127.0.0.1 for the whole session."""
    with run_registry(test_base / "registry") as running:
        yield running


@pytest.fixture(scope="session")
def auth_users() -> dict[str, str]:
    """The users of `auth_registry` and their passwords."""
    return dict(USERS)


@pytest.fixture(scope="session")
def auth_registry(test_base: Path) -> Iterator[RunningRegistry]:
    """A registry with htpasswd (Basic) auth: user alice, password wonderland."""
    with run_registry(test_base / "auth-registry", USERS) as running:
        yield running


@pytest.fixture(scope="session")
def token_issuer(test_base: Path) -> Iterator[TokenIssuer]:
    """A Bearer token server that knows alice/wonderland."""
    with TokenIssuer(test_base / "token-issuer", USERS) as issuer:
        yield issuer


@pytest.fixture(scope="session")
def token_registry(test_base: Path, token_issuer: TokenIssuer) -> Iterator[RunningRegistry]:
    """A registry that wants Bearer tokens from `token_issuer`."""
    with run_registry(test_base / "token-registry", token_issuer=token_issuer) as running:
        yield running


@pytest.fixture(scope="session")
def busybox_layout(busybox_template: Path, test_base: Path) -> Path:
    """An OCI layout (tag `latest`) of the busybox root file system, made with umoci."""
    return make_oci_layout(busybox_template, test_base / "busybox-image")


@pytest.fixture(scope="session")
def pushed_busybox(registry: RunningRegistry, busybox_layout: Path) -> Reference:
    """The busybox image pushed as an OCI manifest to `registry` by skopeo."""
    push_layout(busybox_layout, "latest", f"{registry.host}/e2e/busybox:oci")
    return parse_reference(f"{registry.host}/e2e/busybox:oci")


@pytest.fixture(scope="session")
def pushed_busybox_docker(registry: RunningRegistry, busybox_layout: Path) -> Reference:
    """The busybox image pushed as a Docker schema-2 manifest to `registry` by skopeo."""
    push_layout(
        busybox_layout, "latest", f"{registry.host}/e2e/busybox:v2s2", manifest_format="v2s2"
    )
    return parse_reference(f"{registry.host}/e2e/busybox:v2s2")


@pytest.fixture
def credential_store(scratch: Path) -> CredentialStore:
    """A Docker config.json in the test's scratch directory."""
    return CredentialStore(scratch / "docker" / "config.json")


@pytest.fixture
def client(credential_store: CredentialStore) -> Iterator[RegistryClient]:
    """A registry client on the real network with private credentials and no mirrors."""
    with RegistryClient(credentials=credential_store, config=RegistryConfig(), timeout=10) as c:
        yield c
