"""Registry client policy over httpx.MockTransport: schemes, errors, digests, resume, uploads."""

from __future__ import annotations

import io
import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dockyard.errors import InvalidArgument, NotFound, Unavailable
from dockyard.image.platform import Platform
from dockyard.image.reference import parse_reference
from dockyard.image.registry.client import RegistryClient
from dockyard.image.registry.config import RegistryConfig
from dockyard.image.registry.credentials import CredentialStore
from dockyard.image.registry.errors import DigestMismatch, Unauthorized
from dockyard.oci.image_spec import (
    DOCKER_MANIFEST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    digest_bytes,
)

Handler = Callable[[httpx.Request], httpx.Response]
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "c", "digest": "sha256:" + "1" * 64, "size": 1},
        "layers": [],
    }
).encode()
BLOB = bytes(range(256)) * 400


@pytest.fixture
def make_client(scratch: Path) -> Iterator[Callable[..., RegistryClient]]:
    clients: list[RegistryClient] = []

    def make(handler: Handler, config: RegistryConfig | None = None) -> RegistryClient:
        client = RegistryClient(
            transport=httpx.MockTransport(handler),
            credentials=CredentialStore(scratch / "config.json"),
            config=config,
            retries=2,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]})


def test_manifest_request_shape(make_client: Callable[..., RegistryClient]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=MANIFEST, headers={"Content-Type": OCI_MANIFEST})

    client = make_client(handler)
    fetched = client.get_manifest(parse_reference("127.0.0.1:5000/a/b:1"))
    client.get_manifest(parse_reference("quay.io/a/b"))
    client.get_manifest(parse_reference("busybox"))
    assert [str(r.url) for r in seen] == [
        "http://127.0.0.1:5000/v2/a/b/manifests/1",
        "https://quay.io/v2/a/b/manifests/latest",
        "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
    ]
    assert seen[0].headers["Accept"] == ", ".join(MANIFEST_ACCEPT)
    assert fetched.descriptor == {
        "mediaType": OCI_MANIFEST,
        "digest": digest_bytes(MANIFEST),
        "size": len(MANIFEST),
    }
    assert fetched.data == MANIFEST


def test_insecure_registry_uses_http(make_client: Callable[..., RegistryClient]) -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, content=MANIFEST)

    client = make_client(handler, RegistryConfig(insecure=frozenset({"build.lan:5000"})))
    client.get_manifest(parse_reference("build.lan:5000/a:1"))
    assert urls == ["http://build.lan:5000/v2/a/manifests/1"]


def test_manifest_digest_checks(make_client: Callable[..., RegistryClient]) -> None:
    other = MANIFEST.replace(b'"layers": []', b'"layers": [] ')
    client = make_client(lambda request: httpx.Response(200, content=other))
    wanted = digest_bytes(MANIFEST)
    with pytest.raises(DigestMismatch, match=f"has digest {digest_bytes(other)} but {wanted}"):
        client.get_manifest(parse_reference(f"127.0.0.1:5000/a@{wanted}"))

    lying = make_client(
        lambda request: httpx.Response(
            200, content=MANIFEST, headers={"Docker-Content-Digest": "sha256:" + "f" * 64}
        )
    )
    with pytest.raises(DigestMismatch, match=r"sha256:f{64} was asked"):
        lying.get_manifest(parse_reference("127.0.0.1:5000/a:1"))


def test_garbage_manifest(make_client: Callable[..., RegistryClient]) -> None:
    client = make_client(lambda request: httpx.Response(200, content=b"<html>"))
    with pytest.raises(InvalidArgument, match="invalid manifest: not JSON"):
        client.get_manifest(parse_reference("127.0.0.1:5000/a:1"))


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            _error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
            NotFound,
            r"image 127.0.0.1:5000/a/b:1 not found on 127.0.0.1:5000 \(MANIFEST_UNKNOWN",
        ),
        (_error(403, "DENIED", "no"), Unauthorized, "access to image .* denied"),
        (httpx.Response(429), Unavailable, "rate limiting"),
        (_error(500, "UNKNOWN", "boom"), Unavailable, "failed on image .*: 500 UNKNOWN: boom"),
        (httpx.Response(400, text="x"), InvalidArgument, "rejected image"),
    ],
)
def test_status_errors(
    make_client: Callable[..., RegistryClient],
    response: httpx.Response,
    error: type[Exception],
    message: str,
) -> None:
    client = make_client(lambda request: response)
    with pytest.raises(error, match=message):
        client.get_manifest(parse_reference("127.0.0.1:5000/a/b:1"))


