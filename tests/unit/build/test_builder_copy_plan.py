"""COPY planned as layer entries: DEST rules, parents from the image, symlinks, the tar."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.build.context_hash import Tree
from dockyard.build.steps.copy_plan import CopyPlanner, plan_sources, write_entries
from dockyard.build.steps.copy_step import Owner
from dockyard.errors import InvalidArgument


@pytest.fixture
def view(tmp_path: Path) -> Path:
    """An image view: /tmp (1777), /usr/bin, /app -> /srv/app (absolute link)."""
    root = tmp_path / "view"
    (root / "tmp").mkdir(parents=True)
    os.chmod(root / "tmp", 0o1777)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "srv" / "app").mkdir(parents=True)
    os.symlink("/srv/app", root / "app")
    return root


@pytest.fixture
def ctx(tmp_path: Path) -> Tree:
    root = tmp_path / "ctx"
    (root / "dir" / "sub").mkdir(parents=True)
    (root / "dir" / "sub" / "f").write_text("f")
    (root / "one.txt").write_text("1")
    os.symlink("one.txt", root / "link")
    return Tree(root)


def _tar(planner: CopyPlanner) -> dict[str, tarfile.TarInfo]:
    buf = io.BytesIO()
    write_entries(planner.entries, buf, epoch=None)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_file_into_existing_dir_keeps_parent_metadata(view: Path, ctx: Tree) -> None:
    planner = CopyPlanner.on(view, Owner())
    plan_sources(planner, ctx, ["one.txt"], "/tmp", 1)
    members = _tar(planner)
    assert list(members) == ["tmp", "tmp/one.txt"]
    assert members["tmp"].mode == 0o1777  # the image's mode, not a default 0755


def test_directory_contents_go_into_a_new_dest_owned_by_chown(view: Path, ctx: Tree) -> None:
    planner = CopyPlanner.on(view, Owner(uid=7, gid=8))
    plan_sources(planner, ctx, ["dir"], "/opt/new/", 1)
    members = _tar(planner)
    assert list(members) == ["opt", "opt/new", "opt/new/sub", "opt/new/sub/f"]
    assert all((m.uid, m.gid) == (7, 8) for m in members.values())


def test_symlinks_in_the_image_are_followed_inside_it(view: Path, ctx: Tree) -> None:
    planner = CopyPlanner.on(view, Owner(mode=0o600))
    plan_sources(planner, ctx, ["one.txt", "link"], "/app/", 2)
    members = _tar(planner)
    assert set(members) == {"srv", "srv/app", "srv/app/one.txt", "srv/app/link"}
    assert members["srv/app/link"].issym() and members["srv/app/link"].linkname == "one.txt"
    assert members["srv/app/one.txt"].mode == 0o600


def test_file_to_a_new_name_and_errors(view: Path, ctx: Tree) -> None:
    planner = CopyPlanner.on(view, Owner())
    plan_sources(planner, ctx, ["one.txt"], "/usr/bin/renamed", 1)
    assert "usr/bin/renamed" in _tar(planner)
    into = CopyPlanner.on(view, Owner())
    plan_sources(into, ctx, ["one.txt"], "/usr/bin", 1)  # an existing dir: copied into it
    assert "usr/bin/one.txt" in into.entries
    (view / "usr" / "bin" / "one.txt").mkdir()
    with pytest.raises(InvalidArgument, match="over directory"):
        plan_sources(CopyPlanner.on(view, Owner()), ctx, ["one.txt"], "/usr/bin", 1)
    (view / "file").write_text("x")
    with pytest.raises(InvalidArgument, match="not a directory"):
        plan_sources(CopyPlanner.on(view, Owner()), ctx, ["one.txt"], "/file/x/", 1)


def test_inline_content_and_epoch_clamp(view: Path) -> None:
    planner = CopyPlanner.on(view, Owner())
    planner.add_inline("/etc/motd", b"hello\n", mtime=5_000)
    buf = io.BytesIO()
    assert write_entries(planner.entries, buf, epoch=1_000) == 2
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        motd = tar.getmember("etc/motd")
        assert motd.mtime == 1_000 and motd.mode == 0o644
        assert tar.extractfile(motd).read() == b"hello\n"  # type: ignore[union-attr]
