"""Unpack one layer tar stream into a directory, safely, turning whiteouts into overlay form.

Every path is resolved component by component from the layer directory's fd with O_NOFOLLOW,
so no entry can reach outside it through `..`, an absolute name, or a symlink made by an
earlier entry (CVE-2018-15664 / CVE-2019-14271 class). Absolute names are made relative (as
Docker does); `..` that climbs above the root, paths through symlinks, hardlinks to targets
missing from the layer and (unless allowed) device nodes are rejected.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockyard.errors import InvalidArgument, KernelError
from dockyard.storage.decompress import Compression, LayerReader, SourceError
from dockyard.storage.layers import DEFAULT_WORKERS
from dockyard.storage.write_pool import WritePool

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
# xattrs a layer may not set: overlayfs reads these from lower dirs (redirect, metacopy, ...),
# so a hostile layer could point the merged view at other layers' files.
FORBIDDEN_XATTR_PREFIX = "trusted.overlay."
PAX_XATTR = "SCHILY.xattr."
WRITE_CHUNK = 1 << 20
# tarfile's stream mode re-slices its whole buffer on every read: a large one costs O(n^2).
TAR_BUFSIZE = 64 << 10
DIR_CACHE_LIMIT = 4096
# Files up to this size are read into memory and written by the pool; larger ones inline.
POOLED_FILE_MAX = 1 << 20

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class UnpackResult:
    """What unpacking produced: the computed diff-ID and the bytes of file content written."""

    diff_id: str
    size: int
    compression: Compression


def clean_name(name: str) -> str:
    """A tar member name as a relative path inside the layer ("" is the root); rejects escapes."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise InvalidArgument(
                    f"layer entry {name!r} points outside the layer: the image is malicious "
                    "or corrupt, do not use it"
                )
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def unpack(
    source: IO[bytes],
    dest: Path,
    *,
    expected_diff_id: str | None = None,
    allow_devices: bool = False,
    workers: int = DEFAULT_WORKERS,
) -> UnpackResult:
    """Unpack a (compressed) layer into the existing empty directory `dest`; verifies the diff-ID.

    `workers` threads create new files (1: all on this thread). On error `dest` holds a
    partial tree: the caller unpacks into a temp dir and removes it.
    """
    with LayerReader(source) as reader:
        extractor = _Extractor(dest, allow_devices, WritePool(workers))
        try:
            with tarfile.open(fileobj=reader, mode="r|", bufsize=TAR_BUFSIZE) as tar:  # type: ignore[call-overload]
                for member in tar:
                    extractor.entry(tar, member)
            extractor.finish()
            diff_id = reader.diff_id()
        except tarfile.TarError as exc:
            raise InvalidArgument(
                f"layer is not a valid tar stream ({exc}): fetch the blob again"
            ) from exc
        except SourceError as exc:
            raise exc.original from None
        finally:
            extractor.close()
    if expected_diff_id is not None and diff_id != expected_diff_id:
        raise InvalidArgument(
            f"layer diff-ID mismatch: expected {expected_diff_id}, got {diff_id}: the blob does "
            "not match the image config, fetch it again"
        )
    return UnpackResult(diff_id, extractor.size, reader.compression)


