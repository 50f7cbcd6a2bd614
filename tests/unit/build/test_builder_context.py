"""COPY sources: globs, the context boundary, content hashes, and symlink-safe joins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.build.context_hash import SourceError, Tree, hash_sources, match_sources
from dockyard.build.steps.rootfs import read_ids, secure_join


def _ctx(root: Path) -> Tree:
    (root / "src" / "deep").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "c.md", "src/x.txt", "src/deep/y.txt"):
        (root / name).write_text(name)
    return Tree(root)


def test_globs_match_one_level_like_go(tmp_path: Path) -> None:
    tree = _ctx(tmp_path)
    assert match_sources(tree, "*.txt") == ["a.txt", "b.txt"]
    assert match_sources(tree, "src/*.txt") == ["src/x.txt"]
    assert match_sources(tree, "?.md") == ["c.md"]
    assert match_sources(tree, "./src/../a.txt") == ["a.txt"]
    assert match_sources(tree, ".") == [""]


def test_outside_or_missing_sources_fail(tmp_path: Path) -> None:
    tree = _ctx(tmp_path)
    with pytest.raises(SourceError, match="outside the build context"):
        match_sources(tree, "../etc/passwd")
    with pytest.raises(SourceError, match="no such file"):
        match_sources(tree, "nope")
    with pytest.raises(SourceError, match="matches none"):
        match_sources(tree, "*.go")


def test_ignored_entries_are_not_sources(tmp_path: Path) -> None:
    _ctx(tmp_path)
    tree = Tree(tmp_path, frozenset({"a.txt", "src", "src/x.txt"}))
    with pytest.raises(SourceError):
        match_sources(tree, "b.txt")
    assert list(tree.children("src")) == ["src/x.txt"]


def test_hash_follows_content_and_mode_not_mtime(tmp_path: Path) -> None:
    tree = _ctx(tmp_path)
    first = hash_sources(tree, ["src"])
    os.utime(tmp_path / "src" / "x.txt", (1, 1))
    assert hash_sources(tree, ["src"]) == first
    os.chmod(tmp_path / "src" / "x.txt", 0o600)
    second = hash_sources(tree, ["src"])
    assert second != first
    (tmp_path / "src" / "deep" / "y.txt").write_text("changed")
    assert hash_sources(tree, ["src"]) != second
    assert hash_sources(tree, ["a.txt"]) == hash_sources(tree, ["a.txt"])


def test_secure_join_stays_in_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/etc", root / "abs")
    os.symlink("../../../../..", root / "up")
    assert secure_join(root, "/abs/passwd") == root / "etc" / "passwd"
    assert secure_join(root, "up/etc") == root / "etc"
    assert secure_join(root, "../../x") == root / "x"


def test_read_ids_from_the_images_passwd(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:10:20::/:/bin/sh\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\nstaff:x:50:app\n")
    assert read_ids(tmp_path, "app") == (10, 20)
    assert read_ids(tmp_path, "app:staff") == (10, 50)
    assert read_ids(tmp_path, "10") == (10, 20)
    assert read_ids(tmp_path, "99:7") == (99, 7)
    with pytest.raises(Exception, match="unable to find user ghost"):
        read_ids(tmp_path, "ghost")
