"""Symlink-safe path resolution inside a root (real files in a temp dir, no root needed)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.errors import InvalidArgument
from dockyard.runtime.paths import ensure_path, secure_join


@pytest.fixture
def root(tmp_path: Path) -> str:
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "usr" / "lib").mkdir(parents=True)
    (r / "etc" / "passwd").write_text("x")
    return str(r)


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + "/")


def test_plain_paths(root: str) -> None:
    assert secure_join(root, "/etc/passwd") == f"{root}/etc/passwd"
    assert secure_join(root, "etc//./passwd") == f"{root}/etc/passwd"
    assert secure_join(root, "/") == root
    assert secure_join(root, "") == root
    assert secure_join(root, "/does/not/exist") == f"{root}/does/not/exist"


@pytest.mark.parametrize("unsafe", ["..", "/../../..", "../../etc", "usr/../../../etc"])
def test_dotdot_stops_at_the_root(root: str, unsafe: str) -> None:
    result = secure_join(root, unsafe)
    assert _inside(root, result)
    assert result in (root, f"{root}/etc")


def test_absolute_symlink_is_resolved_inside_the_root(root: str) -> None:
    os.symlink("/etc", f"{root}/data")
    assert secure_join(root, "/data/passwd") == f"{root}/etc/passwd"


def test_relative_symlink_is_resolved_from_its_directory(root: str) -> None:
    os.symlink("../etc", f"{root}/usr/conf")
    assert secure_join(root, "/usr/conf/passwd") == f"{root}/etc/passwd"
    os.symlink("lib", f"{root}/usr/lib64")
    assert secure_join(root, "usr/lib64/x") == f"{root}/usr/lib/x"


def test_symlink_escaping_with_dotdot_is_clamped(root: str) -> None:
    os.symlink("../../../../../host", f"{root}/usr/escape")
    assert secure_join(root, "/usr/escape/file") == f"{root}/host/file"


def test_dangling_symlink_resolves_to_its_target(root: str) -> None:
    os.symlink("/var/missing", f"{root}/dangling")
    assert secure_join(root, "/dangling") == f"{root}/var/missing"


def test_chained_symlinks(root: str) -> None:
    os.symlink("b", f"{root}/a")
    os.symlink("/c", f"{root}/b")
    os.symlink("etc", f"{root}/c")
    assert secure_join(root, "a/passwd") == f"{root}/etc/passwd"


@pytest.mark.parametrize(("links"), [[("loop", "loop")], [("x", "y"), ("y", "/x")]])
def test_symlink_loop_is_an_invalid_argument(root: str, links: list[tuple[str, str]]) -> None:
    for name, target in links:
        os.symlink(target, f"{root}/{name}")
    with pytest.raises(InvalidArgument, match="too many symlinks"):
        secure_join(root, f"{links[0][0]}/file")


def test_ensure_path_creates_directories(root: str) -> None:
    path = ensure_path(root, "/a/b/c", is_dir=True, mode=0o700)
    assert path == f"{root}/a/b/c"
    assert os.path.isdir(path)
    assert os.path.isdir(f"{root}/a/b")


def test_ensure_path_creates_a_file_and_its_parents(root: str) -> None:
    path = ensure_path(root, "/dev/null", is_dir=False)
    assert path == f"{root}/dev/null"
    assert os.path.isfile(path)
    assert os.path.isdir(f"{root}/dev")


def test_ensure_path_keeps_what_exists(root: str) -> None:
    assert ensure_path(root, "/etc/passwd", is_dir=False) == f"{root}/etc/passwd"
    assert Path(root, "etc", "passwd").read_text() == "x"
    assert ensure_path(root, "/etc", is_dir=True) == f"{root}/etc"
    assert ensure_path(root, "/", is_dir=True) == root


def test_ensure_path_follows_symlinks_inside_the_root(tmp_path: Path, root: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), f"{root}/evil")
    os.symlink("../../outside/dangling", f"{root}/etc/evil2")
    path = ensure_path(root, "/evil/sub/file", is_dir=False)
    assert path == f"{root}{outside}/sub/file"
    assert os.path.isfile(path)
    assert ensure_path(root, "/etc/evil2", is_dir=True) == f"{root}/outside/dangling"
    assert list(outside.iterdir()) == []


# Names a generated tree and path are drawn from: a few, so that paths hit the symlinks.
NAMES = st.sampled_from(["a", "b", "c", "..", "."])
REL = st.lists(NAMES, min_size=0, max_size=5).map("/".join)
TARGET = st.tuples(st.booleans(), REL).map(lambda t: ("/" if t[0] else "") + (t[1] or "."))
ENTRY = st.tuples(
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map("/".join),
    st.one_of(st.just(None), TARGET),
)


def _snapshot(top: str) -> set[str]:
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(top):
        found.update(os.path.join(dirpath, n) for n in dirnames + filenames)
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(ENTRY, max_size=6),
    unsafe=st.tuples(st.booleans(), REL).map(lambda t: ("/" if t[0] else "") + t[1]),
    is_dir=st.booleans(),
)
def test_results_always_stay_under_the_root(
    entries: list[tuple[str, str | None]], unsafe: str, is_dir: bool
) -> None:
    top = tempfile.mkdtemp(prefix="dockyard-paths-")
    try:
        root = os.path.join(top, "root")
        # Decoys next to the root with the names a `..` escape would reach.
        for name in ("a", "b", "c"):
            os.makedirs(os.path.join(top, name))
        os.mkdir(root)
        # Build the tree: a directory, or a symlink (to a relative or absolute target).
        for rel, target in entries:
            path = os.path.join(root, rel)
            if os.path.lexists(path) or not os.path.isdir(os.path.dirname(path)):
                continue
            if os.path.realpath(os.path.dirname(path)) != os.path.dirname(path):
                continue  # only build through real directories, never through a link
            if target is None:
                os.mkdir(path)
            else:
                os.symlink(target, path)
        outside_before = _snapshot(top) - _snapshot(root) - {root}
        try:
            joined = secure_join(root, unsafe)
            made = ensure_path(root, unsafe, is_dir=is_dir)
        except InvalidArgument:
            return  # a symlink loop: refused, nothing to check
        assert _inside(root, joined)
        assert made == joined
        assert _inside(root, made)
        assert os.path.lexists(made)
        assert os.path.realpath(made).startswith(os.path.realpath(root))
        assert _snapshot(top) - _snapshot(root) - {root} == outside_before
    finally:
        shutil.rmtree(top)
