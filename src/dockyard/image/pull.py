"""`pull`: fetch an image from a registry into the content store and the layer store.

Decide, then do: `plan_layers` says which layer blobs to download and which to unpack (pure);
`pull_image` runs those jobs on a thread pool sharing one `RegistryClient`. Each download is
teed: the bytes go to a content-store writer (hashed, committed only when the digest matches)
and, in the same pass, through decompression into the layer store's unpack, so the network,
zlib and the file system all work at once. The blob is verified at the end of the stream,
before the unpacked layer is renamed into place, so a corrupt blob leaves nothing visible.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.content import BlobWriter, Expected
from dockyard.image.digest import READ_SIZE, Digest
from dockyard.image.progress import Progress, QuietProgress, Status, short_id
from dockyard.image.reference import Reference
from dockyard.oci.image_spec import (
    Descriptor,
    Manifest,
    digest_bytes,
    is_index,
    parse_image_config,
)

if TYPE_CHECKING:
    from dockyard.image.platform import Platform
    from dockyard.image.registry.client import RegistryClient
    from dockyard.image.store import ImageRecord, ImageStore

# Docker downloads three layers at once; a fourth helps on fast links and costs little.
DEFAULT_WORKERS = 4


@dataclass(frozen=True)
class LayerJob:
    """What to do for one layer: download its blob, unpack it, both, or neither."""

    descriptor: Descriptor
    diff_id: str
    fetch: bool
    unpack: bool

    @property
    def key(self) -> str:
        return short_id(self.descriptor["digest"])


@dataclass(frozen=True)
class PullResult:
    """A pulled image: its record, the reference pulled, the digest it resolved to."""

    record: ImageRecord
    reference: Reference
    digest: str
    updated: bool  # False when the reference already named this very image


def plan_layers(
    manifest: Manifest,
    diff_ids: Sequence[str],
    *,
    has_blob: Callable[[str], bool],
    has_layer: Callable[[str], bool],
) -> tuple[LayerJob, ...]:
    """One job per distinct layer blob: fetch it unless stored, unpack it unless unpacked."""
    layers = manifest["layers"]
    if len(layers) != len(diff_ids):
        raise InvalidArgument(
            f"manifest lists {len(layers)} layers but the config {len(diff_ids)} diff-IDs: "
            "the image is broken, rebuild or re-push it"
        )
    jobs: list[LayerJob] = []
    seen: set[str] = set()
    for descriptor, diff_id in zip(layers, diff_ids, strict=True):
        if descriptor["digest"] in seen:
            continue  # the same blob twice (empty layers): one job does it
        seen.add(descriptor["digest"])
        unpack = not has_layer(diff_id)
        # An unpacked layer still needs its blob: push and save read blobs, not directories.
        fetch = not has_blob(descriptor["digest"])
        jobs.append(LayerJob(descriptor, diff_id, fetch, unpack))
    return tuple(jobs)


class _Tee:
    """A binary reader over a chunk stream that copies every chunk to a blob writer.

    At the end of the stream it commits the writer, so a digest or size mismatch is raised
    to the reader (the unpack) before that reader can declare the layer complete.
    """

    def __init__(
        self, chunks: Iterator[bytes], writer: BlobWriter | None, on_bytes: Callable[[int], None]
    ) -> None:
        self._chunks = chunks
        self._writer = writer
        self._on_bytes = on_bytes
        self._rest = b""
        self._done = 0
        self._ended = False

    def read(self, n: int = -1) -> bytes:
        if self._rest:
            out = self._rest if n < 0 else self._rest[:n]
            self._rest = self._rest[len(out) :]
            return out
        if self._ended:
            return b""
        chunk = next(self._chunks, b"")
        if not chunk:
            self._ended = True
            if self._writer is not None:
                self._writer.commit()
            return b""
        if self._writer is not None:
            self._writer.write(chunk)
        self._done += len(chunk)
        self._on_bytes(self._done)
        if 0 <= n < len(chunk):
            self._rest = chunk[n:]
            return chunk[:n]
        return chunk

    def finish(self) -> None:
        """Read what the consumer left (e.g. the layer was unpacked by another pull)."""
        self._rest = b""
        while self.read(READ_SIZE):
            self._rest = b""


def store_layer(
    store: ImageStore,
    job: LayerJob,
    chunks: Iterable[bytes],
    on_bytes: Callable[[int], None] = lambda _done: None,
) -> None:
    """Ingest `chunks` as the job's blob (if `job.fetch`) and unpack them (if `job.unpack`)."""
    expected = Expected.of(job.descriptor["digest"], job.descriptor["size"])
    writer = store.content.writer(expected) if job.fetch else None
    with writer if writer is not None else contextlib.nullcontext():
        tee = _Tee(iter(chunks), writer, on_bytes)
        if job.unpack:
            store.layers.unpack(job.diff_id, tee)  # type: ignore[arg-type]
        tee.finish()


