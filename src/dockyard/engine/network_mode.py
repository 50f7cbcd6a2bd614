"""What a container's `--network` mode asks of the network layer (cheap: no network code)."""

from __future__ import annotations


def uses_bridge(mode: str) -> bool:
    """Modes that need the network layer: the default bridge or a user-defined network."""
    return mode not in ("none", "host") and not mode.startswith("container:")
