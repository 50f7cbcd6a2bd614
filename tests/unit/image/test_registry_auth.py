"""Registry auth policy over httpx.MockTransport: challenges, Bearer tokens, Basic, login."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from dockyard.image.reference import parse_reference
from dockyard.image.registry.auth import Challenge, parse_challenges
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.credentials import Credentials, CredentialStore
from dockyard.image.registry.errors import Unauthorized

REG = "reg.example.com"
MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",'
MANIFEST += b' "config": {"mediaType": "c", "digest": "sha256:' + b"1" * 64 + b'", "size": 1},'
MANIFEST += b' "layers": []}'


def test_parse_challenges() -> None:
    header = (
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:library/busybox:pull"'
    )
    assert parse_challenges(header) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.example.com/token",
                "service": "registry.example.com",
                "scope": "repository:library/busybox:pull",
            },
        )
    ]
    assert parse_challenges('Basic realm="a \\"b\\"", Bearer realm=x , service=y') == [
        Challenge("basic", {"realm": 'a "b"'}),
        Challenge("bearer", {"realm": "x", "service": "y"}),
    ]
    assert parse_challenges("Negotiate") == [Challenge("negotiate", {})]
    assert parse_challenges("") == []


class TokenRegistry:
    """A registry at REG that wants Bearer tokens from https://auth.example.com/token."""

    def __init__(self, password: str | None = "secret", challenge_scope: str | None = None) -> None:
        self.password = password
        self.challenge_scope = challenge_scope
        self.token_requests: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []
        self.issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example.com":
            self.token_requests.append(request)
            auth = request.headers.get("Authorization")
            expected = "Basic " + base64.b64encode(f"alice:{self.password}".encode()).decode()
            if auth is not None and auth != expected:
                return httpx.Response(401, json={"details": "bad credentials"})
            if auth is None and self.password is not None:
                return httpx.Response(401)
            self.issued += 1
            return httpx.Response(200, json={"token": f"tok{self.issued}", "expires_in": 300})
        self.requests.append(request)
        if request.headers.get("Authorization", "").startswith("Bearer tok"):
            return httpx.Response(200, content=MANIFEST, headers={"Content-Type": "x"})
        header = f'Bearer realm="https://auth.example.com/token",service="{REG}"'
        if self.challenge_scope:
            header += f',scope="{self.challenge_scope}"'
        return httpx.Response(401, headers={"WWW-Authenticate": header})


def _client(
    handler: object, store: CredentialStore, clock: list[float] | None = None
) -> RegistryClient:
    now = clock or [0.0]
    return RegistryClient(
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        credentials=store,
        clock=lambda: now[0],
    )


@pytest.fixture
def store(scratch: Path) -> CredentialStore:
    return CredentialStore(scratch / "config.json")


def test_bearer_token_flow_with_credentials(store: CredentialStore) -> None:
    store.store(REG, Credentials("alice", "secret"))
    registry = TokenRegistry()
    clock = [0.0]
    ref = parse_reference(f"{REG}/team/app:1")
    with _client(registry, store, clock) as client:
        client.get_manifest(ref)
        client.get_manifest(ref)  # the cached token is sent up front
        (token_request,) = registry.token_requests
        assert token_request.url.params.get_list("scope") == ["repository:team/app:pull"]
        assert token_request.url.params["service"] == REG
        assert [r.headers.get("Authorization") for r in registry.requests] == [
            None,
            "Bearer tok1",
            "Bearer tok1",
        ]
        clock[0] = 1000.0  # expired: a new token is fetched before the request
        client.get_manifest(ref)
        assert registry.requests[-1].headers["Authorization"] == "Bearer tok2"
        assert len(registry.requests) == 4


def test_anonymous_token(store: CredentialStore) -> None:
    registry = TokenRegistry(password=None, challenge_scope="repository:team/app:pull")
    with _client(registry, store) as client:
        client.get_manifest(parse_reference(f"{REG}/team/app:1"))
    assert "Authorization" not in registry.token_requests[0].headers


def test_challenge_scope_is_added(store: CredentialStore) -> None:
    registry = TokenRegistry(password=None, challenge_scope="repository:other/repo:pull")
    with _client(registry, store) as client:
        client.get_manifest(parse_reference(f"{REG}/team/app:1"))
    assert registry.token_requests[0].url.params.get_list("scope") == [
        "repository:other/repo:pull",
        "repository:team/app:pull",
    ]


def test_token_with_wrong_or_missing_credentials(store: CredentialStore) -> None:
    ref = parse_reference(f"{REG}/team/app:1")
    with (
        _client(TokenRegistry(), store) as client,
        pytest.raises(
            Unauthorized, match=rf"^authentication required for {REG}: run `dockyard login {REG}`$"
        ),
    ):
        client.get_manifest(ref)
    store.store(REG, Credentials("alice", "wrong"))
    with (
        _client(TokenRegistry(), store) as client,
        pytest.raises(
            Unauthorized, match=rf"^wrong credentials for {REG}: run `dockyard login {REG}`$"
        ),
    ):
        client.get_manifest(ref)


def test_login_with_token_server(store: CredentialStore) -> None:
    registry = TokenRegistry()
    with _client(registry, store) as client:
        with pytest.raises(Unauthorized, match="wrong credentials"):
            client.login(REG, "alice", "nope")
        assert store.get(REG) is None
        client.login(REG, "alice", "secret")
    assert store.get(REG) == Credentials("alice", "secret")
    assert registry.token_requests[-1].url.params.get_list("scope") == []
    assert registry.requests[-1].url.path == "/v2/"


def basic_registry(request: httpx.Request) -> httpx.Response:
    good = "Basic " + base64.b64encode(b"alice:secret").decode()
    if request.headers.get("Authorization") == good:
        return httpx.Response(200, json={"name": "team/app", "tags": ["1"]})
    return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="registry"'})


def test_basic_auth(store: CredentialStore) -> None:
    ref = parse_reference(f"{REG}/team/app")
    with _client(basic_registry, store) as client:
        with pytest.raises(Unauthorized, match=f"authentication required for {REG}"):
            client.list_tags(ref)
        client.login(REG, "alice", "secret")
        assert client.list_tags(ref) == ["1"]
        assert client.logout(REG)
        assert not client.logout(REG)
        with pytest.raises(Unauthorized, match="authentication required"):
            client.list_tags(ref)
    store.store(REG, Credentials("alice", "stale"))
    with (
        _client(basic_registry, store) as client,
        pytest.raises(Unauthorized, match=f"wrong credentials for {REG}"),
    ):
        client.list_tags(ref)


def test_unsupported_scheme(store: CredentialStore) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"})

    from dockyard.errors import Unavailable

    with _client(handler, store) as client, pytest.raises(Unavailable, match="unsupported auth"):
        client.list_tags(parse_reference(f"{REG}/a/b"))
