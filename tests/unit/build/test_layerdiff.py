"""layerdiff: an upper dir becomes a sorted, deterministic tar (no root needed here)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from dockyard.build.layerdiff import source_date_epoch, tar_upper, walk_upper, write_layer


def _tree(root: Path) -> None:
    (root / "b").mkdir(parents=True)
    (root / "b" / "z.txt").write_text("z")
    (root / "b" / "a.txt").write_text("a")
    (root / "a").write_text("top")
    os.symlink("b/a.txt", root / "link")
    os.link(root / "b" / "a.txt", root / "hard")
    os.chmod(root / "a", 0o751)


def _members(upper: Path, epoch: int | None = None) -> list[tarfile.TarInfo]:
    buf = io.BytesIO()
    tar_upper(upper, buf, epoch)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        return tar.getmembers()


def test_walk_is_sorted_with_parents_first(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert list(walk_upper(tmp_path)) == ["a", "b", "b/a.txt", "b/z.txt", "hard", "link"]


def test_entries_keep_type_mode_and_links(tmp_path: Path) -> None:
    _tree(tmp_path)
    members = {m.name: m for m in _members(tmp_path)}
    assert members["a"].mode == 0o751 and members["a"].isfile()
    assert members["b"].isdir()
    assert members["link"].issym() and members["link"].linkname == "b/a.txt"
    # The first path of a hardlinked inode (in sorted order) holds the data.
    assert members["b/a.txt"].isfile()
    assert members["hard"].islnk() and members["hard"].linkname == "b/a.txt"
    assert all(m.uname == "" and m.gname == "" for m in members.values())


def test_mtimes_are_clamped_to_the_epoch(tmp_path: Path) -> None:
    _tree(tmp_path)
    os.utime(tmp_path / "a", (100, 100), follow_symlinks=False)
    members = {m.name: m for m in _members(tmp_path, epoch=1000)}
    assert members["a"].mtime == 100  # older than the epoch: kept
    assert members["b/z.txt"].mtime == 1000  # newer: clamped


def test_same_tree_same_digest_and_empty_tree_has_no_entries(tmp_path: Path) -> None:
    one, two, empty = tmp_path / "one", tmp_path / "two", tmp_path / "empty"
    empty.mkdir()
    _tree(one)
    _tree(two)
    with open(tmp_path / "x", "w+b") as f1, open(tmp_path / "y", "w+b") as f2:
        first = write_layer(one, f1, epoch=5)
        second = write_layer(two, f2, epoch=5)
    assert first.diff_id == second.diff_id and first.size == second.size
    assert first.entries == 6
    with open(tmp_path / "z", "w+b") as f3:
        assert write_layer(empty, f3).entries == 0


def test_source_date_epoch_parsing() -> None:
    assert source_date_epoch({"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    assert source_date_epoch({"SOURCE_DATE_EPOCH": "soon"}) is None
    assert source_date_epoch({}) is None
