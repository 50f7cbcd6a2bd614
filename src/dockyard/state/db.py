"""The state database: one SQLite file per root, WAL mode, explicit write transactions.

Each layer owns its own tables and registers them with `StateDB.migrate(component, [sql, ...])`;
the list is append-only (a released migration is never edited, a change is a new entry).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dockyard.errors import Conflict, InvalidArgument, Unavailable

DB_NAME = "state.db"
DEFAULT_BUSY_TIMEOUT = 30.0

# sqlite3 result codes (sqlite3.h); Python >= 3.11 exposes them as `sqlite_errorcode`.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6

_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT PRIMARY KEY,"
    " version INTEGER NOT NULL)"
)


class StateDB:
    """A connection to `<root>/state.db`; safe to share between threads of one process."""

    def __init__(self, root: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / DB_NAME
        # isolation_level=None: the sqlite3 module must not open transactions behind our back;
        # `transaction()` issues BEGIN IMMEDIATE itself so concurrent writers queue on the
        # busy timeout instead of failing later with SQLITE_BUSY on lock upgrade.
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        with self._translate("open"):
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._enable_wal(busy_timeout)
            # NORMAL is crash-safe in WAL mode; only the last commits may roll back on power loss.
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute(_MIGRATIONS_TABLE)

    def _enable_wal(self, timeout: float) -> None:
        # Switching a new database to WAL needs an exclusive lock, and SQLite reports BUSY
        # for it at once instead of calling the busy handler: retry when processes race.
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self._conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        self._conn.close()

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); nested calls join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            with self._translate("begin"):
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            with self._translate("commit"):
                self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one read statement outside (or inside) a transaction and return all rows."""
        with self._lock, self._translate("query"):
            return self._conn.execute(sql, params).fetchall()

    def version(self, component: str) -> int:
        """The number of migrations applied for `component` (0 when none)."""
        rows = self.query("SELECT version FROM schema_migrations WHERE component = ?", (component,))
        return int(rows[0]["version"]) if rows else 0

    def migrate(self, component: str, migrations: Sequence[str]) -> int:
        """Apply the migrations of `component` not yet applied, in order; returns the version."""
        with self.transaction() as conn:
            current = self.version(component)
            if current > len(migrations):
                raise Conflict(
                    f"state database {self.path} has {component} schema version {current}, newer "
                    f"than this dockyard knows ({len(migrations)}): upgrade dockyard"
                )
            for sql in migrations[current:]:
                for statement in split_statements(sql):
                    conn.execute(statement)
            if len(migrations) > current:
                conn.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, len(migrations)),
                )
            return len(migrations)

    @contextmanager
    def _translate(self, op: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise Unavailable(
                    f"state database {self.path} stayed locked by another dockyard process "
                    f"during {op}: retry, or find the stuck process"
                ) from exc
            raise


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (executescript would commit mid-migration)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise InvalidArgument(
            f"incomplete SQL statement in migration: {pending.strip()[:60]!r}: end it with ';'"
        )
    return statements
