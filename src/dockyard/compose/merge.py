"""Merging compose files in order, by the Compose specification's merge rules (merge.md).

Mappings merge key by key; sequences are appended (scalars once); `command`, `entrypoint` and
`healthcheck.test` are replaced; `ports`, `volumes`, `secrets` and `configs` are unique by
their key (ports by ip/target/published/protocol, the others by target); `environment`,
`labels`, `depends_on`, `networks`, `build.args` were made maps by `forms` and merge by key.
`!reset` drops an inherited value, `!override` replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from dockyard.compose.errors import KeyPath, Location
from dockyard.compose.ports import parse_port
from dockyard.compose.source import Override, Reset
from dockyard.compose.tree import Locations, Tree, rebase
from dockyard.compose.volumes import volume_target

_RESOURCES = ("services", "networks", "volumes", "secrets", "configs")
_REPLACED = frozenset({("command",), ("entrypoint",), ("healthcheck", "test")})


def _port_key(item: Any) -> object:
    try:
        return tuple((m.host_ip, m.target, m.published, m.protocol) for m in parse_port(item))
    except ValueError:
        return None


def _file_key(prefix: str) -> Callable[[Any], object]:
    def key(item: Any) -> object:
        if isinstance(item, str):
            return f"{prefix}{item}"
        if isinstance(item, dict):
            target = item.get("target")
            if target is None:
                return f"{prefix}{item.get('source')}"
            return target if str(target).startswith("/") else f"{prefix}{target}"
        return None

    return key


_KEYED: Mapping[tuple[str, ...], Callable[[Any], object]] = MappingProxyType(
    {
        ("ports",): _port_key,
        ("volumes",): volume_target,
        ("secrets",): _file_key("/run/secrets/"),
        ("configs",): _file_key("/"),
    }
)


class _Merger:
    """Merges `override` into `base`, keeping each merged path's location."""

    def __init__(self, base: Tree, override: Tree) -> None:
        self.theirs: Locations = override.locations
        self.locations: dict[KeyPath, Location] = dict(base.locations)

    def take(self, source: KeyPath, target: KeyPath) -> None:
        self.drop(target)
        self.locations.update(rebase(self.theirs, source, target))

    def drop(self, path: KeyPath) -> None:
        size = len(path)
        for key in [key for key in self.locations if key[:size] == path]:
            del self.locations[key]

    def top(self, base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in override.items():
            path: KeyPath = (key,)
            if key in _RESOURCES and isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = self.resources(key, out[key], value)
            elif key == "include" and isinstance(value, list) and isinstance(out.get(key), list):
                out[key] = self.append(out[key], value, path, unique=False)
            else:
                self.assign(out, key, value, path, ())
        return out

    def resources(self, kind: str, base: dict[str, Any], override: dict[str, Any]) -> Any:
        out = dict(base)
        for name, value in override.items():
            path: KeyPath = (kind, name)
            if kind == "services" and isinstance(out.get(name), dict) and isinstance(value, dict):
                out[name] = self.mapping(out[name], value, path, ())
            else:
                self.assign(out, name, value, path, ())
        return out

    def assign(
        self, out: dict[str, Any], key: str, value: Any, path: KeyPath, rule: tuple[str, ...]
    ) -> None:
        """Merge `value` into `out[key]`, or drop the key for `!reset`."""
        if isinstance(value, Reset):
            out.pop(key, None)
            self.drop(path)
            return
        if key not in out or isinstance(value, Override):
            out[key] = value
            self.take(path, path)
            return
        out[key] = self.value(out[key], value, path, rule)

    def value(self, base: Any, override: Any, path: KeyPath, rule: tuple[str, ...]) -> Any:
        if rule in _REPLACED:
            self.take(path, path)
            return override
        if isinstance(base, dict) and isinstance(override, dict):
            if rule == ("logging",) and base.get("driver", override.get("driver")) != override.get(
                "driver", base.get("driver")
            ):
                # Compose: a different log driver brings its own options (merge.md).
                self.take(path, path)
                return override
            return self.mapping(base, override, path, rule)
        if isinstance(base, list) and isinstance(override, list):
            keyed = _KEYED.get(rule)
            if keyed is not None:
                return self.keyed(base, override, path, keyed)
            return self.append(base, override, path, unique=True)
        self.take(path, path)
        return override

    def mapping(
        self, base: dict[str, Any], override: dict[str, Any], path: KeyPath, rule: tuple[str, ...]
    ) -> dict[str, Any]:
        out = dict(base)
        for key, value in override.items():
            self.assign(out, key, value, (*path, key), (*rule, key))
        return out

    def append(
        self, base: list[Any], override: list[Any], path: KeyPath, *, unique: bool
    ) -> list[Any]:
        out = list(base)
        for index, item in enumerate(override):
            if unique and not isinstance(item, dict | list) and item in out:
                continue
            self.locations.update(rebase(self.theirs, (*path, index), (*path, len(out))))
            out.append(item)
        return out

    def keyed(
        self, base: list[Any], override: list[Any], path: KeyPath, key: Callable[[Any], object]
    ) -> list[Any]:
        out = list(base)
        positions = {key(item): index for index, item in enumerate(out)}
        for index, item in enumerate(override):
            item_key = key(item)
            position = positions.get(item_key) if item_key is not None else None
            if position is None:
                position = len(out)
                out.append(item)
                if item_key is not None:
                    positions[item_key] = position
            else:
                out[position] = item
                self.drop((*path, position))
            self.locations.update(rebase(self.theirs, (*path, index), (*path, position)))
        return out


def merge_trees(base: Tree, override: Tree) -> Tree:
    """`override` merged on top of `base` (the later `-f` file wins)."""
    merger = _Merger(base, override)
    return Tree(merger.top(base.data, override.data), merger.locations)


def merge_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """One service definition merged on top of another (used by `extends`)."""
    merger = _Merger(Tree({}), Tree({}))
    return merger.mapping(base, override, (), ())


def strip_markers(value: Any) -> Any:
    """Remove `!reset` values and unwrap `!override` once nothing is left to merge with."""
    if isinstance(value, Override):
        return strip_markers(value.value)
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [strip_markers(v) for v in value if not isinstance(v, Reset)]
    return value
