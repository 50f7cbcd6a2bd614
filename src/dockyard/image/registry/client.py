"""The registry client: the OCI distribution API (manifests, blobs, uploads, tags) over httpx.

Policy lives here (auth, scheme, mirrors, digest checks, resume); I/O is the injected
`httpx.BaseTransport`, so tests drive it with `httpx.MockTransport` or a real registry.
Blob bodies are streamed to a caller's `write` callback, so a content store's ingester can
verify and commit them without the client holding a layer in memory.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import urljoin

from dockyard.errors import DockyardError, InvalidArgument, NotFound, Unavailable
from dockyard.image.platform import Platform, host_platform, select_manifest
from dockyard.image.reference import Reference
from dockyard.image.registry.auth import Authorizer, login_hint, repository_scope
from dockyard.image.registry.config import Endpoint, RegistryConfig
from dockyard.image.registry.credentials import Credentials, CredentialStore
from dockyard.image.registry.errors import DigestMismatch, Unauthorized
from dockyard.image.registry.transport import is_retryable, make_http_client, translate_errors
from dockyard.oci.image_spec import (
    MANIFEST_ACCEPT,
    Descriptor,
    Index,
    Manifest,
    digest_bytes,
    is_index,
    parse_manifest,
    validate_digest,
)

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
BlobWriter = Callable[[bytes], object]
Body = bytes | Callable[[], Iterator[bytes]]

DEFAULT_CHUNK = 1 << 20
# Manifests are small; a registry sending more is broken or hostile (distribution caps at 4 MiB).
MANIFEST_MAX = 4 << 20


@dataclass
class _Progress:
    """How much of one blob download has been handed to the writer (mutable, per call)."""

    received: int
    hasher: hashlib._Hash | None

    def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.hasher is not None:
            self.hasher.update(chunk)


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest or index as served: its descriptor, raw bytes (digest-exact) and parsed form."""

    descriptor: Descriptor
    data: bytes
    document: Manifest | Index


@dataclass(frozen=True)
class ResolvedImage:
    """What a reference resolves to for one platform: the index (if any) and the image manifest."""

    index: FetchedManifest | None
    manifest: FetchedManifest

    @property
    def digest(self) -> str:
        """The digest the reference points at (the index's for a multi-platform image)."""
        return (self.index or self.manifest).descriptor["digest"]


def _error_detail(response: httpx.Response) -> str:
    # distribution's error body: {"errors": [{"code": "...", "message": "...", "detail": ...}]}.
    try:
        errors = response.json().get("errors")
        first = errors[0]
        return f"{first['code']}: {first['message']}"
    except (ValueError, AttributeError, LookupError, TypeError):
        return response.reason_phrase or "no detail"