def test_transport_errors(make_client: Callable[..., RegistryClient]) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(Unavailable, match=r"cannot reach registry 127.0.0.1:1: .*refused"):
        make_client(refused).get_manifest(parse_reference("127.0.0.1:1/a:1"))

    def tls(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLError("WRONG_VERSION_NUMBER")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("TLS failed", request=request) from exc

    with pytest.raises(Unavailable, match=r"over HTTPS .* insecure-registries"):
        make_client(tls).get_manifest(parse_reference("build.lan:5000/a:1"))


def test_resolve_index(make_client: Callable[..., RegistryClient]) -> None:
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": "sha256:" + "9" * 64,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest_bytes(MANIFEST),
                    "size": len(MANIFEST),
                    "platform": {"os": "linux", "architecture": "arm64"},
                },
            ],
        }
    ).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/manifests/1"):
            return httpx.Response(200, content=index, headers={"Content-Type": OCI_INDEX})
        assert request.url.path.endswith(digest_bytes(MANIFEST))
        return httpx.Response(200, content=MANIFEST, headers={"Content-Type": OCI_MANIFEST})

    resolved = make_client(handler).resolve(
        parse_reference("127.0.0.1:5000/a:1"), Platform("linux", "arm64", "v8")
    )
    assert resolved.index is not None and resolved.digest == digest_bytes(index)
    assert resolved.manifest.data == MANIFEST


def test_head_manifest(make_client: Callable[..., RegistryClient]) -> None:
    digest = digest_bytes(MANIFEST)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": OCI_MANIFEST, "Content-Length": str(len(MANIFEST))}
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers | {"Docker-Content-Digest": digest})
        return httpx.Response(200, content=MANIFEST, headers=headers)

    client = make_client(handler)
    ref = parse_reference("127.0.0.1:5000/a:1")
    assert client.head_manifest(ref) == {
        "mediaType": OCI_MANIFEST,
        "digest": digest,
        "size": len(MANIFEST),
    }
    with pytest.raises(DigestMismatch):
        client.head_manifest(ref.with_digest("sha256:" + "0" * 64))


class FlakyStream(httpx.SyncByteStream):
    """A body that yields `data` in pieces and breaks with a read error after `fail_after`."""

    def __init__(self, data: bytes, fail_after: int | None) -> None:
        self.data = data
        self.fail_after = fail_after

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        while sent < len(self.data):
            if self.fail_after is not None and sent >= self.fail_after:
                raise httpx.ReadError("connection reset by peer")
            piece = self.data[sent : sent + 4096]
            sent += len(piece)
            yield piece


def _blob_server(
    *, fail_after: list[int | None], honour_range: bool = True, data: bytes = BLOB
) -> tuple[Handler, list[str | None]]:
    ranges: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ranges.append(request.headers.get("Range"))
        fail = fail_after.pop(0) if fail_after else None
        body, status = data, 200
        if honour_range and (spec := request.headers.get("Range")):
            start = int(spec.removeprefix("bytes=").rstrip("-"))
            body, status = data[start:], 206
        return httpx.Response(status, stream=FlakyStream(body, fail))

    return handler, ranges


def _descriptor(data: bytes = BLOB) -> Descriptor:
    return {
        "mediaType": "application/octet-stream",
        "digest": digest_bytes(data),
        "size": len(data),
    }


def _fetch(client: RegistryClient, descriptor: Descriptor | None = None) -> bytes:
    out = io.BytesIO()
    client.fetch_blob(parse_reference("127.0.0.1:5000/a:1"), descriptor or _descriptor(), out.write)
    return out.getvalue()


def test_blob_resumes_with_range(make_client: Callable[..., RegistryClient]) -> None:
    handler, ranges = _blob_server(fail_after=[40960, 20480])
    assert _fetch(make_client(handler)) == BLOB
    assert ranges == [None, "bytes=40960-", "bytes=61440-"]


