"""Blob transfer: streaming downloads that resume after a dropped connection, and uploads.

`iter_blob` yields a blob's bytes as they arrive, so a content store's `Ingester` can take it
as its stream (`store.ingest(expected, iter_blob(...))`); it checks the size on the way and
the digest at the end. Uploads follow the distribution spec: POST, then one PUT (monolithic)
or PATCH chunks and a closing PUT, or a cross-repository mount.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING
from urllib.parse import urljoin

from dockyard.errors import DockyardError, InvalidArgument, Unavailable
from dockyard.image.reference import Reference
from dockyard.image.registry.auth import repository_scope
from dockyard.image.registry.config import Endpoint
from dockyard.image.registry.errors import DigestMismatch
from dockyard.image.registry.session import RegistrySession
from dockyard.image.registry.transport import is_retryable, translate_errors
from dockyard.oci.image_spec import Descriptor, validate_digest

if TYPE_CHECKING:
    import httpx


@dataclass
class _Progress:
    """How much of one blob download has been handed on (mutable, local to one download)."""

    received: int
    hasher: hashlib._Hash | None

    def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.hasher is not None:
            self.hasher.update(chunk)


def blob_exists(session: RegistrySession, ref: Reference, digest: str) -> Descriptor | None:
    """The descriptor of blob `digest` in `ref`'s repository (mirrors first), or None."""

    def call(endpoint: Endpoint) -> Descriptor | None:
        response = session.send(
            endpoint, session.key(endpoint, ref), "HEAD", f"/v2/{ref.path}/blobs/{digest}",
            scopes=[repository_scope(ref.path, "pull")],
        )  # fmt: skip
        if response.status_code == 404:
            return None
        session.check(response, endpoint, f"blob {digest} of {ref.name}")
        size = int(response.headers.get("Content-Length", "0"))
        media_type = response.headers.get("Content-Type", "application/octet-stream")
        return {"mediaType": media_type, "digest": digest, "size": size}

    return session.each_endpoint(ref, call)


def iter_blob(
    session: RegistrySession,
    ref: Reference,
    descriptor: Descriptor,
    *,
    offset: int = 0,
    retries: int = 3,
    verify: bool = True,
) -> Iterator[bytes]:
    """Yield blob `descriptor` of `ref`'s repository from byte `offset` on, as it arrives.

    A dropped connection is resumed with a Range request (or the re-sent prefix skipped), up
    to `retries` times; a failing mirror hands over to the next endpoint at the same byte.
    The size is always checked; the digest too when the whole blob passed through here and
    `verify` is set (a consumer that hashes anyway, like the content store, may clear it).
    """
    digest = validate_digest(descriptor["digest"])
    algorithm = digest.split(":", 1)[0]
    hasher = hashlib.new(algorithm) if verify and offset == 0 else None
    progress = _Progress(offset, hasher)
    endpoints = session.config.endpoints(ref.domain)
    for endpoint in endpoints[:-1]:
        try:
            yield from _from_endpoint(
                session, endpoint, ref, descriptor, progress=progress, retries=retries
            )
            break
        except DockyardError:
            continue  # skip the mirror; the next endpoint resumes where it stopped
    else:
        yield from _from_endpoint(
            session, endpoints[-1], ref, descriptor, progress=progress, retries=retries
        )
    if progress.hasher is not None:
        actual = f"{algorithm}:" + progress.hasher.hexdigest()
        if actual != digest:
            raise DigestMismatch(f"blob {digest} of {ref.name}", digest, actual)


def _from_endpoint(
    session: RegistrySession,
    endpoint: Endpoint,
    ref: Reference,
    descriptor: Descriptor,
    *,
    progress: _Progress,
    retries: int,
) -> Iterator[bytes]:
    digest, size = descriptor["digest"], descriptor["size"]
    what = f"blob {digest} of {ref.name}"
    failures = 0
    while progress.received < size:
        received = progress.received
        response = session.send(
            endpoint, session.key(endpoint, ref), "GET", f"/v2/{ref.path}/blobs/{digest}",
            scopes=[repository_scope(ref.path, "pull")],
            headers={"Range": f"bytes={received}-"} if received else None, stream=True,
        )  # fmt: skip
        try:
            session.check(response, endpoint, what)
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
                progress.add(chunk)
                yield chunk
        except Exception as exc:
            if not is_retryable(exc):
                with translate_errors(endpoint.host):
                    raise
            failure = str(exc) or type(exc).__name__
        else:
            if progress.received == size:
                return
            failure = f"the body ended after {progress.received} of {size} bytes"
        finally:
            response.close()
        failures += 1
        if failures > retries:
            raise Unavailable(
                f"download of {what} from {endpoint.host} failed {failures} times "
                f"({failure}): check the network and pull again"
            )


