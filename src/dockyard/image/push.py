"""`push`: upload a stored image (layer blobs, config, manifest) to a registry.

Blobs go up exactly as the content store holds them — pulled layers compressed as the registry
served them, imported and bootstrapped layers as uncompressed OCI tars — and the stored manifest
is sent unchanged, so the pushed image keeps its manifest digest and a pull gives back the same
image id. Recompressing on the fly would save bandwidth for uncompressed layers but would make a
new manifest (and digest) on every push; we choose identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.errors import NotFound
from dockyard.image.digest import Digest
from dockyard.image.progress import Progress, QuietProgress, Status, short_id
from dockyard.image.reference import Reference, parse_reference
from dockyard.oci.image_spec import Descriptor

if TYPE_CHECKING:
    from dockyard.image.registry.client import RegistryClient
    from dockyard.image.store import ImageStore

DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class PushResult:
    """What was pushed: the manifest digest and size under the reference."""

    reference: Reference
    digest: str
    size: int


def mount_source(repo_digests: Sequence[str], target: Reference) -> Reference | None:
    """A repository on the target's registry that already holds the image (cross-repo mount)."""
    for entry in repo_digests:
        source = parse_reference(entry.split("@", 1)[0], default_tag=False)
        if source.domain == target.domain and source.path != target.path:
            return source
    return None


def _push_blob(
    store: ImageStore,
    *,
    client: RegistryClient,
    ref: Reference,
    descriptor: Descriptor,
    mount_from: Reference | None,
    progress: Progress,
) -> None:
    key = short_id(descriptor["digest"])
    if client.blob_exists(ref, descriptor["digest"]) is not None:
        progress.layer(key, Status.LAYER_EXISTS)
        return
    progress.layer(key, Status.PUSHING)
    try:
        source = store.content.open(Digest.parse(descriptor["digest"]))
    except NotFound:
        raise NotFound(
            f"blob {descriptor['digest']} of the image is not stored (the image was loaded "
            "without it): pull or load the image again before pushing"
        ) from None
    with source:
        client.push_blob(ref, descriptor, source, mount_from=mount_from)
    progress.advance(key, descriptor["size"], descriptor["size"])
    progress.layer(key, Status.PUSHED)


def push_image(
    store: ImageStore,
    client: RegistryClient,
    ref: Reference,
    *,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
) -> PushResult:
    """Push the local image `ref` names to `ref`'s registry, repository and tag."""
    progress = progress or QuietProgress()
    record = store.resolve(str(ref))
    manifest = store.manifest(record)
    data = store.content.read(Digest.parse(record.manifest_digest))
    progress.message(f"The push refers to repository [{ref.name}]")
    mount_from = mount_source(record.repo_digests, ref)
    layers = list(manifest["layers"])
    for layer in layers:
        progress.layer(short_id(layer["digest"]), Status.PREPARING)
    # The config goes up like a layer but, as in Docker's output, without a line of its own.
    jobs: list[tuple[Descriptor, Progress]] = [(d, progress) for d in layers]
    jobs.append((manifest["config"], QuietProgress()))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures: list[Future[None]] = [
            pool.submit(
                _push_blob,
                store,
                client=client,
                ref=ref,
                descriptor=d,
                mount_from=mount_from,
                progress=p,
            )
            for d, p in jobs
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if (error := future.exception()) is not None:
                for other in futures:
                    other.cancel()
                raise error
    digest = client.put_manifest(ref, data, record.manifest_media_type)
    store.add(
        data,
        store.content.read(Digest.parse(record.id)),
        repo_digest=f"{ref.name}@{digest}",
        media_type=record.manifest_media_type,
    )
    return PushResult(ref, digest, len(data))
