"""StateDB: WAL mode, migrations per component, transactions, concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.state.db import StateDB, split_statements

COUNTER = [
    "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT INTO counter (id, n) VALUES (1, 0);",
]


def test_opens_in_wal_mode_under_root(tmp_path: Path) -> None:
    with StateDB(tmp_path / "root") as db:
        assert db.path == tmp_path / "root" / "state.db"
        assert db.query("PRAGMA journal_mode")[0][0] == "wal"


def test_migrations_apply_once_and_in_order(tmp_path: Path) -> None:
    v1 = "CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x;y');"
    v2 = "ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 7;"
    with StateDB(tmp_path) as db:
        assert db.migrate("image", [v1]) == 1
        assert db.migrate("image", [v1]) == 1
        assert db.migrate("image", [v1, v2]) == 2
        assert db.version("image") == 2
        assert db.version("network") == 0
        assert [tuple(r) for r in db.query("SELECT a, b FROM t")] == [("x;y", 7)]
    with StateDB(tmp_path) as db:
        assert db.migrate("image", [v1, v2]) == 2
        assert len(db.query("SELECT * FROM t")) == 1


def test_components_are_independent(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        db.migrate("a", ["CREATE TABLE a1 (x);"])
        db.migrate("b", ["CREATE TABLE b1 (x);", "CREATE TABLE b2 (x);"])
        assert (db.version("a"), db.version("b")) == (1, 2)


def test_failed_migration_rolls_back_everything(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        with pytest.raises(sqlite3.OperationalError):
            db.migrate("x", ["CREATE TABLE ok (a);", "CREATE TABLE ok2 (a); BROKEN SQL;"])
        assert db.version("x") == 0
        assert not db.query("SELECT name FROM sqlite_master WHERE name LIKE 'ok%'")


def test_newer_schema_than_code_is_a_conflict(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        db.migrate("x", ["CREATE TABLE a (x);", "CREATE TABLE b (x);"])
        with pytest.raises(Conflict, match="upgrade dockyard"):
            db.migrate("x", ["CREATE TABLE a (x);"])


def test_transaction_commits_or_rolls_back(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        db.migrate("c", COUNTER)
        with db.transaction() as conn:
            conn.execute("UPDATE counter SET n = 5")
        with pytest.raises(RuntimeError), db.transaction() as conn:
            conn.execute("UPDATE counter SET n = 9")
            raise RuntimeError("boom")
        assert db.query("SELECT n FROM counter")[0]["n"] == 5


def test_nested_transactions_join_the_outer_one(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        db.migrate("c", COUNTER)
        with pytest.raises(RuntimeError), db.transaction() as outer:
            with db.transaction() as inner:
                inner.execute("UPDATE counter SET n = 1")
            outer.execute("UPDATE counter SET n = n + 1")
            raise RuntimeError("boom")
        assert db.query("SELECT n FROM counter")[0]["n"] == 0


def test_split_statements() -> None:
    assert split_statements("CREATE TABLE a (x); INSERT INTO a VALUES (';');\n") == [
        "CREATE TABLE a (x);",
        "INSERT INTO a VALUES (';');",
    ]
    with pytest.raises(InvalidArgument):
        split_statements("CREATE TABLE a (x); INSERT INTO a VALUES ('unterminated")


def _increment(root: str, times: int) -> None:
    with StateDB(Path(root)) as db:
        db.migrate("c", COUNTER)
        for _ in range(times):
            with db.transaction() as conn:
                n = conn.execute("SELECT n FROM counter").fetchone()[0]
                conn.execute("UPDATE counter SET n = ?", (n + 1,))


def test_concurrent_writers_from_many_processes_serialize(tmp_path: Path) -> None:
    # Read-modify-write from 8 processes at once: any lost update shows up in the total.
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_increment, args=(str(tmp_path), 40)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with StateDB(tmp_path) as db:
        assert db.query("SELECT n FROM counter")[0]["n"] == 8 * 40
        assert db.version("c") == 1


def _open_and_migrate(root: str) -> None:
    with StateDB(Path(root)) as db:
        db.migrate("c", COUNTER)


def test_many_processes_creating_the_database_at_once(tmp_path: Path) -> None:
    # A fresh database is switched to WAL by whoever comes first; the rest must wait, not fail.
    for attempt in range(5):
        root = tmp_path / str(attempt)
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=_open_and_migrate, args=(str(root),)) for _ in range(10)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        with StateDB(root) as db:
            assert db.version("c") == 1
            assert db.query("SELECT n FROM counter")[0]["n"] == 0
