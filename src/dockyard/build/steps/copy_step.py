"""COPY and ADD: entries of a tree (context, stage, image) written into the step's root.

Docker's rules: a relative DEST is under WORKDIR; DEST is a directory when it ends with `/`,
when there are several sources, or when it already is one; a source directory's *contents*
are copied; owners are 0:0 unless `--chown`; `--chmod` sets every copied entry's mode; ADD
extracts local tar archives into DEST. Every write goes through `secure_join`.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.build.context_hash import Tree, expand
from dockyard.build.steps.rootfs import ensure_dir, secure_join
from dockyard.errors import InvalidArgument


@dataclass(frozen=True)
class Owner:
    """What COPY sets on the entries it writes: ids, and `--chmod` when given."""

    uid: int = 0
    gid: int = 0
    mode: int | None = None


def destination(dest: str, workdir: str) -> str:
    """DEST as an absolute in-image path (relative to WORKDIR), keeping a trailing `/`."""
    joined = posixpath.join(workdir or "/", dest)
    cleaned = posixpath.normpath(joined)
    return cleaned + "/" if dest.endswith("/") and cleaned != "/" else cleaned


def dest_is_dir(root: Path, dest: str, count: int) -> bool:
    """Whether DEST names a directory to copy into (see the module docstring)."""
    return dest.endswith("/") or count > 1 or secure_join(root, dest).is_dir()


def parse_chmod(text: str | None) -> int | None:
    """`--chmod=755` → 0o755; only octal modes are accepted (as Docker's legacy builder)."""
    if text is None:
        return None
    if not text or any(c not in "01234567" for c in text) or len(text) > 4:
        raise InvalidArgument(f"--chmod={text}: give an octal mode such as 755 or 0644")
    return int(text, 8)


def _apply(path: Path, st: os.stat_result, owner: Owner) -> None:
    os.chown(path, owner.uid, owner.gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        mode = owner.mode if owner.mode is not None else stat.S_IMODE(st.st_mode)
        os.chmod(path, mode)
    os.utime(path, ns=(st.st_mtime_ns, st.st_mtime_ns), follow_symlinks=False)


def _place(root: Path, target: str) -> Path:
    """The host path for in-image `target`, its parent made, any non-directory replaced."""
    parent, _, name = target.rstrip("/").rpartition("/")
    directory = ensure_dir(root, parent or "/")
    path = directory / name
    if os.path.lexists(path) and not path.is_dir():
        path.unlink()
    return path


def copy_entry(source: Path, root: Path, target: str, owner: Owner) -> int:
    """Copy one entry (file, link, directory node) to in-image `target`; returns bytes."""
    st = os.lstat(source)
    if stat.S_ISDIR(st.st_mode):
        path = secure_join(root, target)
        if not path.is_dir():
            path = _place(root, target)
            path.mkdir(mode=0o755)
        _apply(path, st, owner)
        return 0
    path = _place(root, target)
    if stat.S_ISLNK(st.st_mode):
        if path.is_dir():
            shutil.rmtree(path)
        os.symlink(os.readlink(source), path)
    elif stat.S_ISREG(st.st_mode):
        if path.is_dir():
            raise InvalidArgument(f"cannot copy file {source.name} over directory {target}")
        shutil.copyfile(source, path, follow_symlinks=False)
    else:
        return 0  # devices, fifos and sockets in a context are skipped, as Docker does
    _apply(path, st, owner)
    return st.st_size


def copy_sources(
    tree: Tree, sources: Sequence[str], root: Path, dest: str, owner: Owner
) -> list[str]:
    """Copy matched sources into the root at `dest` (absolute); returns written paths."""
    into_dir = dest_is_dir(root, dest, len(sources))
    base = dest.rstrip("/") or "/"
    written: list[str] = []
    dir_times: list[tuple[Path, str]] = []
    for source in sources:
        src_path = tree.root / source if source else tree.root
        if source == "" or stat.S_ISDIR(os.lstat(src_path).st_mode):
            # A directory's contents go into DEST; DEST itself gets made like a mkdir -p.
            ensure_dir(root, base, owner.uid, owner.gid)
            for rel in expand(tree, source)[1:]:
                suffix = rel[len(source) :].lstrip("/") if source else rel
                target = posixpath.join(base, suffix)
                copy_entry(tree.root / rel, root, target, owner)
                written.append(target)
                if (tree.root / rel).is_dir() and not (tree.root / rel).is_symlink():
                    dir_times.append((tree.root / rel, target))
            continue
        target = posixpath.join(base, posixpath.basename(source)) if into_dir else base
        copy_entry(src_path, root, target, owner)
        written.append(target)
    # Writing children changed the directories' mtimes: set them again, deepest first.
    for src, target in reversed(dir_times):
        st = os.lstat(src)
        path = secure_join(root, target)
        os.utime(path, ns=(st.st_mtime_ns, st.st_mtime_ns))
    return written


def write_inline(
    root: Path, dest: str, name: str, content: str, owner: Owner, *, many: bool
) -> str:
    """A heredoc source: the file `name` (in DEST when a directory) holding `content`."""
    into_dir = dest_is_dir(root, dest, 2 if many else 1)
    target = posixpath.join(dest.rstrip("/") or "/", name) if into_dir else dest
    path = _place(root, target)
    path.write_text(content)
    os.chown(path, owner.uid, owner.gid)
    os.chmod(path, owner.mode if owner.mode is not None else 0o644)
    return target


def is_archive(path: Path) -> bool:
    """Whether ADD would extract `path`: a tar, optionally gzip/bzip2/xz compressed."""
    if not path.is_file() or path.is_symlink():
        return False
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def extract_archive(archive: Path, root: Path, dest: str) -> int:
    """Unpack a tar into in-image `dest`, every member resolved inside the root."""
    base = dest.rstrip("/") or "/"
    ensure_dir(root, base)
    count = 0
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            name = posixpath.normpath("/" + member.name).lstrip("/")
            if not name or name == ".":
                continue
            target = posixpath.join(base, name)
            if member.isdir():
                path = ensure_dir(root, target)
            else:
                path = _place(root, target)
                if member.issym():
                    os.symlink(member.linkname, path)
                elif member.islnk():
                    link = posixpath.normpath("/" + member.linkname).lstrip("/")
                    os.link(secure_join(root, posixpath.join(base, link)), path)
                    count += 1
                    continue
                elif member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    with extracted, open(path, "wb") as out:
                        shutil.copyfileobj(extracted, out)
                else:
                    continue  # devices and fifos in an ADDed archive are skipped
            os.chown(path, member.uid, member.gid, follow_symlinks=False)
            if not member.issym():
                os.chmod(path, member.mode & 0o7777)
            os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
            count += 1
    return count
