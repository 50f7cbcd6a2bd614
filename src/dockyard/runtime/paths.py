"""Resolve paths inside a container's root file system without ever leaving it.

A mount destination like `/data` may be a symlink in the image pointing to `/etc` of the host
(CVE-2015-3627 class): every component is resolved as if `root` were `/`, symlinks included.
"""

from __future__ import annotations

import os
import stat

from dockyard.errors import InvalidArgument

_MAX_SYMLINKS = 255


def secure_join(root: str, unsafe: str) -> str:
    """Join `unsafe` under `root`, resolving symlinks as if chrooted; the result is inside root."""
    parts = [p for p in unsafe.split("/") if p]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            resolved.append(part)
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved.append(part)
            continue
        links += 1
        if links > _MAX_SYMLINKS:
            raise InvalidArgument(f"too many symlinks resolving {unsafe!r} in {root}")
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p] + parts
    return os.path.join(root, *resolved) if resolved else root


def ensure_path(root: str, unsafe: str, *, is_dir: bool, mode: int = 0o755) -> str:
    """Create `unsafe` under `root` (directories along the way) and return its safe host path."""
    path = secure_join(root, unsafe)
    rel = os.path.relpath(path, root)
    current = root
    components = [] if rel == "." else rel.split("/")
    for i, part in enumerate(components):
        current = secure_join(root, os.path.relpath(os.path.join(current, part), root))
        last = i == len(components) - 1
        if os.path.lexists(current):
            continue
        if last and not is_dir:
            fd = os.open(current, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            os.close(fd)
        else:
            os.mkdir(current, mode)
    return path
