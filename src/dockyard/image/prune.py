"""`image prune`: remove dangling (or, with `all_unused`, all unused) images, then give back
the layer directories and blobs that no remaining image references.

Layers are reference-counted by the layer store (an image holds one reference per layer, a
snapshot pins its layers too); blobs are collected by marking what the remaining images'
manifests name and sweeping the rest. A pull running at the same moment may lose blobs it has
stored but not yet recorded; it then fails cleanly and can be repeated.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dockyard.errors import NotFound

if TYPE_CHECKING:
    from dockyard.image.store import ImageRecord, ImageStore


class _LayerInfo(Protocol):
    @property
    def diff_id(self) -> str: ...
    @property
    def size(self) -> int: ...


class PrunableLayers(Protocol):
    """What pruning needs of the layer store (`dockyard.storage.layers.LayerStore`)."""

    def list(self) -> Sequence[_LayerInfo]: ...
    def prune(self) -> builtins.list[str]: ...


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed: tags, image ids, and the bytes given back."""

    untagged: tuple[str, ...]
    deleted: tuple[str, ...]
    reclaimed: int


def select_images(
    records: Iterable[ImageRecord], *, all_unused: bool, in_use: set[str]
) -> list[ImageRecord]:
    """The images to remove: untagged ones, or with `all_unused` every one, minus `in_use`."""
    return [r for r in records if r.id not in in_use and (all_unused or not r.tags)]


def referenced_blobs(store: ImageStore, records: Iterable[ImageRecord]) -> set[str]:
    """Digests of every manifest, config and layer blob the images use."""
    keep: set[str] = set()
    for record in records:
        keep.update((record.id, record.manifest_digest))
        with contextlib.suppress(NotFound):
            keep.update(layer["digest"] for layer in store.manifest(record)["layers"])
    return keep


def prune_images(
    store: ImageStore, layers: PrunableLayers, *, all_unused: bool, in_use: set[str]
) -> PruneReport:
    """Remove the selected images, then unreferenced layers and blobs; report the bytes freed."""
    victims = select_images(store.list(), all_unused=all_unused, in_use=in_use)
    untagged: list[str] = []
    deleted: list[str] = []
    for record in victims:
        untagged.extend(record.tags)
        store.remove(record.id)
        deleted.append(record.id)
    sizes = {layer.diff_id: layer.size for layer in layers.list()}
    reclaimed = sum(sizes.get(diff_id, 0) for diff_id in layers.prune())
    keep = referenced_blobs(store, store.list())
    for info in list(store.content.list()):
        if str(info.digest) not in keep:
            with contextlib.suppress(NotFound):  # another prune took it
                store.content.delete(info.digest)
                reclaimed += info.size
    return PruneReport(tuple(untagged), tuple(deleted), reclaimed)