def blob_chunks(store: ImageStore, digest: str) -> Iterator[bytes]:
    """A stored blob's bytes in large chunks."""
    with store.content.open(Digest.parse(digest)) as f:
        while chunk := f.read(READ_SIZE):
            yield chunk


def _run_job(
    store: ImageStore, client: RegistryClient, ref: Reference, job: LayerJob, progress: Progress
) -> None:
    size = job.descriptor["size"]
    if job.fetch:
        progress.layer(job.key, Status.DOWNLOADING)
        chunks: Iterable[bytes] = client.iter_blob(ref, job.descriptor, verify=False)
    else:
        progress.layer(job.key, Status.EXTRACTING)
        chunks = blob_chunks(store, job.descriptor["digest"])
    store_layer(store, job, chunks, lambda done: progress.advance(job.key, done, size))
    if job.fetch:
        progress.layer(job.key, Status.VERIFYING)
        progress.layer(job.key, Status.DOWNLOADED)
    progress.layer(job.key, Status.PULLED)


def _run_jobs(
    store: ImageStore,
    *,
    client: RegistryClient,
    ref: Reference,
    jobs: Sequence[LayerJob],
    progress: Progress,
    workers: int,
) -> None:
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures: list[Future[None]] = [
            pool.submit(_run_job, store, client, ref, job, progress) for job in jobs
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if (error := future.exception()) is not None:
                for other in futures:
                    other.cancel()
                wait(futures)
                raise error


def pull_image(
    store: ImageStore,
    client: RegistryClient,
    ref: Reference,
    *,
    platform: Platform | None = None,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
) -> PullResult:
    """Pull `ref` (the host's platform from an index, or `platform`) and record it."""
    progress = progress or QuietProgress()
    resolved = client.resolve(ref, platform)
    progress.message(f"{ref.tag or ref.digest}: Pulling from {ref.path}")
    if is_index(resolved.manifest.document):
        raise InvalidArgument(f"{ref} is not an image manifest: nothing to pull")
    manifest = cast("Manifest", resolved.manifest.document)
    config_desc = manifest["config"]
    config = b"".join(client.iter_blob(ref, config_desc))
    diff_ids = parse_image_config(config)["rootfs"]["diff_ids"]
    jobs = plan_layers(
        manifest,
        diff_ids,
        has_blob=lambda d: store.content.exists(Digest.parse(d)),
        has_layer=store.layers.exists,
    )
    todo = [job for job in jobs if job.fetch or job.unpack]
    for job in jobs:
        progress.layer(job.key, Status.PULLING if job in todo else Status.EXISTS)
    if todo:
        _run_jobs(store, client=client, ref=ref, jobs=todo, progress=progress, workers=workers)
    image_id = digest_bytes(config)
    tags = (f"{ref.name}:{ref.tag}",) if ref.tag else ()
    try:
        updated = store.resolve(str(ref)).id != image_id
    except NotFound:
        updated = True
    record = store.add(
        resolved.manifest.data,
        config,
        tags=tags,
        repo_digest=f"{ref.name}@{resolved.digest}",
        media_type=resolved.manifest.descriptor["mediaType"],
    )
    progress.message(f"Digest: {resolved.digest}")
    word = "Downloaded newer image for" if updated else "Image is up to date for"
    progress.message(f"Status: {word} {ref.familiar()}")
    return PullResult(record, ref, resolved.digest, updated)
