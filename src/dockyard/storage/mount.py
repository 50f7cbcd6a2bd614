"""Execute snapshot mounts: `MountSpec`s from a snapshotter become mount(2) calls.

`plan_mounts` is pure (unit-tested without root); `mount_snapshot` and `unmount` act.
overlayfs takes its options as one page of mount data (4096 bytes): with many layers the
absolute lowerdir list does not fit, so it is then given relative to the layers directory
from a forked child that chdir()s there (containerd does the same), leaving our cwd alone.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import KernelError, Unavailable
from dockyard.kernel import constants as k
from dockyard.kernel.syscall import LinuxSyscall, Syscall
from dockyard.storage.snapshots import MountSpec

PAGE_LIMIT = 4095  # mount data is copied into one page, NUL included

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
    """One mount(2) call; `cwd` set means: call it from that directory (relative data)."""

    source: str
    target: str
    fstype: str | None
    flags: int
    data: str | None
    cwd: str | None = None


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
        cwd = None
        if joined and len(joined) > PAGE_LIMIT:
            cwd, joined = _relative_lowerdirs(data)
        calls.append(MountCall(spec.source, str(target), fstype, flags, joined, cwd))
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
        if call.cwd is None:
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


def _relative_lowerdirs(data: list[str]) -> tuple[str, str]:
    lowers: list[str] = []
    rest: list[str] = []
    for opt in data:
        if opt.startswith("lowerdir="):
            lowers = opt.removeprefix("lowerdir=").split(":")
        else:
            rest.append(opt)
    common = os.path.commonpath(lowers) if lowers else ""
    if not common or common == "/":
        raise Unavailable(
            f"{len(lowers)} overlay layers do not fit in one mount: flatten the image"
        )
    rel = [os.path.relpath(p, common) for p in lowers]
    joined = ",".join([*rest, "lowerdir=" + ":".join(rel)])
    if len(joined) > PAGE_LIMIT:
        raise Unavailable(
            f"{len(lowers)} overlay layers exceed the kernel's mount data limit: "
            "flatten the image (squash layers)"
        )
    return common, joined


def _mount_from(call: MountCall, sys: Syscall) -> None:
    # A child chdir()s so the parent's cwd (process-wide, shared by threads) never changes.
    assert call.cwd is not None
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.chdir(call.cwd)
            sys.mount(call.source, call.target, call.fstype, call.flags, call.data)
        except OSError as exc:
            code = exc.errno or 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise KernelError("mount overlay", call.target, code, "lowerdirs relative to " + call.cwd)
