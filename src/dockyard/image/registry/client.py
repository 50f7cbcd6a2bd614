"""The registry client: the OCI distribution API (manifests, blobs, uploads, tags) over httpx.

Policy lives here and in `session.py`/`blobs.py` (auth, scheme, mirrors, digest checks,
resume); I/O is the injected `httpx.BaseTransport`, so tests drive it with
`httpx.MockTransport` or a real registry. Blob bodies stream to the caller (an iterator or a
`write` callback), so a content store can verify and commit them without the client holding a
layer in memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from dockyard.errors import InvalidArgument
from dockyard.image.platform import Platform, host_platform, select_manifest
from dockyard.image.reference import Reference
from dockyard.image.registry import blobs
from dockyard.image.registry.auth import repository_scope
from dockyard.image.registry.config import Endpoint, RegistryConfig
from dockyard.image.registry.credentials import Credentials, CredentialStore
from dockyard.image.registry.errors import DigestMismatch
from dockyard.image.registry.session import RegistrySession
from dockyard.image.registry.transport import translate_errors
from dockyard.oci.image_spec import (
    DIGEST_HEX_LENGTHS,
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

BlobWriter = Callable[[bytes], object]
# Manifests are small; a registry sending more is broken or hostile (distribution caps at 4 MiB).
MANIFEST_MAX = 4 << 20


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


class RegistryClient:
    """A synchronous OCI distribution client; one instance may serve many registries.

    Thread-safe enough for concurrent blob downloads: httpx's pool is, and the token cache
    only ever gains entries.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        credentials: CredentialStore | None = None,
        config: RegistryConfig | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = RegistrySession(
            transport=transport,
            credentials=credentials or CredentialStore(),
            config=config or RegistryConfig(),
            timeout=timeout,
            clock=clock,
        )
        self._retries = retries

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._session.close()

    # -- registry ------------------------------------------------------------------------

    def ping(self, registry: str, credentials: Credentials | None = None) -> None:
        """Check that `registry` speaks the v2 API and accepts the (given or stored) credentials."""
        session = self._session
        endpoint = session.upstream(registry)
        auth = session.new_authorizer(lambda _key: credentials) if credentials else None
        response = session.send(endpoint, registry, "GET", "/v2/", scopes=(), auth=auth)
        session.check(response, endpoint, "the v2 API")

    def login(self, registry: str, username: str, password: str) -> None:
        """Verify the credentials against `/v2/` and store them in the Docker config file."""
        credentials = Credentials(username, password)
        self.ping(registry, credentials)
        self._session.store.store(registry, credentials)
        self._session.reset_auth()  # tokens fetched under other credentials must go

    def logout(self, registry: str) -> bool:
        """Forget the stored credentials of `registry`; False if there were none."""
        self._session.reset_auth()
        return self._session.store.erase(registry)

    def list_tags(self, ref: Reference) -> list[str]:
        """All tags of `ref`'s repository, following the registry's pagination."""
        session = self._session

        def call(endpoint: Endpoint) -> list[str]:
            tags: list[str] = []
            url: str | None = f"/v2/{ref.path}/tags/list"
            while url is not None:
                response = session.send(
                    endpoint, session.key(endpoint, ref), "GET", url,
                    scopes=[repository_scope(ref.path, "pull")],
                )  # fmt: skip
                session.check(response, endpoint, f"repository {ref.name}")
                tags.extend(response.json().get("tags") or [])
                url = response.links.get("next", {}).get("url") or None
            return tags

        return session.each_endpoint(ref, call)

    # -- manifests -------------------------------------------------------------------------

    def _manifest_request(self, ref: Reference, method: str) -> tuple[Endpoint, httpx.Response]:
        def call(endpoint: Endpoint) -> tuple[Endpoint, httpx.Response]:
            response = self._session.send(
                endpoint, self._session.key(endpoint, ref), method,
                f"/v2/{ref.path}/manifests/{ref.object}",
                scopes=[repository_scope(ref.path, "pull")],
                headers={"Accept": ", ".join(MANIFEST_ACCEPT)},
                stream=True,
            )  # fmt: skip
            self._session.check(response, endpoint, f"image {ref}")
            return endpoint, response

        return self._session.each_endpoint(ref, call)

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
        where = f"manifest of {ref} on {endpoint.host}"
        served = response.headers.get("Docker-Content-Digest")
        # Each claimed digest is checked with its own algorithm (sha256, sha384 or sha512).
        for claimed in (ref.digest, served):
            if claimed is not None and claimed.split(":", 1)[0] in DIGEST_HEX_LENGTHS:
                computed = digest_bytes(data, claimed.split(":", 1)[0])
                if computed != claimed:
                    raise DigestMismatch(where, claimed, computed)
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
        endpoint = self._session.upstream(ref.domain)
        response = self._session.send(
            endpoint, ref.domain, "PUT", f"/v2/{ref.path}/manifests/{ref.object}",
            scopes=[repository_scope(ref.path, "pull", "push")],
            headers={"Content-Type": media_type}, body=data,
        )  # fmt: skip
        self._session.check(response, endpoint, f"manifest {ref}")
        return digest

    # -- blobs ---------------------------------------------------------------------------

    def blob_exists(self, ref: Reference, digest: str) -> Descriptor | None:
        """The descriptor of blob `digest` in `ref`'s repository, or None if it is not there."""
        return blobs.blob_exists(self._session, ref, validate_digest(digest))

    def iter_blob(
        self, ref: Reference, descriptor: Descriptor, *, offset: int = 0, verify: bool = True
    ) -> Iterator[bytes]:
        """Blob `descriptor` as a stream of chunks from byte `offset`, resumed on drops.

        Fits `Ingester.ingest(expected, stream)`; the size is always checked, the digest at the
        end when `offset` is 0 and `verify` is set (the content store verifies on its own).
        """
        return blobs.iter_blob(
            self._session, ref, descriptor, offset=offset, retries=self._retries, verify=verify
        )

    def fetch_blob(
        self, ref: Reference, descriptor: Descriptor, write: BlobWriter, *, offset: int = 0
    ) -> None:
        """Stream blob `descriptor` of `ref`'s repository to `write`, from byte `offset` on."""
        for chunk in self.iter_blob(ref, descriptor, offset=offset):
            write(chunk)

    def push_blob(
        self,
        ref: Reference,
        descriptor: Descriptor,
        source: bytes | IO[bytes],
        *,
        mount_from: Reference | None = None,
        chunk_size: int | None = None,
    ) -> None:
        """Upload a blob unless the repository has it: mount from `mount_from` if given,
        else send it whole or, with `chunk_size`, in PATCH chunks.
        """
        blobs.push_blob(
            self._session, ref, descriptor, source, mount_from=mount_from, chunk_size=chunk_size
        )
