"""The mount plan: runtime-spec `mounts` turned into ordered, typed mount operations (pure)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.kernel import constants as k
from dockyard.runtime.errors import BadConfig

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Mount


# option → (set flags, clear flags), as runc's mount option table
_FLAGS: dict[str, tuple[int, int]] = {
    "async": (0, k.MS_SYNCHRONOUS),
    "atime": (0, k.MS_NOATIME),
    "bind": (k.MS_BIND, 0),
    "defaults": (0, 0),
    "dev": (0, k.MS_NODEV),
    "diratime": (0, k.MS_NODIRATIME),
    "dirsync": (k.MS_DIRSYNC, 0),
    "exec": (0, k.MS_NOEXEC),
    "mand": (k.MS_MANDLOCK, 0),
    "noatime": (k.MS_NOATIME, 0),
    "nodev": (k.MS_NODEV, 0),
    "nodiratime": (k.MS_NODIRATIME, 0),
    "noexec": (k.MS_NOEXEC, 0),
    "nomand": (0, k.MS_MANDLOCK),
    "norelatime": (0, k.MS_RELATIME),
    "nostrictatime": (0, k.MS_STRICTATIME),
    "nosuid": (k.MS_NOSUID, 0),
    "nosymfollow": (k.MS_NOSYMFOLLOW, 0),
    "rbind": (k.MS_BIND | k.MS_REC, 0),
    "relatime": (k.MS_RELATIME, 0),
    "remount": (k.MS_REMOUNT, 0),
    "ro": (k.MS_RDONLY, 0),
    "rw": (0, k.MS_RDONLY),
    "strictatime": (k.MS_STRICTATIME, 0),
    "suid": (0, k.MS_NOSUID),
    "sync": (k.MS_SYNCHRONOUS, 0),
}

PROPAGATION: dict[str, int] = {
    "private": k.MS_PRIVATE,
    "rprivate": k.MS_PRIVATE | k.MS_REC,
    "shared": k.MS_SHARED,
    "rshared": k.MS_SHARED | k.MS_REC,
    "slave": k.MS_SLAVE,
    "rslave": k.MS_SLAVE | k.MS_REC,
    "unbindable": k.MS_UNBINDABLE,
    "runbindable": k.MS_UNBINDABLE | k.MS_REC,
}


@dataclass(frozen=True)
class MountOp:
    """One mount to make inside the new root: `flags` for mount(2), `data` for the fs."""

    destination: str
    source: str
    fstype: str
    flags: int
    data: str
    propagation: tuple[int, ...]

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & k.MS_BIND)

    @property
    def remount_flags(self) -> int:
        """Flags a bind mount needs applied by a second, remounting call (bind ignores them)."""
        return self.flags & ~(k.MS_BIND | k.MS_REC | k.MS_REMOUNT)


def parse_options(options: list[str]) -> tuple[int, str, tuple[int, ...]]:
    """Split mount options into mount(2) flags, fs data, and propagation changes."""
    flags = 0
    data: list[str] = []
    propagation: list[int] = []
    for opt in options:
        if opt in _FLAGS:
            set_bits, clear_bits = _FLAGS[opt]
            flags = (flags | set_bits) & ~clear_bits
        elif opt in PROPAGATION:
            propagation.append(PROPAGATION[opt])
        elif opt in ("idmap", "ridmap", "tmpcopyup", "rro", "rrw"):
            raise BadConfig(f"mount option {opt!r} is not supported by dockyard-runtime")
        else:
            data.append(opt)
    return flags, ",".join(data), tuple(propagation)


def plan_mounts(mounts: list[Mount], bundle: str) -> list[MountOp]:
    """The spec's mounts in order as `MountOp`s; relative bind sources are under the bundle."""
    plan: list[MountOp] = []
    for m in mounts:
        dest = m.get("destination", "")
        flags, data, propagation = parse_options(m.get("options", []))
        fstype = m.get("type", "") or ("bind" if flags & k.MS_BIND else "")
        if fstype == "bind":
            flags |= k.MS_BIND
        source = m.get("source", "") or fstype
        if flags & k.MS_BIND and not source.startswith("/"):
            source = os.path.normpath(os.path.join(bundle, source))
        if not fstype:
            raise BadConfig(f"mount {dest!r} has no type")
        plan.append(MountOp(dest, source, fstype, flags, data, propagation))
    return plan
