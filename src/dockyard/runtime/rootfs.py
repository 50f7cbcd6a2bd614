"""Make the container's root: mounts, /dev, pivot_root, masked and read-only paths.

Runs in the container's init process, inside its new mount namespace; each step executes the
pure plans from `mounts.py` and `devices.py`.
"""

from __future__ import annotations

import errno
import os
import stat

from dockyard.kernel import constants as k
from dockyard.kernel.syscall import Syscall
from dockyard.runtime.devices import DeviceNode, create_dev_symlinks, create_devices
from dockyard.runtime.mounts import PROPAGATION, MountOp
from dockyard.runtime.paths import ensure_path, secure_join

# statvfs f_flag bits that a remount must keep when the kernel has locked them (mount_setattr(2))
_LOCKED_FLAGS = (
    (os.ST_RDONLY, k.MS_RDONLY),
    (os.ST_NOSUID, k.MS_NOSUID),
    (os.ST_NODEV, k.MS_NODEV),
    (os.ST_NOEXEC, k.MS_NOEXEC),
    (os.ST_NOATIME, k.MS_NOATIME),
    (os.ST_NODIRATIME, k.MS_NODIRATIME),
    (os.ST_RELATIME, k.MS_RELATIME),
)


def prepare_root(sys: Syscall, rootfs: str, propagation: str | None) -> None:
    """Stop mount events from reaching the host, and make the rootfs a mount point of its own."""
    flags = PROPAGATION[propagation] if propagation else k.MS_SLAVE | k.MS_REC
    sys.mount(None, "/", None, flags, None)
    sys.mount(rootfs, rootfs, "bind", k.MS_BIND | k.MS_REC, None)
    # pivot_root(2) refuses a new root whose parent mount is shared
    sys.mount(None, rootfs, None, k.MS_PRIVATE, None)


def _remount(sys: Syscall, dest: str, flags: int) -> None:
    try:
        sys.mount(None, dest, None, k.MS_BIND | k.MS_REMOUNT | flags, None)
    except PermissionError:
        # In a user namespace the source's nosuid/nodev/... are locked: keep them and retry.
        current = os.statvfs(dest).f_flag
        for st_bit, ms_bit in _LOCKED_FLAGS:
            if current & st_bit:
                flags |= ms_bit
        sys.mount(None, dest, None, k.MS_BIND | k.MS_REMOUNT | flags, None)


def mount_one(sys: Syscall, rootfs: str, op: MountOp) -> None:
    """Make one planned mount at its symlink-safe destination under `rootfs`."""
    is_dir = True
    if op.is_bind:
        try:
            is_dir = stat.S_ISDIR(os.stat(op.source).st_mode)
        except FileNotFoundError:
            raise FileNotFoundError(
                errno.ENOENT, f"bind mount source {op.source} does not exist", op.source
            ) from None
    dest = ensure_path(rootfs, op.destination, is_dir=is_dir)
    if op.is_bind:
        sys.mount(op.source, dest, "bind", op.flags & (k.MS_BIND | k.MS_REC), None)
        if op.remount_flags:
            _remount(sys, dest, op.remount_flags)
    else:
        try:
            sys.mount(op.source, dest, op.fstype, op.flags, op.data or None)
        except PermissionError:
            if op.fstype != "sysfs":
                raise
            # sysfs cannot be mounted in a user namespace that does not own the network
            # namespace; bind the host's /sys instead, as runc does.
            sys.mount("/sys", dest, "bind", k.MS_BIND | k.MS_REC, None)
            _remount(sys, dest, op.flags)
    for prop in op.propagation:
        sys.mount(None, dest, None, prop, None)


def mount_all(sys: Syscall, rootfs: str, plan: list[MountOp]) -> None:
    """Every planned mount, in the spec's order."""
    for op in plan:
        mount_one(sys, rootfs, op)


def binds_dev(plan: list[MountOp]) -> bool:
    """True when the spec binds a host directory over /dev (then no nodes are created)."""
    return any(op.destination.rstrip("/") == "/dev" and op.is_bind for op in plan)


def populate_dev(sys: Syscall, rootfs: str, nodes: list[DeviceNode], in_userns: bool) -> None:
    """Device nodes and the standard /dev symlinks."""
    create_devices(sys, rootfs, nodes, bind=in_userns)
    create_dev_symlinks(secure_join(rootfs, "/dev"))


def bind_console(sys: Syscall, rootfs: str, slave_path: str) -> None:
    """The pty's slave end appears as /dev/console in the container."""
    dest = ensure_path(rootfs, "/dev/console", is_dir=False)
    sys.mount(slave_path, dest, "bind", k.MS_BIND, None)


def pivot_root(sys: Syscall, rootfs: str) -> None:
    """Switch to the new root and detach the old one (the runc trick with `.` as both args)."""
    old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    new_root = os.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fchdir(new_root)
        sys.pivot_root(".", ".")
        os.fchdir(old_root)
        # Make the old root a slave so that detaching it does not propagate to the host.
        sys.mount(None, ".", None, k.MS_SLAVE | k.MS_REC, None)
        sys.umount2(".", k.MNT_DETACH)
        os.chdir("/")
    finally:
        os.close(old_root)
        os.close(new_root)


def move_root(sys: Syscall, rootfs: str) -> None:
    """The chroot fallback for roots that cannot be pivoted (e.g. on a ramfs)."""
    os.chdir(rootfs)
    sys.mount(rootfs, "/", None, k.MS_MOVE, None)
    os.chroot(".")
    os.chdir("/")


def mask_paths(sys: Syscall, paths: list[str]) -> None:
    """Hide each path: /dev/null over files, an empty read-only tmpfs over directories."""
    for path in paths:
        try:
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)
        except FileNotFoundError:
            continue
        if is_dir:
            sys.mount("tmpfs", path, "tmpfs", k.MS_RDONLY, None)
        else:
            sys.mount("/dev/null", path, "bind", k.MS_BIND, None)


def readonly_paths(sys: Syscall, paths: list[str]) -> None:
    """Bind each path onto itself and make it read-only."""
    for path in paths:
        try:
            sys.mount(path, path, "bind", k.MS_BIND | k.MS_REC, None)
        except FileNotFoundError:
            continue
        _remount(sys, path, k.MS_RDONLY | k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC)


def readonly_root(sys: Syscall) -> None:
    """`root.readonly`: the whole root becomes read-only."""
    _remount(sys, "/", k.MS_RDONLY)