def blob_in_upstream(session: RegistrySession, ref: Reference, digest: str) -> bool:
    """Whether the registry itself (not a mirror) has blob `digest` in `ref`'s repository."""
    endpoint = session.upstream(ref.domain)
    response = session.send(
        endpoint, ref.domain, "HEAD", f"/v2/{ref.path}/blobs/{digest}",
        scopes=[repository_scope(ref.path, "pull", "push")],
    )  # fmt: skip
    if response.status_code == 404:
        return False
    session.check(response, endpoint, f"blob {digest} of {ref.name}")
    return True


def push_blob(
    session: RegistrySession,
    ref: Reference,
    descriptor: Descriptor,
    source: bytes | IO[bytes],
    *,
    mount_from: Reference | None = None,
    chunk_size: int | None = None,
    read_size: int = 1 << 20,
) -> None:
    """Upload a blob to `ref`'s repository unless it is there already.

    With `mount_from` (same registry) the registry is asked to link it from that repository
    first; otherwise, or if it declines, the bytes are sent whole or, given `chunk_size`, in
    PATCH chunks. `source` is bytes or a seekable binary file.
    """
    digest = validate_digest(descriptor["digest"])
    if blob_in_upstream(session, ref, digest):
        return
    endpoint = session.upstream(ref.domain)
    what = f"upload of blob {digest} to {ref.name}"
    scopes = [repository_scope(ref.path, "pull", "push")]
    params: dict[str, str] = {}
    if mount_from is not None and mount_from.domain == ref.domain:
        scopes.append(repository_scope(mount_from.path, "pull"))
        params = {"mount": digest, "from": mount_from.path}
    response = session.send(
        endpoint, ref.domain, "POST", f"/v2/{ref.path}/blobs/uploads/", scopes=scopes,
        params=params,
    )  # fmt: skip
    session.check(response, endpoint, what)
    if response.status_code == 201:
        return  # mounted: the registry linked the blob from the other repository
    location = _location(response, endpoint, ref)
    size = descriptor["size"]
    octets = {"Content-Type": "application/octet-stream"}
    if chunk_size is None:
        response = session.send(
            endpoint, ref.domain, "PUT", location, scopes=scopes, params={"digest": digest},
            headers=octets | {"Content-Length": str(size)},
            body=_body(source, read_size, 0, size),
        )  # fmt: skip
    else:
        for start in range(0, size, chunk_size):
            length = min(chunk_size, size - start)
            # Content-Range without "bytes=": the distribution spec's own format.
            response = session.send(
                endpoint, ref.domain, "PATCH", location, scopes=scopes,
                headers=octets | {"Content-Range": f"{start}-{start + length - 1}",
                                  "Content-Length": str(length)},
                body=_body(source, min(read_size, chunk_size), start, length),
            )  # fmt: skip
            session.check(response, endpoint, what)
            location = _location(response, endpoint, ref)
        response = session.send(
            endpoint, ref.domain, "PUT", location, scopes=scopes, params={"digest": digest},
            headers={"Content-Length": "0"},
        )  # fmt: skip
    session.check(response, endpoint, what)


def _location(response: httpx.Response, endpoint: Endpoint, ref: Reference) -> str:
    location = response.headers.get("Location")
    if not location:
        raise Unavailable(
            f"registry {endpoint.host} answered an upload to {ref.name} without a Location"
        )
    return str(urljoin(str(response.request.url), location))


def _body(
    source: bytes | IO[bytes], chunk: int, start: int, length: int
) -> Callable[[], Iterator[bytes]]:
    """A re-startable body: bytes `start`..`start+length` of `source`, in chunks."""

    def chunks() -> Iterator[bytes]:
        if isinstance(source, bytes):
            if len(source) < start + length:
                raise InvalidArgument(f"blob source has {len(source)} bytes, expected more")
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