class _Extractor:
    """Applies tar members under one root fd; holds a cache of opened directory fds."""

    def __init__(self, dest: Path, allow_devices: bool, pool: WritePool) -> None:
        self.dest = dest
        self.allow_devices = allow_devices
        self.pool = pool
        # Paths an earlier entry made (or an implicit parent dir): an entry for one of these
        # replaces it and must wait for the pool; a new path can go to the pool.
        self.seen: set[str] = set()
        self.root_fd = os.open(dest, _O_DIR)
        # Keep well under the fd limit (1024 is common), leaving room for concurrent unpacks.
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.cache_limit = max(8, min(DIR_CACHE_LIMIT, soft // 8))
        self.dirs: dict[str, int] = {}
        self.new_gid: dict[int, int] = {}  # dir fd -> group a new entry in it gets
        self.stale = False
        self.dir_times: list[tuple[str, int]] = []
        self.euid = os.geteuid()
        self.egid = os.getegid()
        self.umask = _current_umask()
        self.size = 0

    def close(self) -> None:
        self.pool.close()  # before closing the dir fds its jobs write into
        self._drop_cache()
        os.close(self.root_fd)

    def entry(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        rel = clean_name(member.name)
        # Only between entries: an fd handed out during one entry must stay open through it.
        if self.stale or len(self.dirs) >= self.cache_limit:
            self.pool.wait_all()
            self._drop_cache()
        try:
            self._entry(tar, member, rel)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise InvalidArgument(
                    f"layer entry {member.name!r} goes through a symlink or a non-directory: "
                    "the image is malicious or corrupt, do not use it"
                ) from exc
            raise KernelError("unpack", f"{self.dest}/{rel}", exc.errno or 0) from exc

    def finish(self) -> None:
        """Set directory mtimes last: creating their children changed them."""
        self.pool.wait_all()
        self._drop_cache()
        for rel, mtime in reversed(self.dir_times):
            if len(self.dirs) >= self.cache_limit:
                self._drop_cache()
            try:
                fd = self._dir_fd(rel, create=False)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                    continue  # replaced by a later entry
                raise
            os.utime(fd, ns=(mtime, mtime))

    # one member

    def _entry(self, tar: tarfile.TarFile, m: tarfile.TarInfo, rel: str) -> None:
        m.mode &= 0o7777  # some writers put the file-type bits in the mode field too
        if rel == "":
            if m.isdir():
                self._dir_meta(self.root_fd, m, rel)
            return
        parent, _, base = rel.rpartition("/")
        if base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parent, base, m)
            return
        pfd = self._dir_fd(parent)
        new = rel not in self.seen
        if not new:
            self.pool.wait(rel)
        self.seen.add(rel)
        if m.isdir():
            self._mkdir(pfd, base, m, rel)
        elif m.isreg() and new and m.size <= POOLED_FILE_MAX:
            self._pooled_file(tar, pfd, base, m, rel)
        elif m.isreg():
            self._file(tar, pfd, base, m)
        elif m.issym():
            self._symlink(pfd, base, m)
        elif m.islnk():
            self._hardlink(pfd, base, m)
        elif m.ischr() or m.isblk():
            if not self.allow_devices:
                raise InvalidArgument(
                    f"layer entry {m.name!r} is a device node, not allowed here: "
                    "enable device nodes for this unpack if the image is trusted"
                )
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            dev = os.makedev(m.devmajor, m.devminor)
            self._create(pfd, base, lambda: os.mknod(base, kind | m.mode, dev, dir_fd=pfd))
            self._meta_at(pfd, base, m)
        elif m.isfifo():
            self._create(pfd, base, lambda: os.mkfifo(base, m.mode, dir_fd=pfd))
            self._meta_at(pfd, base, m)
        # Other types (GNU volume headers, ...) carry nothing to unpack.

    def _whiteout(self, parent: str, base: str, m: tarfile.TarInfo) -> None:
        pfd = self._dir_fd(parent)
        if base == WHITEOUT_OPAQUE:
            os.setxattr(pfd, OPAQUE_XATTR, b"y")
            return
        if base.startswith(WHITEOUT_META_PREFIX):
            return  # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): nothing in overlay form
        name = base[len(WHITEOUT_PREFIX) :]
        if name in ("", ".", ".."):
            raise InvalidArgument(f"layer entry {m.name!r} is a malformed whiteout: bad image")
        hidden = f"{parent}/{name}" if parent else name
        self.pool.wait(hidden)
        self.seen.add(hidden)
        # An overlay whiteout is a 0:0 character device (Documentation/filesystems/overlayfs).
        self._create(pfd, name, lambda: os.mknod(name, stat.S_IFCHR, 0, dir_fd=pfd))

    def _mkdir(self, pfd: int, base: str, m: tarfile.TarInfo, rel: str) -> None:
        try:
            os.mkdir(base, m.mode & 0o777, dir_fd=pfd)
        except FileExistsError:
            st = os.stat(base, dir_fd=pfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                os.unlink(base, dir_fd=pfd)
                os.mkdir(base, m.mode & 0o777, dir_fd=pfd)
        fd = self._dir_fd(rel)
        self._dir_meta(fd, m, rel)

    def _dir_meta(self, fd: int, m: tarfile.TarInfo, rel: str) -> None:
        st = os.fstat(fd)
        chowned = (st.st_uid, st.st_gid) != (m.uid, m.gid)
        if chowned:
            os.fchown(fd, m.uid, m.gid)
        if chowned or stat.S_IMODE(st.st_mode) != m.mode:
            os.fchmod(fd, m.mode)
            self.new_gid.pop(fd, None)
        self._xattrs(fd, m)
        self.dir_times.append((rel, _ns(m.mtime)))

    def _file(self, tar: tarfile.TarFile, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        fd = self._create(pfd, base, lambda: os.open(base, _O_NEW_FILE, m.mode & 0o777, dir_fd=pfd))
        try:
            if m.size:
                src = tar.extractfile(m)
                assert src is not None  # regular members always have data
                while chunk := src.read(WRITE_CHUNK):
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                self.size += m.size
            self._fd_meta(fd, m, inherited_gid=self._new_gid(pfd))
            os.utime(fd, ns=(_ns(m.mtime), _ns(m.mtime)))
        finally:
            os.close(fd)

    def _pooled_file(
        self, tar: tarfile.TarFile, pfd: int, base: str, m: tarfile.TarInfo, rel: str
    ) -> None:
        src = tar.extractfile(m)
        assert src is not None  # regular members always have data
        data = src.read()
        gid = self._new_gid(pfd)
        self.size += m.size

        def job() -> None:
            try:
                fd = os.open(base, _O_NEW_FILE, m.mode & 0o777, dir_fd=pfd)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    self._fd_meta(fd, m, inherited_gid=gid)
                    os.utime(fd, ns=(_ns(m.mtime), _ns(m.mtime)))
                finally:
                    os.close(fd)
            except OSError as exc:
                raise KernelError("unpack", f"{self.dest}/{rel}", exc.errno or 0) from exc

        self.pool.submit(rel, job, len(data))

    def _symlink(self, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        self._create(pfd, base, lambda: os.symlink(m.linkname, base, dir_fd=pfd))
        if (m.uid, m.gid) != (self.euid, self._new_gid(pfd)):
            os.chown(base, m.uid, m.gid, dir_fd=pfd, follow_symlinks=False)
        os.utime(base, ns=(_ns(m.mtime), _ns(m.mtime)), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        target = clean_name(m.linkname)
        self.pool.wait(target)
        tparent, _, tbase = target.rpartition("/")
        try:
            tfd = self._dir_fd(tparent, create=False)
            os.stat(tbase, dir_fd=tfd, follow_symlinks=False)
        except FileNotFoundError:
            raise InvalidArgument(
                f"layer entry {m.name!r} is a hardlink to {m.linkname!r}, which is not in the "
                "layer: the image is malicious or corrupt, do not use it"
            ) from None
        self._create(
            pfd,
            base,
            lambda: os.link(tbase, base, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False),
        )

    # helpers

    def _create(self, pfd: int, base: str, make: Callable[[], int | None]) -> int:
        """Run `make`; if the name exists, remove what is there (this layer's own entry) first."""
        try:
            return make() or 0
        except FileExistsError:
            self._remove(pfd, base)
            return make() or 0

    def _remove(self, pfd: int, base: str) -> None:
        st = os.stat(base, dir_fd=pfd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            # fd-based walk, never follows symlinks; cached fds below it become stale.
            self.pool.wait_all()  # jobs may be writing inside it
            shutil.rmtree(base, dir_fd=pfd)
            self.stale = True
        else:
            os.unlink(base, dir_fd=pfd)

    def _meta_at(self, pfd: int, base: str, m: tarfile.TarInfo) -> None:
        # We just made this node and nothing else writes the layer dir, so plain calls are safe.
        os.chown(base, m.uid, m.gid, dir_fd=pfd, follow_symlinks=False)
        os.chmod(base, m.mode, dir_fd=pfd)
        os.utime(base, ns=(_ns(m.mtime), _ns(m.mtime)), dir_fd=pfd, follow_symlinks=False)

    def _fd_meta(self, fd: int, m: tarfile.TarInfo, inherited_gid: int) -> None:
        # Skip calls that change nothing: a new file already has our uid/gid and mode&~umask.
        chowned = (m.uid, m.gid) != (self.euid, inherited_gid)
        if chowned:
            os.fchown(fd, m.uid, m.gid)  # clears set-id bits, so chmod comes after
        if chowned or m.mode & 0o7000 or (m.mode & 0o777 & ~self.umask) != m.mode:
            os.fchmod(fd, m.mode)
        self._xattrs(fd, m)

    def _xattrs(self, fd: int, m: tarfile.TarInfo) -> None:
        for key, value in m.pax_headers.items():
            if not key.startswith(PAX_XATTR):
                continue
            name = key[len(PAX_XATTR) :]
            if name.startswith(FORBIDDEN_XATTR_PREFIX):
                continue
            os.setxattr(fd, name, value.encode("utf-8", "surrogateescape"))

    def _new_gid(self, pfd: int) -> int:
        # A set-gid directory hands its group to new entries (inode(7)).
        gid = self.new_gid.get(pfd)
        if gid is None:
            st = os.fstat(pfd)
            gid = st.st_gid if st.st_mode & stat.S_ISGID else self.egid
            self.new_gid[pfd] = gid
        return gid

    def _dir_fd(self, rel: str, *, create: bool = True) -> int:
        """An fd of directory `rel`, walked from the root without following any symlink."""
        if rel == "":
            return self.root_fd
        cached = self.dirs.get(rel)
        if cached is not None:
            return cached
        self.pool.wait(rel)  # a pooled file may be about to take this name
        parent, _, base = rel.rpartition("/")
        pfd = self._dir_fd(parent, create=create)
        try:
            fd = os.open(base, _O_DIR, dir_fd=pfd)
        except FileNotFoundError:
            if not create:
                raise
            # Parents missing from the tar are made as tar does: 0755, owned by us.
            os.mkdir(base, 0o755, dir_fd=pfd)
            self.seen.add(rel)
            fd = os.open(base, _O_DIR, dir_fd=pfd)
        self.dirs[rel] = fd
        return fd

    def _drop_cache(self) -> None:
        for fd in self.dirs.values():
            os.close(fd)
        self.dirs.clear()
        self.new_gid.clear()
        self.stale = False


def _ns(mtime: float) -> int:
    return int(mtime * 1_000_000_000)


def _current_umask() -> int:
    # Read, not set-and-restore: os.umask() would change it process-wide for a moment.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022
