"""Device nodes in the container's /dev: the defaults every container gets, plus the spec's."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.kernel import constants as k
from dockyard.kernel.syscall import Syscall
from dockyard.runtime.errors import BadConfig
from dockyard.runtime.paths import ensure_path

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Device


@dataclass(frozen=True)
class DeviceNode:
    """A node to create at `path` (inside the container)."""

    path: str
    kind: str  # c, b, u (unbuffered char), p (fifo)
    major: int
    minor: int
    mode: int
    uid: int
    gid: int


DEFAULT_DEVICES = (
    DeviceNode("/dev/null", "c", 1, 3, 0o666, 0, 0),
    DeviceNode("/dev/zero", "c", 1, 5, 0o666, 0, 0),
    DeviceNode("/dev/full", "c", 1, 7, 0o666, 0, 0),
    DeviceNode("/dev/random", "c", 1, 8, 0o666, 0, 0),
    DeviceNode("/dev/urandom", "c", 1, 9, 0o666, 0, 0),
    DeviceNode("/dev/tty", "c", 5, 0, 0o666, 0, 0),
)

DEV_SYMLINKS = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),
)


def plan_devices(devices: list[Device]) -> list[DeviceNode]:
    """The default devices followed by the spec's, a later entry replacing an earlier path."""
    nodes = {d.path: d for d in DEFAULT_DEVICES}
    for dev in devices:
        kind = dev.get("type", "")
        if kind not in ("c", "b", "u", "p"):
            raise BadConfig(f"device {dev.get('path')!r}: unknown type {kind!r}")
        path = dev.get("path", "")
        if not path.startswith("/dev/"):
            raise BadConfig(f"device path {path!r} must be under /dev")
        nodes[path] = DeviceNode(
            path,
            kind,
            dev.get("major", 0),
            dev.get("minor", 0),
            dev.get("fileMode", 0o666),
            dev.get("uid", 0),
            dev.get("gid", 0),
        )
    return list(nodes.values())


def _type_bits(kind: str) -> int:
    return {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[kind]


def create_devices(sys: Syscall, rootfs: str, nodes: list[DeviceNode], bind: bool) -> None:
    """Make each node; inside a user namespace mknod is refused, so bind the host's node."""
    old_umask = os.umask(0)
    try:
        for node in nodes:
            if bind:
                dest = ensure_path(rootfs, node.path, is_dir=False)
                sys.mount(node.path, dest, "bind", k.MS_BIND, None)
                continue
            dest = ensure_path(rootfs, os.path.dirname(node.path), is_dir=True)
            dest = os.path.join(dest, os.path.basename(node.path))
            if os.path.lexists(dest):
                os.unlink(dest)
            sys.mknod(dest, _type_bits(node.kind) | node.mode, os.makedev(node.major, node.minor))
            sys.chown(dest, node.uid, node.gid)
    finally:
        os.umask(old_umask)


def create_dev_symlinks(dev: str) -> None:
    """The /dev symlinks every Linux program expects (fd, stdio, ptmx), in the directory `dev`."""
    for target, link in DEV_SYMLINKS:
        path = os.path.join(dev, os.path.basename(link))
        if not os.path.lexists(path):
            os.symlink(target, path)
