"""COPY without a writable snapshot: plan the layer's entries, then write them as the tar.

Writing the files into an overlay and then unpacking the diff creates every file twice; a
COPY layer's content is known in advance, so it is planned as data (`plan_copy`, resolved
against a read-only view of the image) and streamed straight into the layer tar
(`write_entries`). Missing parent directories are added with the view's metadata, as
overlay's copy-up would record them, so the layer never hides a lower directory's mode.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockyard.build.context_hash import Tree, expand
from dockyard.build.steps.copy_step import Owner, dest_is_dir
from dockyard.build.steps.rootfs import secure_join
from dockyard.errors import InvalidArgument


@dataclass(frozen=True)
class CopyEntry:
    """One entry of a COPY layer: its in-layer path and what to write there."""

    path: str  # relative to the image root, no leading slash
    kind: str  # "dir" | "file" | "symlink"
    mode: int
    uid: int
    gid: int
    mtime: int
    source: Path | None = None  # file content to read
    linkname: str = ""
    content: bytes | None = None  # inline content (heredoc)

    @property
    def size(self) -> int:
        """Bytes of content the entry carries."""
        if self.kind != "file":
            return 0
        if self.content is not None:
            return len(self.content)
        assert self.source is not None
        return os.lstat(self.source).st_size


@dataclass
class CopyPlanner:
    """Collects a COPY's entries, resolving each target against the view at `view`."""

    view: Path
    owner: Owner
    entries: dict[str, CopyEntry]

    @classmethod
    def on(cls, view: Path, owner: Owner) -> CopyPlanner:
        """A planner for a COPY onto the image mounted read-only at `view`."""
        return cls(view, owner, {})

    def resolve(self, target: str) -> str:
        """`target` (absolute in the image) with its parent's symlinks resolved, relative."""
        parent, _, name = target.rstrip("/").rpartition("/")
        real_parent = secure_join(self.view, parent or "/")
        rel_parent = real_parent.relative_to(self.view).as_posix()
        rel_parent = "" if rel_parent == "." else rel_parent
        self._parents(rel_parent)
        return f"{rel_parent}/{name}" if rel_parent else name

    def _parents(self, rel: str) -> None:
        if not rel or rel in self.entries:
            return
        parent = rel.rpartition("/")[0]
        self._parents(parent)
        try:
            st = os.lstat(self.view / rel)
        except FileNotFoundError:
            now = int(time.time())
            self.entries[rel] = CopyEntry(rel, "dir", 0o755, self.owner.uid, self.owner.gid, now)
            return
        if not stat.S_ISDIR(st.st_mode):
            raise InvalidArgument(f"/{rel} exists in the image and is not a directory")
        self.entries[rel] = CopyEntry(
            rel, "dir", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, int(st.st_mtime)
        )

    def add_source(self, source: Path, target: str) -> None:
        """The entry for copying `source` (file, link or directory node) to `target`."""
        st = os.lstat(source)
        rel = self.resolve(target)
        mode = self.owner.mode if self.owner.mode is not None else stat.S_IMODE(st.st_mode)
        uid, gid, mtime = self.owner.uid, self.owner.gid, int(st.st_mtime)
        if stat.S_ISDIR(st.st_mode):
            self.entries[rel] = CopyEntry(rel, "dir", mode, uid, gid, mtime)
        elif stat.S_ISLNK(st.st_mode):
            link = os.readlink(source)
            self.entries[rel] = CopyEntry(rel, "symlink", 0o777, uid, gid, mtime, linkname=link)
        elif stat.S_ISREG(st.st_mode):
            if (self.view / rel).is_dir() and not (self.view / rel).is_symlink():
                raise InvalidArgument(f"cannot copy file {source.name} over directory /{rel}")
            self.entries[rel] = CopyEntry(rel, "file", mode, uid, gid, mtime, source=source)
        # devices, fifos and sockets in a context are skipped, as Docker does

    def add_dir(self, target: str) -> None:
        """DEST itself, made like `mkdir -p` when the image lacks it."""
        if not target.strip("/"):
            return
        rel = self.resolve(target)
        if not os.path.lexists(self.view / rel):
            self._parents(rel)

    def add_inline(self, target: str, content: bytes, mtime: int) -> None:
        """A heredoc source written as a file."""
        rel = self.resolve(target)
        mode = self.owner.mode if self.owner.mode is not None else 0o644
        self.entries[rel] = CopyEntry(
            rel, "file", mode, self.owner.uid, self.owner.gid, mtime, content=content
        )


def plan_sources(
    planner: CopyPlanner, tree: Tree, sources: Sequence[str], dest: str, count: int
) -> None:
    """Add the entries of copying `sources` of `tree` to `dest` (Docker's rules)."""
    into_dir = dest_is_dir(planner.view, dest, count)
    base = dest.rstrip("/") or "/"
    for source in sources:
        src_path = tree.root / source if source else tree.root
        if source == "" or stat.S_ISDIR(os.lstat(src_path).st_mode):
            planner.add_dir(base)
            for rel in expand(tree, source)[1:]:
                suffix = rel[len(source) :].lstrip("/") if source else rel
                planner.add_source(tree.root / rel, posixpath.join(base, suffix))
            continue
        target = posixpath.join(base, posixpath.basename(source)) if into_dir else base
        planner.add_source(src_path, target)


def write_entries(entries: dict[str, CopyEntry], out: IO[bytes], epoch: int | None) -> int:
    """Write the planned entries as a tar (parents first, sorted); returns the count."""
    ordered = sorted(entries.values(), key=lambda e: e.path.split("/"))
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in ordered:
            info = tarfile.TarInfo(entry.path)
            info.mode, info.uid, info.gid = entry.mode, entry.uid, entry.gid
            info.uname = info.gname = ""
            info.mtime = min(entry.mtime, epoch) if epoch is not None else entry.mtime
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry.linkname
                tar.addfile(info)
            elif entry.content is not None:
                info.size = len(entry.content)
                tar.addfile(info, io.BytesIO(entry.content))
            else:
                assert entry.source is not None
                with open(entry.source, "rb") as f:
                    info.size = os.fstat(f.fileno()).st_size
                    tar.addfile(info, f)
    return len(ordered)
