"""Docker-compatible `image inspect` documents (pure)."""

from __future__ import annotations

from typing import Any

from dockyard.image.reference import parse_reference
from dockyard.image.store import ImageRecord
from dockyard.oci.image_spec import ImageConfig


def familiar(name: str) -> str:
    """`docker.io/library/busybox:latest` → `busybox:latest`, as Docker shows names."""
    return parse_reference(name).familiar()


def inspect_image(record: ImageRecord, config: ImageConfig) -> dict[str, Any]:
    """The JSON `docker image inspect` prints for this image."""
    history = config.get("history") or []
    comment = history[-1].get("comment", "") if history else ""
    return {
        "Id": record.id,
        "RepoTags": [familiar(t) for t in record.tags],
        "RepoDigests": [familiar(d) for d in record.repo_digests],
        "Parent": "",
        "Comment": comment,
        "Created": config.get("created", ""),
        "DockerVersion": "",
        "Author": config.get("author", ""),
        "Config": dict(config.get("config") or {}),
        "Architecture": config.get("architecture", ""),
        "Variant": config.get("variant", ""),
        "Os": config.get("os", ""),
        "Size": record.size,
        "GraphDriver": {"Name": "overlay2", "Data": {}},
        "RootFS": {"Type": "layers", "Layers": list(record.diff_ids)},
        "Metadata": {"LastTagTime": ""},
    }
