"""The storage layer's tables in the state database (component "storage"); append-only."""

from __future__ import annotations

from dockyard.state.db import StateDB

COMPONENT = "storage"

MIGRATIONS: list[str] = [
    # 1: unpacked layers, reference-counted by images; snapshots and the layers they stand on.
    """
    CREATE TABLE layers (
        diff_id TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0),
        created_at REAL NOT NULL
    );
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        snapshotter TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('active', 'view')),
        created_at REAL NOT NULL
    );
    CREATE TABLE snapshot_layers (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        diff_id TEXT NOT NULL REFERENCES layers(diff_id),
        PRIMARY KEY (snapshot_id, position)
    );
    CREATE INDEX snapshot_layers_diff_id ON snapshot_layers(diff_id);
    """,
]


def migrate(db: StateDB) -> None:
    """Bring the storage tables up to date (idempotent)."""
    db.migrate(COMPONENT, MIGRATIONS)
