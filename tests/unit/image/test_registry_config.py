"""registries.json (insecure registries, mirrors, scheme policy) and Docker's config.json auths."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.image.registry.config import (
    Endpoint,
    RegistryConfig,
    default_config_path,
    is_loopback,
    load_registry_config,
)
from dockyard.image.registry.credentials import (
    DOCKER_HUB_AUTH_KEY,
    Credentials,
    CredentialStore,
    default_docker_config,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("registry.localhost:80", True),
        ("127.0.0.1", True),
        ("127.1.2.3:5000", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("10.0.0.1:5000", False),
        ("registry-1.docker.io", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_scheme_policy_and_endpoints() -> None:
    config = RegistryConfig(
        insecure=frozenset({"build.lan:5000"}),
        mirrors={"docker.io": ("mirror.lan", "127.0.0.1:5001")},
    )
    assert config.scheme_for("127.0.0.1:5000") == "http"
    assert config.scheme_for("build.lan:5000") == "http"
    assert config.scheme_for("build.lan") == "https"
    assert config.scheme_for("quay.io") == "https"
    assert config.endpoints("docker.io") == [
        Endpoint("https", "mirror.lan", mirror=True),
        Endpoint("http", "127.0.0.1:5001", mirror=True),
        Endpoint("https", "registry-1.docker.io"),
    ]
    assert config.endpoints("docker.io", push=True) == [Endpoint("https", "registry-1.docker.io")]
    assert config.endpoints("quay.io")[0].base_url == "https://quay.io"


def test_load_registry_config(scratch: Path) -> None:
    path = scratch / "registries.json"
    assert load_registry_config(path) == RegistryConfig()
    path.write_text(
        json.dumps({"insecure-registries": ["a:5000"], "mirrors": {"docker.io": ["m:1"]}})
    )
    config = load_registry_config(path)
    assert config.insecure == {"a:5000"} and config.mirrors == {"docker.io": ("m:1",)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"insecure": []}', "unknown keys"),
        ('{"insecure-registries": "a"}', "must be a list"),
        ('{"insecure-registries": ["http://a/"]}', "host\\[:port\\]"),
        ('{"mirrors": {"docker.io": "m"}}', "must be a list of hosts"),
        ('{"mirrors": {"docker.io": [1]}}', "host\\[:port\\]"),
    ],
)
def test_load_registry_config_errors(scratch: Path, content: str, message: str) -> None:
    path = scratch / "registries.json"
    path.write_text(content)
    with pytest.raises(InvalidArgument, match=message):
        load_registry_config(path)


def test_default_paths(monkeypatch: pytest.MonkeyPatch, scratch: Path) -> None:
    monkeypatch.setenv("DOCKYARD_REGISTRIES_CONFIG", str(scratch / "r.json"))
    assert default_config_path() == scratch / "r.json"
    monkeypatch.setenv("DOCKER_CONFIG", str(scratch))
    assert default_docker_config() == scratch / "config.json"
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(scratch))
    assert default_docker_config() == scratch / ".docker" / "config.json"


def test_credentials_round_trip(scratch: Path) -> None:
    path = scratch / "docker" / "config.json"
    store = CredentialStore(path)
    assert store.get("127.0.0.1:5000") is None
    assert not store.erase("127.0.0.1:5000")
    store.store("127.0.0.1:5000", Credentials("alice", "p:ss"))
    store.store("docker.io", Credentials("bob", "hub"))
    doc = json.loads(path.read_text())
    assert base64.b64decode(doc["auths"]["127.0.0.1:5000"]["auth"]) == b"alice:p:ss"
    assert DOCKER_HUB_AUTH_KEY in doc["auths"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.get("127.0.0.1:5000") == Credentials("alice", "p:ss")
    assert store.get("index.docker.io") == Credentials("bob", "hub")
    assert "hub" not in repr(store.get("docker.io"))
    assert store.erase("docker.io")
    assert store.get("docker.io") is None
    assert store.get("127.0.0.1:5000") is not None


def test_credentials_keep_other_keys_and_read_url_keys(scratch: Path) -> None:
    path = scratch / "config.json"
    auth = base64.b64encode(b"u:p").decode()
    path.write_text(
        json.dumps({"credsStore": "pass", "auths": {"https://reg.example.com/v1/": {"auth": auth}}})
    )
    store = CredentialStore(path)
    assert store.get("reg.example.com") == Credentials("u", "p")
    store.store("other:1", Credentials("x", "y"))
    doc = json.loads(path.read_text())
    assert doc["credsStore"] == "pass" and len(doc["auths"]) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nope", "not valid JSON"),
        ("[1]", "expected a JSON object"),
        ('{"auths": {"r": {"auth": "!!!"}}}', "not base64"),
        ('{"auths": {"r": {"auth": "' + base64.b64encode(b"nocolon").decode() + '"}}}', "no ':'"),
    ],
)
def test_credentials_errors(scratch: Path, content: str, message: str) -> None:
    path = scratch / "config.json"
    path.write_text(content)
    with pytest.raises(InvalidArgument, match=message):
        CredentialStore(path).get("r")
