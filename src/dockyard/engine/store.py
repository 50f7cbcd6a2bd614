"""The engine's record of containers: one row each in the state database.

`name` is unique (a duplicate fails inside the inserting transaction, so twenty parallel `run`s
cannot both take it). `config` is the container's configuration as Docker's inspect shape
(`{"Config": …, "HostConfig": …}`); state columns follow Docker's `State`.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from dockyard.errors import Conflict, NotFound
from dockyard.state.db import StateDB

MIGRATIONS = [
    """
    CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        image TEXT NOT NULL,
        image_id TEXT NOT NULL,
        config TEXT NOT NULL,
        created REAL NOT NULL,
        status TEXT NOT NULL,
        pid INTEGER NOT NULL DEFAULT 0,
        exit_code INTEGER NOT NULL DEFAULT 0,
        oom_killed INTEGER NOT NULL DEFAULT 0,
        started_at REAL NOT NULL DEFAULT 0,
        finished_at REAL NOT NULL DEFAULT 0,
        restart_count INTEGER NOT NULL DEFAULT 0,
        manually_stopped INTEGER NOT NULL DEFAULT 0,
        health TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE container_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        time REAL NOT NULL,
        container_id TEXT NOT NULL,
        action TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}'
    );
    """
]

STATUSES = ("created", "running", "paused", "restarting", "removing", "exited", "dead")


@dataclass(frozen=True)
class ContainerRow:
    """A container as stored."""

    id: str
    name: str
    image: str
    image_id: str
    config: dict[str, Any]
    created: float
    status: str
    pid: int
    exit_code: int
    oom_killed: bool
    started_at: float
    finished_at: float
    restart_count: int
    manually_stopped: bool
    health: dict[str, Any] | None
    error: str

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")


def _row(r: sqlite3.Row) -> ContainerRow:
    return ContainerRow(
        id=r["id"],
        name=r["name"],
        image=r["image"],
        image_id=r["image_id"],
        config=json.loads(r["config"]),
        created=r["created"],
        status=r["status"],
        pid=r["pid"],
        exit_code=r["exit_code"],
        oom_killed=bool(r["oom_killed"]),
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        restart_count=r["restart_count"],
        manually_stopped=bool(r["manually_stopped"]),
        health=json.loads(r["health"]) if r["health"] else None,
        error=r["error"],
    )


class ContainerStore:
    """Container rows and events."""

    def __init__(self, db: StateDB) -> None:
        self.db = db
        db.migrate("engine", MIGRATIONS)

    def insert(
        self, container_id: str, name: str, image: str, image_id: str, config: dict[str, Any]
    ) -> None:
        """Record a new container; a taken name is Docker's conflict error."""
        with self.db.transaction() as conn:
            taken = conn.execute("SELECT id FROM containers WHERE name = ?", (name,)).fetchone()
            if taken is not None:
                raise Conflict(
                    f'Conflict. The container name "/{name}" is already in use by container '
                    f'"{taken["id"]}". You have to remove (or rename) that container to be able '
                    "to reuse that name."
                )
            conn.execute(
                "INSERT INTO containers (id, name, image, image_id, config, created, status)"
                " VALUES (?, ?, ?, ?, ?, ?, 'created')",
                (container_id, name, image, image_id, json.dumps(config), time.time()),
            )
            self._event(conn, container_id, "create", {"name": name, "image": image})

    def get(self, container_id: str) -> ContainerRow:
        rows = self.db.query("SELECT * FROM containers WHERE id = ?", (container_id,))
        if not rows:
            raise NotFound(f"No such container: {container_id}")
        return _row(rows[0])

    def find(self, text: str) -> ContainerRow:
        """A container by full id, name, or unique id prefix (Docker's lookup order)."""
        rows = self.db.query(
            "SELECT * FROM containers WHERE id = ? OR name = ?", (text, text.lstrip("/"))
        )
        if rows:
            return _row(rows[0])
        if text and all(c in "0123456789abcdef" for c in text):
            rows = self.db.query("SELECT * FROM containers WHERE id LIKE ?", (text + "%",))
            if len(rows) == 1:
                return _row(rows[0])
            if len(rows) > 1:
                raise Conflict(f"multiple containers match {text!r}: give more of the id")
        raise NotFound(f"No such container: {text}")

    def list(self) -> list[ContainerRow]:
        """Every container, newest first."""
        return [_row(r) for r in self.db.query("SELECT * FROM containers ORDER BY created DESC")]

    def update(self, container_id: str, event: str | None = None, **fields: Any) -> None:
        """Set state columns (and record an event) in one transaction."""
        if "health" in fields:
            fields["health"] = json.dumps(fields["health"]) if fields["health"] else ""
        if "config" in fields:
            fields["config"] = json.dumps(fields["config"])
        columns = ", ".join(f"{k} = ?" for k in fields)
        with self.db.transaction() as conn:
            if fields:
                conn.execute(
                    f"UPDATE containers SET {columns} WHERE id = ?",
                    (*fields.values(), container_id),
                )
            if event:
                self._event(conn, container_id, event, {})

    def delete(self, container_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM containers WHERE id = ?", (container_id,))
            self._event(conn, container_id, "destroy", {})

    def rename(self, container_id: str, name: str) -> None:
        with self.db.transaction() as conn:
            taken = conn.execute("SELECT id FROM containers WHERE name = ?", (name,)).fetchone()
            if taken is not None:
                raise Conflict(f'Error when allocating new name: name "/{name}" is in use')
            conn.execute("UPDATE containers SET name = ? WHERE id = ?", (name, container_id))
            self._event(conn, container_id, "rename", {"name": name})

    def events(self, since_seq: int = 0) -> builtins.list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT * FROM container_events WHERE seq > ? ORDER BY seq", (since_seq,)
        )
        return [
            {
                "seq": r["seq"],
                "time": r["time"],
                "id": r["container_id"],
                "action": r["action"],
                "attributes": json.loads(r["attributes"]),
            }
            for r in rows
        ]

    @staticmethod
    def _event(
        conn: sqlite3.Connection, container_id: str, action: str, attrs: dict[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO container_events (time, container_id, action, attributes)"
            " VALUES (?, ?, ?, ?)",
            (time.time(), container_id, action, json.dumps(attrs)),
        )
