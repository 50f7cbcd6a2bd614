"""`RUN --mount=…` specifications, parsed and checked as BuildKit's runmount parser.

`Run.mounts` keeps each spec as written; the builder calls `parse_mount` when the RUN step
executes, with the stage's variables, because BuildKit substitutes in mount values then.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from dockyard.build.dockerfile.errors import LexError
from dockyard.build.dockerfile.shellwords import Lex

_RAM = re.compile(r"(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?")
_RAM_UNITS: Mapping[str, int] = MappingProxyType(
    {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
)
_TRUE = ("1", "t", "true", "True", "TRUE")  # Go's strconv.ParseBool
_FALSE = ("0", "f", "false", "False", "FALSE")


class MountType(Enum):
    """What a RUN mount provides."""

    BIND = "bind"
    CACHE = "cache"
    TMPFS = "tmpfs"
    SECRET = "secret"
    SSH = "ssh"


class Sharing(Enum):
    """How concurrent builds share a cache mount."""

    SHARED = "shared"
    PRIVATE = "private"
    LOCKED = "locked"


@dataclass(frozen=True)
class RunMount:
    """One `--mount` of a RUN step; `readonly` defaults to True except for cache and tmpfs."""

    type: MountType = MountType.BIND
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = True
    id: str = ""
    sharing: Sharing | None = None
    required: bool = False
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None  # tmpfs size limit in bytes


class MountError(ValueError):
    """A mount specification is malformed."""


def _bool(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise MountError(f"invalid value for {key}: {value}; use true or false")


def _uint(key: str, value: str, base: int) -> int:
    digits = "01234567" if base == 8 else "0123456789"
    if not value or len(value) > 11 or any(c not in digits for c in value):
        raise MountError(f"invalid value {value} for {key}")
    number = int(value, base)
    if number >= 1 << 32:
        raise MountError(f"invalid value {value} for {key}")
    return number


def _size(value: str) -> int:
    match = _RAM.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        return int(float(match.group(1)) * _RAM_UNITS[(match.group(2) or "").lower()])
    except (ValueError, OverflowError):
        raise MountError(f"invalid value for size: {value}; write e.g. 64m or 1g") from None


def parse_mount(spec: str, env: Mapping[str, str] | None = None, escape: str = "\\") -> RunMount:
    """Parse one `--mount` value (`type=cache,target=/root/.cache,…`); raises MountError.

    Values are substituted from `env` when given, as BuildKit does when the step runs.
    """
    try:
        fields = next(csv.reader([spec], strict=True), [])
    except csv.Error:
        fields = []
    if not fields:
        raise MountError(f"failed to parse mount {spec!r} as comma-separated key=value")
    lex = Lex(escape=escape)
    values: dict[str, object] = {}
    auto_readonly = True
    for field in fields:
        key, sep, value = field.partition("=")
        key = key.lower()
        kind = values.get("type", MountType.BIND)
        if not sep:
            if key in ("readonly", "ro", "readwrite", "rw"):
                values["readonly"], auto_readonly = key in ("readonly", "ro"), False
            elif key == "required" and kind in (MountType.SECRET, MountType.SSH):
                values["required"] = True
            else:
                raise MountError(f"invalid field {field!r}: it must be a key=value pair")
            continue
        if env is not None:
            try:
                value = lex.process_word(value, env)
            except LexError as err:
                raise MountError(f"{key}: {err}") from None
        auto_readonly = _set(values, key, value, kind) and auto_readonly
    kind = values.get("type", MountType.BIND)
    assert isinstance(kind, MountType)
    if auto_readonly:
        values["readonly"] = kind not in (MountType.CACHE, MountType.TMPFS)
    mount = RunMount(**values)  # type: ignore[arg-type]
    _validate(mount)
    return mount


def _set(values: dict[str, object], key: str, value: str, kind: object) -> bool:
    """Record one key=value; returns False when it decides read-only-ness explicitly."""
    if key == "type":
        try:
            values["type"] = MountType(value.lower())
        except ValueError:
            names = ", ".join(t.value for t in MountType)
            raise MountError(f"unsupported mount type {value!r}; use one of {names}") from None
    elif key == "from":
        values["from_"] = value
    elif key in ("source", "src"):
        values["source"] = value
    elif key in ("target", "dst", "destination"):
        values["target"] = value
    elif key in ("readonly", "ro"):
        values["readonly"] = _bool(key, value)
        return False
    elif key in ("readwrite", "rw"):
        values["readonly"] = not _bool(key, value)
        return False
    elif key == "required" and kind in (MountType.SECRET, MountType.SSH):
        values["required"] = _bool(key, value)
    elif key == "size" and kind is MountType.TMPFS:
        values["size"] = _size(value)
    elif key == "id":
        values["id"] = value
    elif key == "sharing":
        try:
            values["sharing"] = Sharing(value.lower())
        except ValueError:
            names = ", ".join(s.value for s in Sharing)
            raise MountError(f"unsupported sharing value {value!r}; use one of {names}") from None
    elif key in ("mode", "uid", "gid"):
        values[key] = _uint(key, value, 8 if key == "mode" else 10)
    elif key in ("required", "size"):
        raise MountError(f"unexpected key {key!r} for mount type {_kind_name(kind)!r}")
    else:
        raise MountError(f"unexpected key {key!r} in {key}={value}; see RUN --mount in the docs")
    return True


def _kind_name(kind: object) -> str:
    return kind.value if isinstance(kind, MountType) else str(kind)


def _validate(m: RunMount) -> None:
    if m.type not in (MountType.SECRET, MountType.SSH, MountType.CACHE):
        for name, value in (("mode", m.mode), ("uid", m.uid), ("gid", m.gid)):
            if value is not None:
                raise MountError(f"{name} not allowed for {m.type.value!r} type mounts")
    if m.type is MountType.SECRET:
        if m.from_:
            raise MountError("secret mount should not have a from")
        if m.sharing is not None:
            raise MountError("secret mount should not define sharing")
        if not (m.source or m.target or m.id):
            raise MountError("invalid secret mount: give one of id, source or target")
        if m.source and m.id:
            raise MountError("a secret mount takes source or id, not both")
    if m.sharing is not None and m.type is not MountType.CACHE:
        raise MountError(f"sharing is only for cache mounts, not {m.type.value!r}")
    if m.type in (MountType.BIND, MountType.CACHE, MountType.TMPFS) and not m.target:
        raise MountError(f"a {m.type.value} mount needs target=PATH")
