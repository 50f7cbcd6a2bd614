"""Execute snapshot mounts: `MountSpec`s from a snapshotter become mount(2) calls.

`plan_mounts` is pure (unit-tested without root); `mount_snapshot` and `unmount` act.
overlayfs takes its options as one page of mount data (4096 bytes): with many layers the
absolute lowerdir list does not fit. It is then given relative to the layers directory, from
a forked child that chdir()s there (containerd does the same), leaving our cwd alone; if even
that is too long (> ~60 layers), through a temp dir of one-symlink-per-layer named 0, 1, …
(Docker's `l/` short names serve the same end). overlayfs resolves the paths at mount time,
so the links are removed right after.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import KernelError, Unavailable
from dockyard.kernel import constants as k
from dockyard.kernel.syscall import LinuxSyscall, Syscall
from dockyard.storage.snapshots import MountSpec

PAGE_LIMIT = 4095  # mount data is copied into one page, NUL included
MAX_LOWERS = 500  # OVL_MAX_STACK in fs/overlayfs

FLAGS: dict[str, tuple[int, bool]] = {
    # option: (flag, set?) — "rw" clears MS_RDONLY, as mount(8) reads it.
    "ro": (k.MS_RDONLY, True),
    "rw": (k.MS_RDONLY, False),
    "bind": (k.MS_BIND, True),
    "rbind": (k.MS_BIND | k.MS_REC, True),
    "nosuid": (k.MS_NOSUID, True),
    "nodev": (k.MS_NODEV, True),
    "noexec": (k.MS_NOEXEC, True),
    "noatime": (k.MS_NOATIME, True),
    "relatime": (k.MS_RELATIME, True),
}


@dataclass(frozen=True)
class MountCall:
    """One mount(2) call. `cwd`: call it from that directory (relative lowerdirs); `links`:
    lowerdirs are indexes into this list, through a temp dir of symlinks."""

    source: str
    target: str
    fstype: str | None
    flags: int
    data: str | None
    cwd: str | None = None
    links: tuple[str, ...] = ()


def plan_mounts(mounts: Sequence[MountSpec], target: Path) -> list[MountCall]:
    """The mount(2) calls that make `mounts` at `target`, in order."""
    calls: list[MountCall] = []
    for spec in mounts:
        flags = 0
        data: list[str] = []
        for opt in spec.options:
            if opt in FLAGS:
                bit, on = FLAGS[opt]
                flags = flags | bit if on else flags & ~bit
            else:
                data.append(opt)
        fstype = None if flags & k.MS_BIND else spec.type
        joined = ",".join(data) or None
        cwd: str | None = None
        links: tuple[str, ...] = ()
        if joined and len(joined) > PAGE_LIMIT:
            cwd, joined, links = _relative_lowerdirs(data)
        calls.append(MountCall(spec.source, str(target), fstype, flags, joined, cwd, links))
        # A bind mount ignores MS_RDONLY until remounted (mount(2), "Creating a bind mount").
        if flags & k.MS_BIND and flags & k.MS_RDONLY:
            remount = k.MS_REMOUNT | k.MS_BIND | (flags & ~(k.MS_REC | k.MS_BIND))
            calls.append(MountCall("", str(target), None, remount, None))
    return calls


def mount_snapshot(
    mounts: Sequence[MountSpec], target: Path, syscall: Syscall | None = None
) -> None:
    """Make the snapshot's mounts at `target` (an existing directory)."""
    sys = syscall or LinuxSyscall()
    for call in plan_mounts(mounts, target):
        if call.cwd is None and not call.links:
            try:
                sys.mount(call.source, call.target, call.fstype, call.flags, call.data)
            except OSError as exc:
                raise KernelError(
                    f"mount {call.fstype or 'bind'}", call.target, exc.errno or 0
                ) from exc
        else:
            _mount_from(call, sys)


def unmount(target: Path, syscall: Syscall | None = None) -> None:
    """Unmount `target`; a target that is not mounted (EINVAL) or is gone is fine."""
    sys = syscall or LinuxSyscall()
    try:
        sys.umount2(str(target), 0)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOENT):
            return
        raise KernelError("umount", str(target), exc.errno or 0) from exc


def _relative_lowerdirs(data: list[str]) -> tuple[str | None, str, tuple[str, ...]]:
    """(cwd, data, links): lowerdirs relative to their common dir, or as indexes into links."""
    lowers: list[str] = []
    rest: list[str] = []
    for opt in data:
        if opt.startswith("lowerdir="):
            lowers = opt.removeprefix("lowerdir=").split(":")
        else:
            rest.append(opt)
    common = os.path.commonpath(lowers) if lowers else "/"
    if common != "/":
        rel = [os.path.relpath(p, common) for p in lowers]
        joined = ",".join([*rest, "lowerdir=" + ":".join(rel)])
        if len(joined) <= PAGE_LIMIT:
            return common, joined, ()
    if len(lowers) > MAX_LOWERS:
        raise Unavailable(
            f"{len(lowers)} overlay layers exceed the kernel's limit of {MAX_LOWERS}: "
            "flatten the image (squash layers)"
        )
    joined = ",".join([*rest, "lowerdir=" + ":".join(str(i) for i in range(len(lowers)))])
    return None, joined, tuple(lowers)


def _mount_from(call: MountCall, sys: Syscall) -> None:
    links_dir = None
    cwd = call.cwd
    if call.links:
        links_dir = tempfile.mkdtemp(prefix=".lowerdirs-", dir=os.path.dirname(call.target))
        for i, lower in enumerate(call.links):
            os.symlink(lower, os.path.join(links_dir, str(i)))
        cwd = links_dir
    assert cwd is not None
    try:
        # A child chdir()s so the parent's cwd (process-wide, shared by threads) never changes.
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.chdir(cwd)
                sys.mount(call.source, call.target, call.fstype, call.flags, call.data)
            except OSError as exc:
                code = exc.errno or 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    finally:
        if links_dir is not None:
            shutil.rmtree(links_dir)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise KernelError("mount overlay", call.target, code, f"lowerdirs relative to {cwd}")
