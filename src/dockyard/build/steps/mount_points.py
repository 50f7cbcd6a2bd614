"""Mount points a RUN container needs, made on the step's root and taken away afterwards.

A bind or tmpfs over a path the image lacks needs a file or directory there, and making it
writes into the snapshot's upper dir — and overlay copies each parent directory up to hold it.
None of that is the step's work, so none of it may reach the layer: after the run every
point made is removed (if still empty) and every parent copied up only for it (still empty,
not opaque) goes too. Paths the command itself wrote to stay.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.build.steps.rootfs import secure_join


@dataclass
class MadePoints:
    """What `make_points` created: paths in the merged root, and parents new in the upper."""

    rootfs: Path
    upper: Path
    made: list[Path] = field(default_factory=list)  # in creation order
    copied_up: list[str] = field(default_factory=list)  # relative paths, parents first


def make_points(result: MadePoints, points: Sequence[tuple[str, bool]]) -> None:
    """Make each missing mount point (a dir, or an empty file when not `is_dir`), recording
    each in `result` as it goes (so a failure half-way can still be undone)."""
    rootfs, upper = result.rootfs, result.upper
    for dest, is_dir in points:
        target = secure_join(rootfs, dest)
        if os.path.lexists(target):
            continue
        rel_parts = target.relative_to(rootfs).parts
        for depth in range(1, len(rel_parts)):
            rel = "/".join(rel_parts[:depth])
            if not os.path.lexists(upper / rel) and rel not in result.copied_up:
                result.copied_up.append(rel)
        missing: list[Path] = []
        probe = target
        while not os.path.lexists(probe) and probe != rootfs:
            missing.append(probe)
            probe = probe.parent
        for path in reversed(missing):
            if path == target and not is_dir:
                path.touch(mode=0o644)
            else:
                path.mkdir(mode=0o755)
            result.made.append(path)


def remove_points(points: MadePoints) -> None:
    """Undo `make_points`, keeping anything the command wrote."""
    for path in reversed(points.made):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            elif path.stat().st_size == 0:
                path.unlink()
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.ENOENT, errno.EBUSY):
                raise
    for rel in reversed(points.copied_up):
        directory = points.upper / rel
        if _opaque(directory):
            continue
        try:
            directory.rmdir()
        except OSError as exc:
            # Not empty (the command wrote there), gone, or not a directory: keep it.
            if exc.errno not in (errno.ENOTEMPTY, errno.ENOENT, errno.ENOTDIR):
                raise


@contextlib.contextmanager
def mount_points(rootfs: Path, upper: Path, points: Sequence[tuple[str, bool]]) -> Iterator[None]:
    """Mount points made for the duration of the block."""
    made = MadePoints(rootfs, upper)
    try:
        make_points(made, points)
        yield
    finally:
        remove_points(made)


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False  # no such dir, or no such xattr (ENODATA)
