"""The build cache: step key → the layer (or no layer) the step produced, in the state DB.

A step's key is the sha256 of its parent's key, the instruction after substitution, the
variables that reach it and, for COPY/ADD, the hash of the files it copies (`step_key`). The
chain starts at the base image's id, so a key names one exact result.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from dockyard.errors import Conflict, NotFound
from dockyard.state.db import StateDB

MIGRATIONS = [
    """
    CREATE TABLE build_cache (
        key TEXT PRIMARY KEY,
        diff_id TEXT,
        size INTEGER NOT NULL,
        created TEXT NOT NULL,
        used REAL NOT NULL
    );
    """
]


@dataclass(frozen=True)
class CacheEntry:
    """What a step made: its layer (None for a config-only step), size and history time."""

    diff_id: str | None
    size: int
    created: str


def step_key(
    parent: str,
    instruction: str,
    variables: Mapping[str, str] = {},
    content: str = "",
) -> str:
    """The cache key of a step on `parent` (a previous key or the base image id)."""
    doc = {"parent": parent, "instruction": instruction, "vars": dict(sorted(variables.items()))}
    if content:
        doc["content"] = content
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


class BuildCache:
    """Step results by key; a dangling entry (its layer pruned) is treated as a miss."""

    def __init__(self, db: StateDB) -> None:
        self.db = db
        db.migrate("build", MIGRATIONS)

    def get(self, key: str) -> CacheEntry | None:
        """The entry for `key`, or None."""
        rows = self.db.query("SELECT * FROM build_cache WHERE key = ?", (key,))
        if not rows:
            return None
        with self.db.transaction() as conn:
            conn.execute("UPDATE build_cache SET used = ? WHERE key = ?", (time.time(), key))
        row = rows[0]
        return CacheEntry(row["diff_id"], int(row["size"]), str(row["created"]))

    def put(self, key: str, entry: CacheEntry) -> None:
        """Record (or replace) the result of the step `key`."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO build_cache (key, diff_id, size, created, used)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, entry.diff_id, entry.size, entry.created, time.time()),
            )

    def entries(self) -> list[tuple[str, CacheEntry]]:
        """Every entry, oldest use first."""
        rows = self.db.query("SELECT * FROM build_cache ORDER BY used")
        return [
            (r["key"], CacheEntry(r["diff_id"], int(r["size"]), str(r["created"]))) for r in rows
        ]

    def remove(self, keys: list[str]) -> None:
        """Forget these entries."""
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM build_cache WHERE key = ?", [(k,) for k in keys])


class CacheLayers(Protocol):
    """The layer store verbs pruning needs (see `dockyard.storage.layers.LayerStore`)."""

    def remove(self, diff_id: str) -> None: ...


def prune_cache(cache: BuildCache, layers: CacheLayers, *, everything: bool) -> tuple[int, int]:
    """Forget cache entries and delete their layers no image uses; (entries, bytes) freed.

    Without `everything` only entries whose layer is unused (or gone) are dropped, so the
    cache of images that still exist keeps working; with it the whole cache goes.
    """
    freed = 0
    dropped: list[str] = []
    for key, entry in cache.entries():
        if entry.diff_id is None:
            if everything:
                dropped.append(key)
            continue
        try:
            layers.remove(entry.diff_id)
            freed += entry.size
        except NotFound:
            pass  # pruned with the images already
        except Conflict:
            if not everything:
                continue  # an image or a container still uses the layer
        dropped.append(key)
    cache.remove(dropped)
    return len(dropped), freed
