"""The engine's parts wired over one root: state database, image store, snapshots, containers.

`cli/` (and later `api/`) construct one `Engine` per command; the monitor holds its own.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.engine.paths import EnginePaths
from dockyard.engine.store import ContainerStore
from dockyard.state.db import StateDB

if TYPE_CHECKING:
    # Imported where used: image, unpacking, network and snapshot code is neither on `run`'s
    # start-up path nor in the long-lived monitor unless it needs it (its memory is per root).
    from dockyard.engine.volumes import VolumeStore
    from dockyard.image.store import ImageStore
    from dockyard.network.manager import NetworkManager
    from dockyard.storage.layers import LayerStore
    from dockyard.storage.snapshots import Snapshotter


class Engine:
    """Everything one root holds, opened lazily."""

    def __init__(self, root: Path) -> None:
        self.paths = EnginePaths(root)

    @cached_property
    def db(self) -> StateDB:
        self.paths.root.mkdir(parents=True, exist_ok=True, mode=0o711)
        return StateDB(self.paths.root)

    @cached_property
    def containers(self) -> ContainerStore:
        return ContainerStore(self.db)

    @cached_property
    def layers(self) -> LayerStore:
        from dockyard.storage.layers import LayerStore

        return LayerStore(self.paths.storage, self.db)

    @cached_property
    def images(self) -> ImageStore:
        from dockyard.image.content import ContentStore
        from dockyard.image.store import ImageStore

        return ImageStore(self.db, ContentStore(self.paths.content), self.layers)

    @cached_property
    def volumes(self) -> VolumeStore:
        from dockyard.engine.volumes import VolumeStore

        return VolumeStore(self.db, self.paths.volumes)

    def volume_users(self, name: str) -> list[str]:
        """Ids of the containers (running or not) that mount the volume `name`."""
        return [
            row.id
            for row in self.containers.list()
            for mount in row.config.get("Mounts") or []
            if mount.get("Type") == "volume" and mount.get("Name") == name
        ]

    @cached_property
    def networks(self) -> NetworkManager:
        from dockyard.network.manager import NetworkManager

        return NetworkManager(self.db, self.paths.root)

    @cached_property
    def snapshots(self) -> Snapshotter:
        from dockyard.storage.snapshots import OverlaySnapshotter

        return OverlaySnapshotter(self.paths.storage / "snapshots", self.db, self.layers)
