"""An overlay upper dir → a layer tar: whiteouts and opaque dirs in OCI form, deterministic.

The upper dir of an active overlay snapshot holds exactly what a step changed; overlayfs marks
a deletion with a 0:0 character device and a directory whose lower contents are hidden with
`trusted.overlay.opaque=y`. The OCI image spec (layer.md, "Whiteouts") writes those as
`.wh.NAME` and `DIR/.wh..wh..opq`. Entries are sorted and ownership is numeric, so the same
tree gives the same bytes; mtimes are clamped to `epoch` (SOURCE_DATE_EPOCH) when given.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockyard.errors import KernelError

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_OVERLAY_XATTR = "trusted.overlay."
_CHUNK = 1 << 20


@dataclass(frozen=True)
class LayerBlob:
    """A written layer: its digest (= diff_id, the tar is uncompressed) and size in bytes."""

    diff_id: str
    size: int
    entries: int


def walk_upper(upper: Path, rel: str = "") -> Iterator[str]:
    """Relative paths under `upper` in sorted pre-order: each directory, then its contents."""
    directory = upper / rel if rel else upper
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise KernelError("listdir", str(directory), exc.errno or 0) from exc
    for name in names:
        path = f"{rel}/{name}" if rel else name
        yield path
        if stat.S_ISDIR(os.lstat(upper / path).st_mode):
            yield from walk_upper(upper, path)


def _xattrs(path: Path) -> dict[str, bytes]:
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise KernelError("listxattr", str(path), exc.errno or 0) from exc
    return {n: os.getxattr(path, n, follow_symlinks=False) for n in names}


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _clamp(mtime: float, epoch: int | None) -> int:
    seconds = int(mtime)
    return min(seconds, epoch) if epoch is not None else seconds


def _info(name: str, st: os.stat_result, epoch: int | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = _clamp(st.st_mtime, epoch)
    return info


def tar_upper(upper: Path, out: IO[bytes], epoch: int | None = None) -> int:
    """Write the diff in `upper` as a tar to `out`; returns the number of entries."""
    links: dict[tuple[int, int], str] = {}
    count = 0
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in walk_upper(upper):
            path = upper / rel
            st = os.lstat(path)
            parent, _, base = rel.rpartition("/")
            if _is_whiteout(st):
                info = _info(f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else
                             WHITEOUT_PREFIX + base, st, epoch)  # fmt: skip
                info.mode, info.uid, info.gid = 0o644, 0, 0
                tar.addfile(info)
                count += 1
                continue
            info = _info(rel, st, epoch)
            xattrs = _xattrs(path)
            opaque = xattrs.get(_OVERLAY_XATTR + "opaque") == b"y"
            # tarfile writes undecodable values with hdrcharset=BINARY.
            info.pax_headers = {
                "SCHILY.xattr." + name: value.decode("utf-8", "surrogateescape")
                for name, value in xattrs.items()
                if not name.startswith(_OVERLAY_XATTR)
            }
            inode = (st.st_dev, st.st_ino)
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1 and inode in links:
                info.type, info.linkname = tarfile.LNKTYPE, links[inode]
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                if st.st_nlink > 1:
                    links[inode] = rel
                info.size = st.st_size
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            elif stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                if opaque:
                    marker = _info(f"{rel}/{OPAQUE_MARKER}", st, epoch)
                    marker.mode, marker.uid, marker.gid = 0o644, 0, 0
                    tar.addfile(marker)
                    count += 1
            elif stat.S_ISLNK(st.st_mode):
                info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
                tar.addfile(info)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
                info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
                tar.addfile(info)
            elif stat.S_ISFIFO(st.st_mode):
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
            else:
                continue  # sockets cannot be stored in a tar (Docker skips them too)
            count += 1
    return count


def write_layer(upper: Path, out: IO[bytes], epoch: int | None = None) -> LayerBlob:
    """Tar `upper` into the seekable file `out` and digest it; `out` is left at offset 0."""
    out.seek(0)
    out.truncate()
    entries = tar_upper(upper, out, epoch)
    return digest_file(out, entries)


def digest_file(out: IO[bytes], entries: int) -> LayerBlob:
    """The layer blob just written to `out` (rewound to offset 0)."""
    out.flush()
    out.seek(0)
    sha = hashlib.sha256()
    size = 0
    while chunk := out.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    out.seek(0)
    return LayerBlob("sha256:" + sha.hexdigest(), size, entries)


def source_date_epoch(env: dict[str, str] | os._Environ[str]) -> int | None:
    """SOURCE_DATE_EPOCH as an int, or None when unset or not a number."""
    value = env.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else None
