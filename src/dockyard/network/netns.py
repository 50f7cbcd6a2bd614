"""Named network namespaces: a new netns kept alive by a bind mount on a file (`ip netns add`)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from dockyard.errors import KernelError
from dockyard.kernel.constants import CLONE_NEWNET, MNT_DETACH, MS_BIND
from dockyard.kernel.syscall import LinuxSyscall, Syscall


def create_netns(path: Path, syscall: Syscall | None = None) -> None:
    """Make a new network namespace and bind-mount it on `path` (created, must not be a netns)."""
    sys = syscall or LinuxSyscall()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    except FileExistsError:
        raise KernelError("create netns", str(path), errno.EEXIST, "remove it first") from None
    os.close(fd)
    failure: list[OSError] = []

    def in_thread() -> None:
        # The network namespace is per thread: unsharing in a throw-away thread leaves the
        # caller's threads where they are, and no fork is needed in a threaded process.
        try:
            sys.unshare(CLONE_NEWNET)
            sys.mount(
                f"/proc/self/task/{threading.get_native_id()}/ns/net",
                str(path),
                None,
                MS_BIND,
                None,
            )
        except OSError as exc:
            failure.append(exc)

    worker = threading.Thread(target=in_thread, name="dockyard-netns")
    worker.start()
    worker.join()
    if failure:
        path.unlink(missing_ok=True)
        exc = failure[0]
        raise KernelError("create netns", str(path), exc.errno or errno.EIO) from exc


def remove_netns(path: Path, syscall: Syscall | None = None) -> None:
    """Unmount and delete a named netns; a missing or unmounted file is fine (idempotent)."""
    sys = syscall or LinuxSyscall()
    try:
        sys.umount2(str(path), MNT_DETACH)
    except OSError as exc:
        # EINVAL: not a mount point (already unmounted); ENOENT: already gone.
        if exc.errno not in (errno.EINVAL, errno.ENOENT):
            raise KernelError("umount netns", str(path), exc.errno or errno.EIO) from exc
    path.unlink(missing_ok=True)


def is_netns(path: Path) -> bool:
    """True when `path` holds a live namespace (a bind mount of an nsfs inode)."""
    return os.path.exists(path) and os.path.ismount(path)