def test_blob_resume_when_range_is_ignored(make_client: Callable[..., RegistryClient]) -> None:
    handler, ranges = _blob_server(fail_after=[40960], honour_range=False)
    assert _fetch(make_client(handler)) == BLOB
    assert ranges == [None, "bytes=40960-"]


def test_blob_gives_up_after_retries(make_client: Callable[..., RegistryClient]) -> None:
    handler, ranges = _blob_server(fail_after=[0, 0, 0, 0])
    with pytest.raises(Unavailable, match=r"failed 3 times .*connection reset"):
        _fetch(make_client(handler))
    assert len(ranges) == 3


def test_blob_size_and_digest_checks(make_client: Callable[..., RegistryClient]) -> None:
    handler, _ = _blob_server(fail_after=[])
    short = _descriptor() | {"size": len(BLOB) - 1}
    with pytest.raises(InvalidArgument, match="larger than its declared"):
        _fetch(make_client(handler), short)
    flipped = bytes([BLOB[0] ^ 1]) + BLOB[1:]
    handler, _ = _blob_server(fail_after=[], data=flipped)
    with pytest.raises(DigestMismatch, match=f"but {digest_bytes(BLOB)} was asked"):
        _fetch(make_client(handler))
    # A body that ends early is retried from where it stopped, then reported.
    handler, ranges = _blob_server(fail_after=[], data=BLOB[:1000], honour_range=False)
    with pytest.raises(Unavailable, match="ended after 1000 of"):
        _fetch(make_client(handler))
    assert len(ranges) == 3


def test_blob_from_offset_skips_digest(make_client: Callable[..., RegistryClient]) -> None:
    handler, ranges = _blob_server(fail_after=[])
    out = io.BytesIO()
    make_client(handler).fetch_blob(
        parse_reference("127.0.0.1:5000/a:1"), _descriptor(), out.write, offset=5000
    )
    assert out.getvalue() == BLOB[5000:] and ranges == ["bytes=5000-"]


class UploadRegistry:
    """Records the upload protocol: POST, PATCH chunks, final PUT; optional cross-repo mount."""

    def __init__(self, *, exists: bool = False, mount: bool = False) -> None:
        self.exists = exists
        self.mount = mount
        self.calls: list[tuple[str, str, str | None]] = []
        self.received = b""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, str(request.url), request.headers.get("Content-Range")))
        if request.method == "HEAD":
            return httpx.Response(200 if self.exists else 404)
        if request.method == "POST":
            if self.mount and "mount" in request.url.params:
                return httpx.Response(201)
            return httpx.Response(202, headers={"Location": "/v2/a/blobs/uploads/u1?_state=s0"})
        if request.method == "PATCH":
            self.received += request.read()
            n = len(self.calls)
            return httpx.Response(202, headers={"Location": f"/v2/a/blobs/uploads/u1?_state=s{n}"})
        if request.method == "PUT":
            self.received += request.read()
            return httpx.Response(201)
        raise AssertionError(request)


def test_monolithic_upload(make_client: Callable[..., RegistryClient]) -> None:
    registry = UploadRegistry()
    make_client(registry).push_blob(
        parse_reference("127.0.0.1:5000/a:1"), _descriptor(), io.BytesIO(BLOB)
    )
    assert [c[0] for c in registry.calls] == ["HEAD", "POST", "PUT"]
    assert registry.calls[2][1] == (
        "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=s0&digest="
        + digest_bytes(BLOB).replace(":", "%3A")
    )
    assert registry.received == BLOB


def test_chunked_upload(make_client: Callable[..., RegistryClient]) -> None:
    registry = UploadRegistry()
    make_client(registry).push_blob(
        parse_reference("127.0.0.1:5000/a:1"), _descriptor(), BLOB, chunk_size=40000
    )
    assert [(c[0], c[2]) for c in registry.calls] == [
        ("HEAD", None),
        ("POST", None),
        ("PATCH", "0-39999"),
        ("PATCH", "40000-79999"),
        ("PATCH", "80000-102399"),
        ("PUT", None),
    ]
    assert "_state=s5&digest=" in registry.calls[-1][1]
    assert registry.received == BLOB


