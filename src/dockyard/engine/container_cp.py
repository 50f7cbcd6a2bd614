"""`cp`: copy files between a container and the host, with Docker's tar semantics.

Inside the container every path is resolved as if its root were `/` (`secure_join`), so a
symlink in the image can never make a copy read or write the host. A running container is
reached through its mounted root, a stopped one by mounting its snapshot for the copy; paths
under a bind or volume mount go to that mount's source.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockyard.engine.service import Engine
from dockyard.engine.store import ContainerRow
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.runtime.paths import secure_join


@dataclass(frozen=True)
class Placement:
    """Where a copied tree lands: extracted into `directory`, its top entry named `top`.

    `top` is "." when the source's contents (`SRC/.`) go straight into `directory`.
    """

    directory: str
    top: str


def place(
    src: str, src_is_dir: bool, dest: str, dest_kind: str | None, dest_parent_is_dir: bool
) -> Placement:
    """Docker's rules for where `src` goes at `dest` (`dest_kind`: "dir", "file" or None)."""
    name = os.path.basename(src.rstrip("/")) or "/"
    contents_only = src_is_dir and (src.endswith("/.") or src in (".", "/."))
    if dest_kind == "dir":
        return Placement(dest, "." if contents_only else name)
    if dest_kind == "file":
        if src_is_dir:
            raise InvalidArgument(f"cannot copy a directory to a file: {dest} is not a directory")
        return Placement(os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest))
    if dest.endswith("/") and not src_is_dir:
        raise NotFound(f"no such directory: {dest}: create it first or drop the trailing /")
    if not dest_parent_is_dir:
        parent = os.path.dirname(dest.rstrip("/")) or "/"
        raise NotFound(f"no such directory: {parent}: create it first")
    return Placement(
        os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest.rstrip("/")) or "."
    )


def _kind(path: str) -> str | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return "dir" if stat.S_ISDIR(st.st_mode) else "file"


@dataclass(frozen=True)
class Side:
    """One end of a copy: a file system root and a path resolved under it."""

    root: str
    path: str

    def resolve(self, *, follow_last: bool = True) -> str:
        """The host path; the last component is kept unresolved when `follow_last` is False."""
        if self.root == "/":
            return os.path.abspath(self.path) if follow_last else _no_follow(self.path)
        if follow_last:
            return secure_join(self.root, self.path)
        parent, base = os.path.split(self.path.rstrip("/") or "/")
        if base in ("", ".", ".."):
            return secure_join(self.root, self.path)
        return os.path.join(secure_join(self.root, parent), base)


def _no_follow(path: str) -> str:
    parent, base = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(parent), base)


def pack(source: Side, arcname: str, out: IO[bytes], *, follow: bool = False) -> None:
    """Write a tar of `source` (a tree, links kept as links) to `out`, its top named `arcname`."""
    host = source.resolve(follow_last=follow or source.path.endswith(("/", "/.")))
    if not os.path.lexists(host):
        raise NotFound(f"Could not find the file {source.path}: check the path")
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.add(host, arcname=arcname, recursive=True)


def _member_parts(name: str) -> list[str]:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"tar entry {name!r} leaves the destination: refusing to copy")
    return parts


def unpack(
    tar_stream: IO[bytes], root: str, directory: str, *, top: str | None, keep_owner: bool
) -> None:
    """Extract a tar under `root`+`directory`, renaming its top entry to `top`; never escapes."""
    with tarfile.open(fileobj=tar_stream, mode="r|*") as tar:
        first: str | None = None
        for member in tar:
            parts = _member_parts(member.name)
            if first is None and parts:
                first = parts[0]
            if top is not None and parts and parts[0] == first and top != ".":
                parts[0] = top
            relative = "/".join([directory.rstrip("/"), *parts])
            if not parts:
                continue  # the "." of a contents-only copy: the directory exists already
            _extract(tar, member, root, relative, keep_owner)


def _target(root: str, relative: str) -> str:
    """The host path for `relative`; missing parents are made (a tar may omit their entries)."""
    from dockyard.runtime.paths import ensure_path

    parent, base = os.path.split(relative)
    if root == "/":
        os.makedirs(parent, exist_ok=True)
        return os.path.join(os.path.realpath(parent), base)
    return os.path.join(ensure_path(root, parent, is_dir=True), base)


def _extract(
    tar: tarfile.TarFile, member: tarfile.TarInfo, root: str, relative: str, keep_owner: bool
) -> None:
    path = _target(root, relative)
    if member.isdir():
        if _kind(path) != "dir":
            _remove(path)
            os.mkdir(path, 0o700)
    else:
        _remove(path)
        if member.issym():
            os.symlink(member.linkname, path)
        elif member.islnk():
            link_parts = _member_parts(member.linkname)
            os.link(_target(root, "/".join([os.path.dirname(relative), *link_parts[1:]])), path)
            return
        elif member.isfile():
            source = tar.extractfile(member)
            assert source is not None
            with open(path, "xb") as f:
                shutil.copyfileobj(source, f)
        else:
            return  # devices and fifos are not copied (as `docker cp` without privileges)
    if keep_owner:
        os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)
        os.utime(path, (member.mtime, member.mtime))


