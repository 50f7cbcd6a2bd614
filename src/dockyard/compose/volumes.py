"""`volumes:` short and long syntax → `VolumeMount`s (Compose spec, services.volumes).

Short: `[SOURCE:]TARGET[:MODE]`; a SOURCE starting with `/`, `.` or `~` is a bind mount
(relative to the project directory), any other SOURCE names a project volume, none makes an
anonymous volume.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from dockyard.compose.coerce import to_bool
from dockyard.compose.model import MountType, VolumeMount
from dockyard.compose.units import parse_size

_PROPAGATIONS = frozenset({"shared", "slave", "private", "rshared", "rslave", "rprivate"})


def _is_path(source: str) -> bool:
    return source.startswith(("/", ".", "~"))


def resolve_path(path: str, base: str) -> str:
    """`path` made absolute against `base` (`~` is the user's home), normalised."""
    expanded = os.path.expanduser(path)
    return os.path.normpath(os.path.join(base, expanded))


def short_target(spec: str) -> str:
    """The container path of a short-syntax entry (the merge key of `volumes`)."""
    parts = spec.split(":")
    if len(parts) == 1:
        return parts[0]
    return parts[1]


def parse_short(spec: str, base: str) -> VolumeMount:
    """One short-syntax entry, bind sources resolved against `base`."""
    parts = spec.split(":")
    if len(parts) > 3 or not all(parts[: min(len(parts), 2)]):
        raise ValueError(f'invalid volume "{spec}": write [SOURCE:]TARGET[:MODE]')
    if len(parts) == 1:
        return VolumeMount(MountType.VOLUME, _target(parts[0], spec))
    source, target = parts[0], _target(parts[1], spec)
    read_only = False
    propagation = None
    nocopy = False
    for option in parts[2].split(",") if len(parts) == 3 else ():
        if option in ("ro", "rw"):
            read_only = option == "ro"
        elif option in _PROPAGATIONS:
            propagation = option
        elif option == "nocopy":
            nocopy = True
        elif option not in ("z", "Z", "cached", "delegated", "consistent"):
            raise ValueError(f'invalid volume "{spec}": unknown mode {option!r}; use ro or rw')
    if _is_path(source):
        return VolumeMount(
            MountType.BIND, target, resolve_path(source, base), read_only, propagation
        )
    return VolumeMount(MountType.VOLUME, target, source, read_only, nocopy=nocopy)


def _target(target: str, spec: object) -> str:
    if not target.startswith("/"):
        raise ValueError(f'invalid volume "{spec}": the container path must be absolute')
    return target


def parse_long(spec: Mapping[str, Any], base: str) -> VolumeMount:
    """One long-syntax entry (`{type: bind, source: ./data, target: /data}`)."""
    try:
        kind = MountType(str(spec.get("type", "")))
    except ValueError:
        raise ValueError(
            f"invalid volume type {spec.get('type')!r}: use bind, volume or tmpfs"
        ) from None
    target = _target(str(spec.get("target", "")), dict(spec))
    source = spec.get("source") or None
    bind = spec.get("bind") or {}
    volume = spec.get("volume") or {}
    tmpfs = spec.get("tmpfs") or {}
    if kind is MountType.BIND:
        if source is None:
            raise ValueError(f"bind mount of {target} needs a source; add source:")
        source = resolve_path(str(source), base)
    if kind is MountType.TMPFS and source is not None:
        raise ValueError(f"tmpfs mount of {target} takes no source; remove source:")
    size = tmpfs.get("size")
    mode = tmpfs.get("mode")
    return VolumeMount(
        type=kind,
        target=target,
        source=None if source is None else str(source),
        read_only=to_bool(spec.get("read_only", False)),
        propagation=bind.get("propagation"),
        create_host_path=to_bool(bind.get("create_host_path", True)),
        nocopy=to_bool(volume.get("nocopy", False)),
        subpath=volume.get("subpath"),
        tmpfs_size=None if size is None else parse_size(size),
        tmpfs_mode=None if mode is None else int(str(mode), 8),
    )


def parse_volume(spec: Any, base: str) -> VolumeMount:
    """Either syntax; raises ValueError with a message naming the entry."""
    if isinstance(spec, Mapping):
        return parse_long(spec, base)
    if isinstance(spec, str):
        return parse_short(spec, base)
    raise ValueError(f"invalid volume {spec!r}: write SOURCE:TARGET or a mapping")


def volume_target(spec: Any) -> str | None:
    """The container path an entry mounts at, or None when it cannot be told."""
    if isinstance(spec, Mapping):
        target = spec.get("target")
        return None if target is None else str(target)
    if isinstance(spec, str):
        return short_target(spec)
    return None