def test_mount_and_existing_blob(make_client: Callable[..., RegistryClient]) -> None:
    registry = UploadRegistry(mount=True)
    ref = parse_reference("127.0.0.1:5000/a:1")
    make_client(registry).push_blob(
        ref, _descriptor(), b"", mount_from=parse_reference("127.0.0.1:5000/src/b:1")
    )
    assert [c[0] for c in registry.calls] == ["HEAD", "POST"]
    assert "mount=sha256" in registry.calls[1][1] and "from=src%2Fb" in registry.calls[1][1]
    existing = UploadRegistry(exists=True)
    make_client(existing).push_blob(ref, _descriptor(), b"")
    assert [c[0] for c in existing.calls] == ["HEAD"]


def test_put_manifest(make_client: Callable[..., RegistryClient]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    client = make_client(handler)
    ref = parse_reference("127.0.0.1:5000/a:1")
    assert client.put_manifest(ref, MANIFEST, OCI_MANIFEST) == digest_bytes(MANIFEST)
    assert seen[0].method == "PUT" and seen[0].headers["Content-Type"] == OCI_MANIFEST
    assert seen[0].url.path == "/v2/a/manifests/1"
    with pytest.raises(DigestMismatch):
        client.put_manifest(ref.with_digest("sha256:" + "0" * 64), MANIFEST, OCI_MANIFEST)


def test_tag_pagination(make_client: Callable[..., RegistryClient]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("last") == "b":
            return httpx.Response(200, json={"name": "a", "tags": ["c"]})
        link = '</v2/a/tags/list?n=2&last=b>; rel="next"'
        return httpx.Response(200, json={"name": "a", "tags": ["a", "b"]}, headers={"Link": link})

    assert make_client(handler).list_tags(parse_reference("127.0.0.1:5000/a")) == ["a", "b", "c"]


def test_mirrors_first_then_registry(make_client: Callable[..., RegistryClient]) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.netloc.decode())
        if request.url.host == "broken.lan":
            return httpx.Response(500)
        if request.url.host == "empty.lan":
            return _error(404, "MANIFEST_UNKNOWN", "no")
        return httpx.Response(200, content=MANIFEST)

    config = RegistryConfig(mirrors={"docker.io": ("broken.lan", "empty.lan", "127.0.0.1:5001")})
    client = make_client(handler, config)
    client.get_manifest(parse_reference("busybox"))
    assert hosts == ["broken.lan", "empty.lan", "127.0.0.1:5001"]
    hosts.clear()
    handler_blob, _ = _blob_server(fail_after=[])

    def blob_handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.netloc.decode())
        if request.url.host != "registry-1.docker.io":
            raise httpx.ConnectError("refused", request=request)
        return handler_blob(request)

    out = io.BytesIO()
    make_client(blob_handler, config).fetch_blob(
        parse_reference("busybox"), _descriptor(), out.write
    )
    assert out.getvalue() == BLOB
    assert hosts == ["broken.lan", "empty.lan", "127.0.0.1:5001", "registry-1.docker.io"]


def test_iter_blob_and_empty_blob(make_client: Callable[..., RegistryClient]) -> None:
    handler, ranges = _blob_server(fail_after=[8192])
    client = make_client(handler)
    ref = parse_reference("127.0.0.1:5000/a:1")
    assert b"".join(client.iter_blob(ref, _descriptor())) == BLOB
    flipped_handler, _ = _blob_server(fail_after=[], data=bytes(len(BLOB)))
    unverified = make_client(flipped_handler).iter_blob(ref, _descriptor(), verify=False)
    assert b"".join(unverified) == bytes(len(BLOB))
    # An empty blob needs no request at all.
    assert b"".join(client.iter_blob(ref, _descriptor(b""))) == b""
    assert ranges == [None, "bytes=8192-"]


def test_httpx_is_imported_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, dockyard.image.registry.client, dockyard.image.registry.blobs;"
        "assert 'httpx' not in sys.modules, 'httpx imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_manifest_sha512_reference(make_client: Callable[..., RegistryClient]) -> None:
    client = make_client(lambda request: httpx.Response(200, content=MANIFEST))
    digest = digest_bytes(MANIFEST, "sha512")
    fetched = client.get_manifest(parse_reference(f"127.0.0.1:5000/a@{digest}"))
    assert fetched.data == MANIFEST
    with pytest.raises(DigestMismatch, match=f"but {'sha512:' + 'a' * 128} was asked"):
        client.get_manifest(parse_reference(f"127.0.0.1:5000/a@sha512:{'a' * 128}"))