def _remove(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


# ---- the container's side -------------------------------------------------------------------


@contextlib.contextmanager
def container_root(engine: Engine, row: ContainerRow) -> Iterator[str]:
    """The container's merged root on the host: the running mount, else a temporary one."""
    from dockyard.storage.mount import mount_snapshot, unmount

    rootfs = engine.paths.rootfs(row.id)
    if row.running and os.path.ismount(rootfs):
        yield str(rootfs)
        return
    target = Path(tempfile.mkdtemp(prefix="cp-", dir=engine.paths.container(row.id)))
    try:
        mount_snapshot(engine.snapshots.mounts(row.id), target)
        try:
            yield str(target)
        finally:
            unmount(target)
    finally:
        os.rmdir(target)


def container_side(row: ContainerRow, root: str, path: str) -> Side:
    """The side for `path` in the container: under a bind or volume mount, that mount's source."""
    if not path.startswith("/"):
        path = "/" + path  # Docker resolves relative paths against the root
    best: tuple[str, str] | None = None
    for mount in row.config.get("Mounts") or []:
        dest = str(mount.get("Destination") or "").rstrip("/")
        source = str(mount.get("Source") or "")
        if not source or not dest or not os.path.isdir(source):
            continue
        if (path == dest or path.startswith(dest + "/")) and (
            best is None or len(dest) > len(best[0])
        ):
            best = (dest, source)
    if best is None:
        return Side(root, path)
    return Side(best[1], path[len(best[0]) :] or "/")


def copy_from_container(
    engine: Engine, text: str, src: str, dest: str, *, follow: bool = False
) -> None:
    """`cp CONTAINER:SRC DEST`; DEST `-` writes a tar stream to stdout."""
    row = engine.containers.find(text)
    with container_root(engine, row) as root:
        side = container_side(row, root, src)
        if not os.path.lexists(side.resolve(follow_last=follow)):
            raise NotFound(f"Could not find the file {src} in container {row.name}")
        if dest == "-":
            out = os.fdopen(os.dup(1), "wb")
            with out:
                pack(side, os.path.basename(src.rstrip("/")) or ".", out, follow=follow)
            return
        src_is_dir = _kind(side.resolve(follow_last=follow or src.endswith("/"))) == "dir"
        dest_kind = _kind(dest)
        parent = os.path.dirname(os.path.abspath(dest.rstrip("/"))) or "/"
        where = place(
            src,
            src_is_dir,
            os.path.abspath(dest) + ("/" if dest.endswith("/") else ""),
            dest_kind,
            _kind(parent) == "dir",
        )
        with tempfile.TemporaryFile() as spool:
            pack(side, "." if where.top == "." else where.top, spool, follow=follow)
            spool.seek(0)
            unpack(spool, "/", where.directory, top=None, keep_owner=False)


def copy_to_container(
    engine: Engine, text: str, src: str, dest: str, *, archive: bool = False, follow: bool = False
) -> None:
    """`cp SRC CONTAINER:DEST`; SRC `-` reads a tar stream from stdin into the directory DEST."""
    row = engine.containers.find(text)
    if src != "-" and not os.path.lexists(src):
        raise NotFound(f"Could not find the file {src}: no such file or directory on the host")
    with container_root(engine, row) as root:
        side = container_side(row, root, dest)
        if side.root == root and (row.config.get("HostConfig") or {}).get("ReadonlyRootfs"):
            raise Conflict(
                f"container rootfs is marked read-only: copy into a volume of {row.name} instead"
            )
        target = side.resolve()
        dest_kind = _kind(target)
        if src == "-":
            if dest_kind != "dir":
                raise NotFound(f"destination directory {dest} must exist in container {row.name}")
            with os.fdopen(os.dup(0), "rb") as stream:
                unpack(stream, side.root, side.path, top=None, keep_owner=archive)
            return
        src_is_dir = _kind(src if follow or src.endswith("/") else _no_follow(src)) == "dir"
        parent = Side(side.root, os.path.dirname(side.path.rstrip("/")) or "/").resolve()
        where = place(src, src_is_dir, side.path, dest_kind, _kind(parent) == "dir")
        with tempfile.TemporaryFile() as spool:
            pack(Side("/", src), where.top, spool, follow=follow)
            spool.seek(0)
            unpack(spool, side.root, where.directory, top=None, keep_owner=archive)
