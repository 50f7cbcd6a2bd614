"""A compose document in flight: plain data plus the location of every key path in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.compose.errors import KeyPath, Location
from dockyard.compose.source import Document

Locations = Mapping[KeyPath, Location]


@dataclass(frozen=True)
class Tree:
    """Data after loading, with locations that survive merging (files and lines may differ)."""

    data: dict[str, Any]
    locations: Locations = field(default_factory=dict)

    def locate(self, path: KeyPath) -> Location | None:
        """The location of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found is not None:
                return found
        return None


def tree_of(document: Document) -> Tree:
    """A `Tree` from one parsed document."""
    file = document.file
    locations = {path: Location(file, line) for path, line in document.lines.items()}
    return Tree(document.data, locations)


def rebase(locations: Locations, source: KeyPath, target: KeyPath) -> dict[KeyPath, Location]:
    """The locations under `source`, moved to live under `target`."""
    size = len(source)
    return {
        (*target, *path[size:]): loc for path, loc in locations.items() if path[:size] == source
    }
