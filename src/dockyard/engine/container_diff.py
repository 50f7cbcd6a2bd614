"""`diff`: what a container changed in its root, from its snapshot's overlay upper dir.

An entry in the upper dir is added (`A`) when no lower layer has it, else changed (`C`); an
overlay whiteout (a 0:0 character device) is a deletion (`D`); an opaque directory also deletes
whatever the layers below held in it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from dockyard.engine.service import Engine
from dockyard.errors import Unavailable

OPAQUE_XATTR = "trusted.overlay.opaque"
# Mount points the engine makes for the files it binds over the image's (spec.py). Docker keeps
# them in an init layer, so neither `diff` nor `commit` shows them.
ENGINE_FILES = ("etc/hostname", "etc/hosts", "etc/resolv.conf")


@dataclass(frozen=True)
class Layout:
    """A container's overlay: its upper dir and its lower dirs, top first."""

    upper: str
    lowers: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One line of `diff`: `kind` is A, C or D; `path` is absolute in the container."""

    kind: str
    path: str


def is_whiteout(st: os.stat_result) -> bool:
    """An overlay whiteout: a character device numbered 0:0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: str) -> bool:
    """Whether the directory hides the layers below it (overlay's opaque xattr is `y`)."""
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP, errno.ENOENT):
            return False
        raise


def is_engine_file(upper: str, relative: str, st: os.stat_result) -> bool:
    """An empty mount point the engine made for a bound file, not a change the user made."""
    return relative in ENGINE_FILES and stat.S_ISREG(st.st_mode) and st.st_size == 0


def in_lowers(lowers: tuple[str, ...], relative: str) -> bool:
    """Whether the merged lower layers hold `relative` (a whiteout or opaque dir above hides it)."""
    parts = relative.split("/")
    for lower in lowers:
        try:
            return not is_whiteout(os.lstat(os.path.join(lower, relative)))
        except (FileNotFoundError, NotADirectoryError):
            pass
        for depth in range(1, len(parts)):
            ancestor = os.path.join(lower, *parts[:depth])
            try:
                st = os.lstat(ancestor)
            except FileNotFoundError:
                break
            # This layer deleted or replaced the directory: the layers below are hidden.
            if not stat.S_ISDIR(st.st_mode) or is_opaque(ancestor):
                return False
    return False


def _lower_children(lowers: tuple[str, ...], relative: str) -> set[str]:
    names: set[str] = set()
    for lower in lowers:
        try:
            entries = list(os.scandir(os.path.join(lower, relative)))
        except (FileNotFoundError, NotADirectoryError):
            continue
        names.update(e.name for e in entries)
    return {n for n in names if in_lowers(lowers, f"{relative}/{n}".lstrip("/"))}


def changes(layout: Layout) -> list[Change]:
    """Every change in the upper dir, sorted by path (Docker's order)."""
    found: list[Change] = []

    def walk(relative: str) -> None:
        directory = os.path.join(layout.upper, relative)
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
        present = {e.name for e in entries}
        if relative and is_opaque(directory):
            for name in sorted(_lower_children(layout.lowers, relative) - present):
                found.append(Change("D", f"/{relative}/{name}"))
        for entry in entries:
            rel = f"{relative}/{entry.name}".lstrip("/")
            st = entry.stat(follow_symlinks=False)
            if is_whiteout(st):
                found.append(Change("D", "/" + rel))
                continue
            if is_engine_file(layout.upper, rel, st):
                continue
            found.append(Change("C" if in_lowers(layout.lowers, rel) else "A", "/" + rel))
            if stat.S_ISDIR(st.st_mode):
                walk(rel)

    walk("")
    return sorted(_without_bare_parents(found, layout), key=lambda c: c.path)


def _without_bare_parents(found: list[Change], layout: Layout) -> list[Change]:
    """Drop `C /etc` when only engine files changed under it and the dir itself is unchanged."""
    paths = [c.path for c in found]
    out = []
    for change in found:
        rel = change.path.lstrip("/")
        if (
            change.kind == "C"
            and any(f.startswith(rel + "/") for f in ENGINE_FILES)
            and not any(p.startswith(change.path + "/") for p in paths)
        ):
            continue
        out.append(change)
    return out


def overlay_layout(engine: Engine, container_id: str) -> Layout:
    """The upper and lower dirs of the container's snapshot."""
    for spec in engine.snapshots.mounts(container_id):
        options = dict(o.split("=", 1) for o in spec.options if "=" in o)
        if spec.type == "overlay" and "upperdir" in options:
            lowers = tuple(options.get("lowerdir", "").split(":"))
            return Layout(options["upperdir"], tuple(x for x in lowers if x))
    raise Unavailable(
        f"container {container_id} has no overlay snapshot: diff and commit need overlayfs"
    )


def diff_container(engine: Engine, text: str) -> list[Change]:
    """The changes of the container `text` names."""
    row = engine.containers.find(text)
    return changes(overlay_layout(engine, row.id))
