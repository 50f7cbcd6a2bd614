"""The registry commands through the CLI: login/logout (Basic and Bearer token auth), push, pull
(with --platform through an index, -a), history, and one clear line for each bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.image.reference import parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.oci.image_spec import OCI_INDEX
from dockyard.testing.registry import RunningRegistry, TokenIssuer, run_registry

from .conftest import Dockyard

pytestmark = pytest.mark.root

USERS = {"alice": "wonderland"}


@pytest.fixture(autouse=True)
def private_configs(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Credentials and registries.json of this test only (the CLI inherits the environment)."""
    monkeypatch.setenv("DOCKER_CONFIG", str(scratch / "docker-config"))
    monkeypatch.setenv("DOCKYARD_REGISTRIES_CONFIG", str(scratch / "registries.json"))
    return scratch / "docker-config" / "config.json"


@pytest.fixture(scope="module")
def basic_registry(test_base: Path) -> Iterator[RunningRegistry]:
    with run_registry(test_base / "cli-basic-registry", USERS) as running:
        yield running


@pytest.fixture(scope="module")
def token_registry(test_base: Path) -> Iterator[RunningRegistry]:
    with (
        TokenIssuer(test_base / "cli-token-issuer", USERS) as issuer,
        run_registry(test_base / "cli-token-registry", token_issuer=issuer) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def open_registry(test_base: Path) -> Iterator[RunningRegistry]:
    with run_registry(test_base / "cli-open-registry") as running:
        yield running


def _fails(dockyard: Dockyard, *args: str, input: bytes | None = None) -> str:
    proc = dockyard(*args, input=input)
    assert proc.returncode == 125, (proc.stdout, proc.stderr)
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("dockyard: ")
    return proc.stderr


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_login_push_pull_logout(
    dockyard: Dockyard, private_configs: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    registry: RunningRegistry = request.getfixturevalue(f"{kind}_registry")
    host = registry.host
    image = f"{host}/team/box:1"
    dockyard("tag", "busybox", image, check=True)
    assert "authentication required" in _fails(dockyard, "push", image)
    wrong = _fails(dockyard, "login", "-u", "alice", "--password-stdin", host, input=b"nope\n")
    assert "wrong credentials" in wrong and not private_configs.exists()

    login = dockyard("login", "-u", "alice", "--password-stdin", host, input=b"wonderland\n")
    assert login.returncode == 0 and login.stdout == "Login Succeeded\n", login.stderr
    auth = json.loads(private_configs.read_text())["auths"][host]["auth"]
    assert base64.b64decode(auth) == b"alice:wonderland"

    last = dockyard("push", image, check=True).stdout.splitlines()[-1]
    tag, _, digest, _, size = last.split()
    manifest = dockyard.root / "content/blobs/sha256" / digest.split(":")[1]
    assert tag == "1:" and int(size) == manifest.stat().st_size
    dockyard("rmi", image, check=True)
    dockyard("rmi", "busybox", check=True)
    pulled = dockyard("pull", image, check=True).stdout.splitlines()
    assert pulled[-2] == f"Status: Downloaded newer image for {image}" and pulled[-1] == image

    assert dockyard("logout", host, check=True).stdout == f"Removing login credentials for {host}\n"
    assert dockyard("logout", host, check=True).stdout == f"Not logged in to {host}\n"
    assert "authentication required" in _fails(dockyard, "pull", image)


def test_pull_by_platform_through_an_index(
    dockyard: Dockyard, open_registry: RunningRegistry
) -> None:
    image = f"{open_registry.host}/multi/box:single"
    dockyard("tag", "busybox", image, check=True)
    dockyard("push", "-q", image, check=True)
    ref = parse_reference(image)
    with RegistryClient() as client:
        manifest = client.head_manifest(ref)
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {**manifest, "platform": {"os": "linux", "architecture": arch}}
                for arch in ("arm64", "amd64")
            ],
        }
        client.put_manifest(ref.with_tag("multi"), json.dumps(index).encode(), OCI_INDEX)
    multi = f"{open_registry.host}/multi/box:multi"
    missing = _fails(dockyard, "pull", "--platform", "linux/s390x", multi)
    assert "no image for platform linux/s390x" in missing and "linux/arm64" in missing
    out = dockyard("pull", "--platform", "linux/arm64", multi, check=True).stdout.splitlines()
    digest = out[-3].removeprefix("Digest: ")
    assert digest != manifest["digest"]  # the repo digest is the index's, as Docker records it
    doc = dockyard.json("image", "inspect", multi)[0]
    assert f"{open_registry.host}/multi/box@{digest}" in doc["RepoDigests"]

    tags = dockyard("pull", "-a", f"{open_registry.host}/multi/box", check=True).stdout
    assert tags.splitlines()[-1] == f"{open_registry.host}/multi/box"
    assert "Status: Image is up to date for" in tags


def test_history(dockyard: Dockyard) -> None:
    lines = dockyard("history", "busybox", check=True).stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    short = dockyard("images", "-q", "busybox", check=True).stdout.strip()
    assert lines[1].startswith(short)
    assert dockyard("history", "-q", "busybox", check=True).stdout.split() == [short]
    size = dockyard("history", "--format", "{{.Size}}", "-H", "false", "busybox", check=True)
    assert int(size.stdout) > 1_000_000


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("UPPER:tag", "repository name must be lowercase"),
        ("", "empty image reference"),
        ("a:b:c", "invalid"),
        ("127.0.0.1:1/nothing/here:1", "127.0.0.1:1"),
    ],
)
def test_bad_input_gives_one_line(dockyard: Dockyard, reference: str, message: str) -> None:
    assert message in _fails(dockyard, "pull", reference)


def test_unknown_image(dockyard: Dockyard, open_registry: RunningRegistry) -> None:
    assert "not found" in _fails(dockyard, "pull", f"{open_registry.host}/no/such:image").lower()
    assert "no such image" in _fails(dockyard, "push", f"{open_registry.host}/no/such:image")
    assert "no such image" in _fails(dockyard, "save", "-o", "/dev/null", "nosuch:image")
    assert "no such file" in _fails(dockyard, "load", "-i", "/nonexistent.tar")
