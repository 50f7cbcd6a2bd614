"""Where the engine keeps things under its root (`--root`, `$DOCKYARD_ROOT`, /var/lib/dockyard)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = "/var/lib/dockyard"


def default_root() -> Path:
    """The root from `$DOCKYARD_ROOT`, else /var/lib/dockyard."""
    return Path(os.environ.get("DOCKYARD_ROOT") or DEFAULT_ROOT)


@dataclass(frozen=True)
class EnginePaths:
    """Every path the engine uses, derived from one root."""

    root: Path

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    def container(self, container_id: str) -> Path:
        return self.containers / container_id

    def bundle(self, container_id: str) -> Path:
        return self.container(container_id) / "bundle"

    def rootfs(self, container_id: str) -> Path:
        return self.bundle(container_id) / "rootfs"

    def log(self, container_id: str) -> Path:
        return self.container(container_id) / "json.log"

    def netns(self, container_id: str) -> Path:
        """The container's named network namespace (bind-mounted nsfs) when it is bridged."""
        return self.root / "netns" / container_id

    @property
    def runtime_root(self) -> Path:
        return self.root / "runtime"

    @property
    def monitor_socket(self) -> Path:
        return self.root / "monitor.sock"

    @property
    def monitor_lock(self) -> Path:
        return self.root / "monitor.lock"

    @property
    def monitor_log(self) -> Path:
        return self.root / "monitor.log"

    @property
    def monitor_spawned(self) -> Path:
        """Touched when a CLI starts a monitor: others wait for that one instead of racing."""
        return self.root / "monitor.spawned"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def content(self) -> Path:
        """The image content store (blobs by digest)."""
        return self.root / "content"

    @property
    def storage(self) -> Path:
        """Unpacked layers and container snapshots."""
        return self.root / "storage"
