"""Apply an unpacked layer (overlay form) onto a flat directory, as overlayfs would merge it.

Used by the copy snapshotter. Whiteouts (0:0 character devices) delete, opaque directories
(`trusted.overlay.opaque=y`) hide what was below, a directory over a non-directory replaces it.
Sources are layer directories we unpacked ourselves; the destination is walked with lstat
only, so a symlink from a lower layer is replaced, never followed.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

from dockyard.storage.unpack import FORBIDDEN_XATTR_PREFIX, OPAQUE_XATTR


def apply_layer(src: Path, dest: Path) -> None:
    """Merge the layer directory `src` onto `dest` (which exists)."""
    _apply_dir(str(src), str(dest), {})
    _copy_meta(str(src), str(dest), os.lstat(src))


def _apply_dir(src: str, dest: str, links: dict[tuple[int, int], str]) -> None:
    for entry in os.scandir(src):
        s = entry.path
        t = os.path.join(dest, entry.name)
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            _remove(t)  # whiteout
            continue
        if stat.S_ISDIR(st.st_mode):
            existing = _lstat(t)
            if existing is not None and (not stat.S_ISDIR(existing.st_mode) or _is_opaque(s)):
                _remove(t)
                existing = None
            if existing is None:
                os.mkdir(t, 0o700)
            _apply_dir(s, t, links)
            _copy_meta(s, t, st)
            continue
        if _lstat(t) is not None:
            _remove(t)
        ident = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and ident in links:
            os.link(links[ident], t, follow_symlinks=False)
            continue
        if stat.S_ISREG(st.st_mode):
            shutil.copyfile(s, t, follow_symlinks=False)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s), t)
        elif stat.S_ISFIFO(st.st_mode):
            os.mkfifo(t, 0o600)
        else:
            os.mknod(t, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev)
        _copy_meta(s, t, st)
        if st.st_nlink > 1:
            links[ident] = t


def _copy_meta(src: str, dest: str, st: os.stat_result) -> None:
    os.chown(dest, st.st_uid, st.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dest, stat.S_IMODE(st.st_mode))
        for name in os.listxattr(src, follow_symlinks=False):
            if not name.startswith(FORBIDDEN_XATTR_PREFIX):
                value = os.getxattr(src, name, follow_symlinks=False)
                os.setxattr(dest, name, value, follow_symlinks=False)
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError as exc:
        if exc.errno == errno.ENODATA:
            return False
        raise


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _remove(path: str) -> None:
    st = _lstat(path)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
