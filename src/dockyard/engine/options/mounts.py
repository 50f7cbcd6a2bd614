"""Parsers of what the container sees of the host's files: `-v/--volume`, `--mount`,
`--tmpfs` and `--device`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from dockyard.engine.options.values import parse_bytes
from dockyard.errors import InvalidArgument

MountType = Literal["bind", "volume", "tmpfs"]
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


@dataclass(frozen=True)
class MountSpec:
    """What the user asked to mount (`-v`, `--mount`, `--tmpfs`); sources are resolved later.

    `source` is a host path for bind, a volume name ("" = anonymous) for volume, "" for tmpfs.
    """

    type: MountType
    source: str
    target: str
    readonly: bool = False
    propagation: str = ""
    selinux_relabel: str = ""  # "z" or "Z": accepted, has no effect without SELinux
    nocopy: bool = False
    volume_options: tuple[tuple[str, str], ...] = ()
    tmpfs_size: int = 0
    tmpfs_mode: int = 0
    extra: tuple[str, ...] = field(default=())  # -v options kept verbatim (consistency modes)


def _absolute_target(target: str, flag: str, spec: str) -> str:
    if not target.startswith("/"):
        raise InvalidArgument(
            f'invalid {flag} "{spec}": the container path {target!r} must be absolute'
        )
    if target.rstrip("/") == "":
        raise InvalidArgument(f'invalid {flag} "{spec}": the container path cannot be "/"')
    return target


def parse_volume(text: str) -> MountSpec:
    """`-v /host:/ctr[:opts]`, `-v name:/ctr[:opts]` or `-v /ctr` (an anonymous volume)."""
    parts = text.split(":")
    if len(parts) == 1:
        return MountSpec("volume", "", _absolute_target(text, "-v", text))
    if len(parts) > 3 or not parts[0]:
        raise InvalidArgument(f'invalid -v "{text}": use SOURCE:/CONTAINER_PATH[:OPTIONS]')
    source, target = parts[0], parts[1]
    _absolute_target(target, "-v", text)
    if source.startswith("/"):
        kind: MountType = "bind"
    elif _VOLUME_NAME.match(source):
        kind = "volume"
    else:
        raise InvalidArgument(
            f'invalid -v "{text}": the host path must be absolute (or a volume name)'
        )
    readonly, propagation, relabel, nocopy, extra = False, "", "", False, []
    seen_mode = False
    for opt in parts[2].split(",") if len(parts) == 3 else []:
        if opt in ("ro", "rw"):
            if seen_mode:
                raise InvalidArgument(f'invalid -v "{text}": give ro or rw only once')
            seen_mode, readonly = True, opt == "ro"
        elif opt in PROPAGATIONS:
            if propagation or kind != "bind":
                raise InvalidArgument(f'invalid -v "{text}": propagation only applies to one bind')
            propagation = opt
        elif opt in ("z", "Z"):
            relabel = opt
        elif opt == "nocopy":
            if kind != "volume":
                raise InvalidArgument(f'invalid -v "{text}": nocopy only applies to volumes')
            nocopy = True
        elif opt in ("consistent", "cached", "delegated"):
            extra.append(opt)
        else:
            raise InvalidArgument(
                f'invalid -v "{text}": unknown option {opt!r}; use ro, rw, z, Z, nocopy or a '
                "propagation mode"
            )
    return MountSpec(
        kind, source, target, readonly, propagation, relabel, nocopy, (), 0, 0, tuple(extra)
    )


def _bool_value(value: str, key: str, spec: str) -> bool:
    if value in ("", "1", "true", "True"):
        return True
    if value in ("0", "false", "False"):
        return False
    raise InvalidArgument(f'invalid --mount "{spec}": {key} takes true or false, not {value!r}')


def parse_mount(text: str) -> MountSpec:
    """`--mount type=bind|volume|tmpfs,src=…,dst=…,ro,…` → MountSpec, as Docker's CSV syntax."""
    kind, source, target = "volume", "", ""
    readonly, propagation, nocopy = False, "", False
    volume_opts: list[tuple[str, str]] = []
    size = mode = 0
    for field_text in text.split(","):
        key, sep, value = field_text.partition("=")
        key = key.strip().lower()
        if key == "type":
            if value not in ("bind", "volume", "tmpfs"):
                raise InvalidArgument(
                    f'invalid --mount "{text}": type must be bind, volume or tmpfs'
                )
            kind = value
        elif key in ("source", "src"):
            source = value
        elif key in ("target", "destination", "dst"):
            target = value
        elif key in ("readonly", "ro"):
            readonly = _bool_value(value, key, text)
        elif key == "bind-propagation":
            if value not in PROPAGATIONS:
                raise InvalidArgument(
                    f'invalid --mount "{text}": bind-propagation must be one of '
                    f"{', '.join(PROPAGATIONS)}"
                )
            propagation = value
        elif key == "volume-nocopy":
            nocopy = _bool_value(value, key, text)
        elif key == "volume-opt":
            opt_key, opt_sep, opt_value = value.partition("=")
            if not opt_sep or not opt_key:
                raise InvalidArgument(f'invalid --mount "{text}": use volume-opt=KEY=VALUE')
            volume_opts.append((opt_key, opt_value))
        elif key == "tmpfs-size":
            size = parse_bytes(value, "--mount tmpfs-size")
        elif key == "tmpfs-mode":
            if not re.match(r"^[0-7]{1,4}$", value):
                raise InvalidArgument(f'invalid --mount "{text}": tmpfs-mode is octal, e.g. 1777')
            mode = int(value, 8)
        elif key in ("volume-driver", "volume-label", "consistency", "bind-nonrecursive"):
            continue  # accepted for compatibility; only the local driver exists here
        else:
            raise InvalidArgument(f'invalid --mount "{text}": unknown field {key!r}')
        if not sep and key not in ("readonly", "ro", "volume-nocopy"):
            raise InvalidArgument(f'invalid --mount "{text}": {key} needs a value, {key}=…')
    if not target:
        raise InvalidArgument(f'invalid --mount "{text}": give the container path, target=/path')
    _absolute_target(target, "--mount", text)
    if kind == "bind":
        if not source:
            raise InvalidArgument(f'invalid --mount "{text}": a bind needs source=/host/path')
        if not source.startswith("/"):
            raise InvalidArgument(f'invalid --mount "{text}": the bind source must be absolute')
    elif kind == "volume":
        if source and not _VOLUME_NAME.match(source):
            raise InvalidArgument(
                f'invalid --mount "{text}": volume names match [a-zA-Z0-9][a-zA-Z0-9_.-]+'
            )
    elif source:
        raise InvalidArgument(f'invalid --mount "{text}": a tmpfs takes no source')
    wrong = (propagation and kind != "bind") or ((nocopy or volume_opts) and kind != "volume")
    if wrong or ((size or mode) and kind != "tmpfs"):
        raise InvalidArgument(f'invalid --mount "{text}": an option does not apply to type={kind}')
    return MountSpec(
        kind,  # type: ignore[arg-type]
        source,
        target,
        readonly,
        propagation,
        "",
        nocopy,
        tuple(volume_opts),
        size,
        mode,
    )


