"""`container prune`, `system prune` and `system df`: what is unused, and giving it back.

Sizes are bytes on disk: a container's is its snapshot's own data, an image's its layers (a
layer shared by several images is counted once in the totals), a volume's its directory.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from dockyard.engine.service import Engine
from dockyard.errors import NotFound


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed and the bytes it gave back."""

    containers: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    untagged: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    build_cache: tuple[str, ...] = ()
    reclaimed: int = 0


@dataclass(frozen=True)
class UsageLine:
    """One line of `system df`."""

    type: str
    total: int
    active: int
    size: int
    reclaimable: int


def _container_size(engine: Engine, container_id: str) -> int:
    try:
        return engine.snapshots.usage(container_id).size
    except NotFound:
        return 0


def _volume_size(path: str) -> int:
    from pathlib import Path

    from dockyard.storage.snapshots import disk_usage

    return disk_usage(Path(path)).size


def prune_containers(engine: Engine) -> PruneResult:
    """Remove every stopped container (created, exited, dead)."""
    from dockyard.engine.container_remove import remove_container
    from dockyard.errors import Conflict

    removed: list[str] = []
    reclaimed = 0
    for row in engine.containers.list():
        if row.running:
            continue
        size = _container_size(engine, row.id)
        with contextlib.suppress(NotFound, Conflict):  # started or removed meanwhile
            remove_container(engine, row.id)
            removed.append(row.id)
            reclaimed += size
    return PruneResult(containers=tuple(removed), reclaimed=reclaimed)


def prune_volumes(engine: Engine, *, all_volumes: bool) -> PruneResult:
    """Remove unused anonymous volumes (every unused one with `all_volumes`)."""
    removed: list[str] = []
    reclaimed = 0
    for volume in engine.volumes.list():
        if not (volume.anonymous or all_volumes) or engine.volume_users(volume.name):
            continue
        size = _volume_size(str(volume.mountpoint))
        engine.volumes.remove(volume.name, [])
        removed.append(volume.name)
        reclaimed += size
    return PruneResult(volumes=tuple(removed), reclaimed=reclaimed)


def system_prune(engine: Engine, *, all_images: bool, volumes: bool) -> PruneResult:
    """Stopped containers, unused networks, (anonymous volumes), build cache, unused images."""
    from dockyard.build.cache import BuildCache
    from dockyard.image.prune import prune_images

    containers = prune_containers(engine)
    networks = tuple(engine.networks.prune())
    pruned_volumes = prune_volumes(engine, all_volumes=False) if volumes else PruneResult()
    cache = BuildCache(engine.db)
    keys = [key for key, _ in cache.entries()]
    cache.remove(keys)
    in_use = {c.image_id for c in engine.containers.list()}
    images = prune_images(engine.images, engine.layers, all_unused=all_images, in_use=in_use)
    return PruneResult(
        containers=containers.containers,
        networks=networks,
        volumes=pruned_volumes.volumes,
        untagged=images.untagged,
        images=images.deleted,
        build_cache=tuple(keys),
        reclaimed=containers.reclaimed + pruned_volumes.reclaimed + images.reclaimed,
    )


def disk_usage(engine: Engine) -> list[UsageLine]:
    """Images, containers, local volumes and build cache: count, in use, size, reclaimable."""
    from dockyard.build.cache import BuildCache

    rows = engine.containers.list()
    used_images = {r.image_id for r in rows}
    layer_sizes = {layer.diff_id: layer.size for layer in engine.layers.list()}
    images = engine.images.list()
    all_layers = {d for image in images for d in image.diff_ids}
    active_layers = {d for image in images if image.id in used_images for d in image.diff_ids}
    image_size = sum(layer_sizes.get(d, 0) for d in all_layers)
    image_free = sum(layer_sizes.get(d, 0) for d in all_layers - active_layers)

    sizes = {r.id: _container_size(engine, r.id) for r in rows}
    running = [r for r in rows if r.running]
    container_free = sum(sizes[r.id] for r in rows if not r.running)

    volumes = engine.volumes.list()
    volume_sizes = {v.name: _volume_size(str(v.mountpoint)) for v in volumes}
    used_volumes = [v for v in volumes if engine.volume_users(v.name)]
    volume_free = sum(volume_sizes[v.name] for v in volumes if v not in used_volumes)

    cache = [entry for _, entry in BuildCache(engine.db).entries()]
    cache_size = sum(entry.size for entry in cache)
    return [
        UsageLine(
            "Images",
            len(images),
            sum(i.id in used_images for i in images),
            image_size,
            image_free,
        ),
        UsageLine("Containers", len(rows), len(running), sum(sizes.values()), container_free),
        UsageLine(
            "Local Volumes",
            len(volumes),
            len(used_volumes),
            sum(volume_sizes.values()),
            volume_free,
        ),
        UsageLine("Build Cache", len(cache), 0, cache_size, cache_size),
    ]