class RegistryClient:
    """A synchronous OCI distribution client; one instance may serve many registries."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        credentials: CredentialStore | None = None,
        config: RegistryConfig | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        chunk_size: int = DEFAULT_CHUNK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._store = credentials or CredentialStore()
        self._config = config or RegistryConfig()
        self._timeout = timeout
        self._retries = retries
        self._chunk_size = chunk_size
        self._auth = Authorizer(self._store.get, clock)
        self._http: httpx.Client | None = None

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = make_http_client(self._transport, self._timeout)
        return self._http

    # -- request plumbing ------------------------------------------------------------------

    def _send(
        self,
        endpoint: Endpoint,
        key: str,
        method: str,
        url: str,
        *,
        scopes: Sequence[str],
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Body | None = None,
        stream: bool = False,
        auth: Authorizer | None = None,
    ) -> httpx.Response:
        """Send one request, answering one auth challenge; `key` names the credentials."""
        client = self._client()
        auth = auth or self._auth
        import httpx

        # httpx replaces a URL's query with `params`; an upload Location's `_state` must stay.
        full_url = httpx.URL(urljoin(endpoint.base_url + "/", url))
        if params:
            full_url = full_url.copy_merge_params(dict(params))
        all_headers = dict(headers or {})
        if cached := auth.cached(client, endpoint.host, key, scopes):
            all_headers["Authorization"] = cached
        for attempt in range(2):
            content = body() if callable(body) else body
            request = client.build_request(method, full_url, headers=all_headers, content=content)
            with translate_errors(endpoint.host):
                response = client.send(request, stream=stream)
            if response.status_code != 401:
                return response
            response.close()
            challenge = response.headers.get("WWW-Authenticate")
            if attempt == 1 or not challenge:
                break
            all_headers["Authorization"] = auth.authorize(
                client, endpoint.host, key, challenge, scopes
            )
        if "Authorization" in all_headers and auth.credentials(key) is not None:
            raise Unauthorized(f"wrong credentials for {key}: {login_hint(key)}")
        raise Unauthorized(f"authentication required for {key}: {login_hint(key)}")

    def _check(self, response: httpx.Response, endpoint: Endpoint, what: str) -> None:
        """Raise the dockyard error for a non-2xx `response` about `what`."""
        status = response.status_code
        if status < 300:
            return
        with translate_errors(endpoint.host):
            response.read()  # a streamed error response still carries the registry's reason
        detail = _error_detail(response)
        if status == 404:
            raise NotFound(f"{what} not found on {endpoint.host} ({detail})")
        if status == 403:
            raise Unauthorized(
                f"access to {what} denied by {endpoint.host} ({detail}): "
                f"{login_hint(endpoint.host)} with an account that may use it"
            )
        if status == 429:
            raise Unavailable(f"registry {endpoint.host} is rate limiting requests: retry later")
        if status in (400, 405, 413) or 400 < status < 500:
            raise InvalidArgument(f"registry {endpoint.host} rejected {what}: {status} {detail}")
        raise Unavailable(f"registry {endpoint.host} failed on {what}: {status} {detail}")

    def _key(self, endpoint: Endpoint, ref: Reference) -> str:
        # Credentials are stored per registry name; a mirror has its own entry.
        return endpoint.host if endpoint.mirror else ref.domain

    def _each_endpoint(
        self, ref: Reference, call: Callable[[Endpoint], T], *, push: bool = False
    ) -> T:
        """Run `call` on the mirrors of `ref`'s registry in order, then on the registry."""
        endpoints = self._config.endpoints(ref.domain, push=push)
        for endpoint in endpoints[:-1]:
            try:
                return call(endpoint)
            except DockyardError:
                continue  # a mirror that fails or lacks the content is skipped, as Docker does
        return call(endpoints[-1])

    # -- registry ------------------------------------------------------------------------

    def ping(self, registry: str, credentials: Credentials | None = None) -> None:
        """Check that `registry` speaks the v2 API and accepts the (given or stored) credentials."""
        endpoint = self._config.endpoints(registry, push=True)[-1]
        auth = self._auth
        if credentials is not None:
            auth = Authorizer(lambda _key: credentials)
        response = self._send(endpoint, registry, "GET", "/v2/", scopes=(), auth=auth)
        self._check(response, endpoint, "the v2 API")

    def login(self, registry: str, username: str, password: str) -> None:
        """Verify the credentials against `/v2/` and store them in the Docker config file."""
        credentials = Credentials(username, password)
        self.ping(registry, credentials)
        self._store.store(registry, credentials)
        # Tokens fetched under other credentials must not outlive the login.
        self._auth = Authorizer(self._store.get)

    def logout(self, registry: str) -> bool:
        """Forget the stored credentials of `registry`; False if there were none."""
        self._auth = Authorizer(self._store.get)
        return self._store.erase(registry)

    def list_tags(self, ref: Reference) -> list[str]:
        """All tags of `ref`'s repository, following the registry's pagination."""

        def call(endpoint: Endpoint) -> list[str]:
            tags: list[str] = []
            url: str | None = f"/v2/{ref.path}/tags/list"
            while url is not None:
                response = self._send(
                    endpoint, self._key(endpoint, ref), "GET", url,
                    scopes=[repository_scope(ref.path, "pull")],
                )  # fmt: skip
                self._check(response, endpoint, f"repository {ref.name}")
                body = response.json()
                tags.extend(body.get("tags") or [])
                link = response.links.get("next", {}).get("url")
                url = link or None
            return tags

        return self._each_endpoint(ref, call)

    # -- manifests -------------------------------------------------------------------------

    def _manifest_request(self, ref: Reference, method: str) -> tuple[Endpoint, httpx.Response]:
        def call(endpoint: Endpoint) -> tuple[Endpoint, httpx.Response]:
            response = self._send(
                endpoint, self._key(endpoint, ref), method,
                f"/v2/{ref.path}/manifests/{ref.object}",
                scopes=[repository_scope(ref.path, "pull")],
                headers={"Accept": ", ".join(MANIFEST_ACCEPT)},
                stream=True,
            )  # fmt: skip
            self._check(response, endpoint, f"image {ref}")
            return endpoint, response

        return self._each_endpoint(ref, call)

    def head_manifest(self, ref: Reference) -> Descriptor:
        """The descriptor of `ref`'s manifest (media type, digest, size) without its body."""
        endpoint, response = self._manifest_request(ref, "HEAD")
        response.close()
        digest = response.headers.get("Docker-Content-Digest")
        length = response.headers.get("Content-Length")
        if not digest or not length:
            # Some registries omit the digest on HEAD; the body tells it exactly.
            return self.get_manifest(ref).descriptor
        validate_digest(digest)
        if ref.digest is not None and digest != ref.digest:
            raise DigestMismatch(f"manifest of {ref} on {endpoint.host}", ref.digest, digest)
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return {"mediaType": media_type, "digest": digest, "size": int(length)}

    def get_manifest(self, ref: Reference) -> FetchedManifest:
        """Fetch `ref`'s manifest or index; a digest reference is verified against the bytes."""
        endpoint, response = self._manifest_request(ref, "GET")
        chunks: list[bytes] = []
        size = 0
        try:
            with translate_errors(endpoint.host):
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MANIFEST_MAX:
                        raise InvalidArgument(
                            f"manifest of {ref} on {endpoint.host} is over {MANIFEST_MAX} bytes"
                        )
                    chunks.append(chunk)
        finally:
            response.close()
        data = b"".join(chunks)
        actual = digest_bytes(data)
        if ref.digest is not None and ref.digest.startswith("sha256:") and actual != ref.digest:
            raise DigestMismatch(f"manifest of {ref} on {endpoint.host}", ref.digest, actual)
        served = response.headers.get("Docker-Content-Digest")
        if served and served.startswith("sha256:") and served != actual:
            raise DigestMismatch(f"manifest of {ref} on {endpoint.host}", served, actual)
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        document = parse_manifest(data, media_type or None)
        media_type = document.get("mediaType") or media_type
        descriptor: Descriptor = {"mediaType": media_type, "digest": actual, "size": len(data)}
        return FetchedManifest(descriptor, data, document)

    def resolve(self, ref: Reference, platform: Platform | None = None) -> ResolvedImage:
        """The image manifest of `ref` for `platform` (the host's by default), through an index."""
        top = self.get_manifest(ref)
        index = top.document
        if not is_index(index):
            return ResolvedImage(None, top)
        chosen = select_manifest(index, platform or host_platform())
        manifest = self.get_manifest(ref.with_digest(chosen["digest"]))
        if is_index(manifest.document):
            raise InvalidArgument(f"index {ref} points at another index: unsupported nesting")
        return ResolvedImage(top, manifest)

    def put_manifest(self, ref: Reference, data: bytes, media_type: str) -> str:
        """Upload a manifest under `ref`'s tag (or digest); returns its digest."""
        digest = digest_bytes(data)
        if ref.digest is not None and ref.digest != digest:
            raise DigestMismatch(f"manifest pushed as {ref}", ref.digest, digest)
        endpoint = self._config.endpoints(ref.domain, push=True)[-1]
        response = self._send(
            endpoint, ref.domain, "PUT", f"/v2/{ref.path}/manifests/{ref.object}",
            scopes=[repository_scope(ref.path, "pull", "push")],
            headers={"Content-Type": media_type}, body=data,
        )  # fmt: skip
        self._check(response, endpoint, f"manifest {ref}")
        return digest

    # -- blobs ---------------------------------------------------------------------------

    def blob_exists(self, ref: Reference, digest: str) -> Descriptor | None:
        """The descriptor of blob `digest` in `ref`'s repository, or None if it is not there."""

        def call(endpoint: Endpoint) -> Descriptor | None:
            response = self._send(
                endpoint, self._key(endpoint, ref), "HEAD", f"/v2/{ref.path}/blobs/{digest}",
                scopes=[repository_scope(ref.path, "pull")],
            )  # fmt: skip
            if response.status_code == 404:
                return None
            self._check(response, endpoint, f"blob {digest} of {ref.name}")
            size = int(response.headers.get("Content-Length", "0"))
            media_type = response.headers.get("Content-Type", "application/octet-stream")
            return {"mediaType": media_type, "digest": digest, "size": size}

        return self._each_endpoint(ref, call)

    def fetch_blob(
        self, ref: Reference, descriptor: Descriptor, write: BlobWriter, *, offset: int = 0
    ) -> None:
        """Stream blob `descriptor` of `ref`'s repository to `write`, from byte `offset` on.

        A dropped connection is resumed with a Range request (or the re-sent prefix skipped);
        the size is always checked, the digest too when the whole blob passed through here.
        """
        digest = validate_digest(descriptor["digest"])
        progress = _Progress(
            offset, hashlib.sha256() if offset == 0 and digest.startswith("sha256:") else None
        )
        endpoints = self._config.endpoints(ref.domain)
        for endpoint in endpoints[:-1]:
            try:
                return self._fetch_blob_from(endpoint, ref, descriptor, write, progress)
            except DockyardError:
                continue  # a failing mirror is skipped; the registry resumes where it stopped
        return self._fetch_blob_from(endpoints[-1], ref, descriptor, write, progress)

    def _fetch_blob_from(
        self,
        endpoint: Endpoint,
        ref: Reference,
        descriptor: Descriptor,
        write: BlobWriter,
        progress: _Progress,
    ) -> None:
        digest, size = descriptor["digest"], descriptor["size"]
        what = f"blob {digest} of {ref.name}"
        failures = 0
        while True:
            received = progress.received
            response = self._send(
                endpoint, self._key(endpoint, ref), "GET", f"/v2/{ref.path}/blobs/{digest}",
                scopes=[repository_scope(ref.path, "pull")],
                headers={"Range": f"bytes={received}-"} if received else None, stream=True,
            )  # fmt: skip
            try:
                self._check(response, endpoint, what)
                # 200 to a Range request means the server ignored it: skip what we already have.
                skip = received if response.status_code == 200 else 0
                for raw in response.iter_bytes():
                    cut = min(skip, len(raw))
                    chunk, skip = raw[cut:], skip - cut
                    if not chunk:
                        continue
                    if progress.received + len(chunk) > size:
                        raise InvalidArgument(
                            f"{what} from {endpoint.host} is larger than its declared {size} bytes"
                        )
                    write(chunk)
                    progress.add(chunk)
            except Exception as exc:
                if not is_retryable(exc):
                    with translate_errors(endpoint.host):
                        raise
                failure = str(exc) or type(exc).__name__
            else:
                if progress.received == size:
                    break
                failure = f"the body ended after {progress.received} of {size} bytes"
            finally:
                response.close()
            failures += 1
            if failures > self._retries:
                raise Unavailable(
                    f"download of {what} from {endpoint.host} failed {failures} times "
                    f"({failure}): check the network and pull again"
                )
        if progress.hasher is not None:
            actual = "sha256:" + progress.hasher.hexdigest()
            if actual != digest:
                raise DigestMismatch(f"{what} from {endpoint.host}", digest, actual)

    def push_blob(
        self,
        ref: Reference,
        descriptor: Descriptor,
        source: bytes | IO[bytes],
        *,
        mount_from: Reference | None = None,
        chunk_size: int | None = None,
    ) -> None:
        """Upload a blob to `ref`'s repository unless it is there; mount it from another repo
        when `mount_from` is given, else send it whole or, with `chunk_size`, in PATCH chunks.
        """
        digest = validate_digest(descriptor["digest"])
        if self.blob_exists_upstream(ref, digest):
            return
        endpoint = self._config.endpoints(ref.domain, push=True)[-1]
        scopes = [repository_scope(ref.path, "pull", "push")]
        params: dict[str, str] = {}
        if mount_from is not None and mount_from.domain == ref.domain:
            scopes.append(repository_scope(mount_from.path, "pull"))
            params = {"mount": digest, "from": mount_from.path}
        response = self._send(
            endpoint, ref.domain, "POST", f"/v2/{ref.path}/blobs/uploads/",
            scopes=scopes, params=params,
        )  # fmt: skip
        self._check(response, endpoint, f"upload of blob {digest} to {ref.name}")
        if response.status_code == 201:
            return  # mounted: the registry linked the blob from the other repository
        location = self._location(response, endpoint, ref)
        size = descriptor["size"]
        if chunk_size is None:
            body = self._body(source, self._chunk_size, 0, size)
            response = self._send(
                endpoint, ref.domain, "PUT", location, scopes=scopes, params={"digest": digest},
                headers={"Content-Type": "application/octet-stream",
                         "Content-Length": str(size)},
                body=body,
            )  # fmt: skip
        else:
            start = 0
            while start < size:
                length = min(chunk_size, size - start)
                response = self._send(
                    endpoint, ref.domain, "PATCH", location, scopes=scopes,
                    headers={"Content-Type": "application/octet-stream",
                             "Content-Range": f"{start}-{start + length - 1}",
                             "Content-Length": str(length)},
                    body=self._body(source, chunk_size, start, length),
                )  # fmt: skip
                self._check(response, endpoint, f"upload of blob {digest} to {ref.name}")
                location = self._location(response, endpoint, ref)
                start += length
            response = self._send(
                endpoint, ref.domain, "PUT", location, scopes=scopes, params={"digest": digest},
                headers={"Content-Length": "0"},
            )  # fmt: skip
        self._check(response, endpoint, f"upload of blob {digest} to {ref.name}")

    def blob_exists_upstream(self, ref: Reference, digest: str) -> bool:
        """Whether the registry itself (not a mirror) already has blob `digest` in `ref`'s repo."""
        endpoint = self._config.endpoints(ref.domain, push=True)[-1]
        response = self._send(
            endpoint, ref.domain, "HEAD", f"/v2/{ref.path}/blobs/{digest}",
            scopes=[repository_scope(ref.path, "pull", "push")],
        )  # fmt: skip
        if response.status_code == 404:
            return False
        self._check(response, endpoint, f"blob {digest} of {ref.name}")
        return True

    @staticmethod
    def _location(response: httpx.Response, endpoint: Endpoint, ref: Reference) -> str:
        location = response.headers.get("Location")
        if not location:
            raise Unavailable(f"registry {endpoint.host} started an upload to {ref.name} "
                              "without a Location")  # fmt: skip
        return str(urljoin(str(response.request.url), location))

    @staticmethod
    def _body(
        source: bytes | IO[bytes], chunk: int, start: int, length: int
    ) -> Callable[[], Iterator[bytes]]:
        """A re-startable body: bytes `start`..`start+length` of `source`, in chunks."""

        def chunks() -> Iterator[bytes]:
            if isinstance(source, bytes):
                view = memoryview(source)[start : start + length]
                for pos in range(0, length, chunk):
                    yield bytes(view[pos : pos + chunk])
                return
            source.seek(start)
            left = length
            while left:
                data = source.read(min(chunk, left))
                if not data:
                    raise InvalidArgument(f"blob source ended {left} bytes early")
                left -= len(data)
                yield data

        return chunks