_TMPFS_FLAGS = {
    "rw", "ro", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime",
    "relatime", "strictatime", "nodiratime", "diratime", "sync", "async", "dirsync",
}  # fmt: skip
_TMPFS_KEYS = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"}


def parse_tmpfs(text: str) -> tuple[str, str]:
    """`--tmpfs /run[:rw,size=64m,…]` → (container path, options as written)."""
    target, _, options = text.partition(":")
    _absolute_target(target, "--tmpfs", text)
    for opt in options.split(",") if options else []:
        key, sep, value = opt.partition("=")
        if sep and key in _TMPFS_KEYS:
            if key == "size":
                parse_bytes(value, "--tmpfs size")
            elif key == "mode" and not re.match(r"^[0-7]{1,4}$", value):
                raise InvalidArgument(f'invalid --tmpfs "{text}": mode is octal, e.g. 1777')
        elif sep or key not in _TMPFS_FLAGS:
            raise InvalidArgument(f'invalid --tmpfs "{text}": unknown option {opt!r}')
    return target, options


@dataclass(frozen=True)
class DeviceMapping:
    """`--device`: the host path, the path inside the container, cgroup permissions `rwm`."""

    path_on_host: str
    path_in_container: str
    permissions: str = "rwm"


def _valid_permissions(text: str) -> bool:
    return (
        bool(text)
        and len(text) <= 3
        and all(c in "rwm" for c in text)
        and len(set(text)) == len(text)
    )


def parse_device(text: str) -> DeviceMapping:
    """`/dev/x[:/dev/y][:rwm]` → DeviceMapping."""
    parts = text.split(":")
    src, dst, perms = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if _valid_permissions(parts[1]):
            perms = parts[1]
        else:
            dst = parts[1]
    elif len(parts) == 3:
        dst, perms = parts[1], parts[2]
        if not _valid_permissions(perms):
            raise InvalidArgument(f'invalid --device "{text}": permissions are a mix of r, w, m')
    elif len(parts) > 3:
        raise InvalidArgument(f'invalid --device "{text}": use /dev/HOST[:/dev/CONTAINER][:rwm]')
    if not src.startswith("/") or not dst.startswith("/"):
        raise InvalidArgument(f'invalid --device "{text}": device paths must be absolute')
    return DeviceMapping(src, dst, perms)
