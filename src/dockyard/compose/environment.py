"""A service's container environment: `env_file` entries, then `environment` on top.

`env_file` feeds the container, never interpolation of the compose file. Its paths are relative
to the project directory; `required: false` tolerates a missing file; `format: raw` keeps values
as written. A bare `KEY` (in either) takes KEY from the project environment (shell, then .env),
and is left out when unset — as Compose does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.compose.coerce import to_bool
from dockyard.compose.dotenv import EnvEntry, read_dotenv
from dockyard.compose.errors import ComposeError, ComposeFileNotFound, KeyPath, Location
from dockyard.compose.interpolate import Lookup, SourceKind, Variable, substitute
from dockyard.compose.volumes import resolve_path

Locate = Callable[[KeyPath], Location | None]


@dataclass(frozen=True)
class EnvFile:
    """One `env_file` entry, its path absolute."""

    path: str
    required: bool = True
    raw: bool = False


def env_files(value: Any, base: str, path: KeyPath, locate: Locate) -> list[EnvFile]:
    """The `env_file` entries of a service (string, list of strings, or mappings)."""
    items = [value] if isinstance(value, str) else list(value or [])
    out = []
    for index, item in enumerate(items):
        where = (*path, index)
        try:
            if isinstance(item, str):
                out.append(EnvFile(resolve_path(item, base)))
                continue
            fmt = str(item.get("format") or "dotenv")
            if fmt not in ("dotenv", "raw"):
                raise ValueError(f'unknown env_file format "{fmt}"; use dotenv or raw')
            out.append(
                EnvFile(
                    resolve_path(str(item["path"]), base),
                    to_bool(item.get("required", True)),
                    fmt == "raw",
                )
            )
        except ValueError as exc:
            raise ComposeError(str(exc), location=locate(where), path=where) from None
    return out


def _read(env_file: EnvFile, lookup: Lookup, where: KeyPath, locate: Locate) -> list[EnvEntry]:
    def expand(text: str, location: Location, earlier: Mapping[str, str]) -> str:
        def chained(name: str) -> Variable | None:
            # The project environment first, then this file's earlier lines (Compose's dotenv).
            found = lookup(name)
            if found is None and name in earlier:
                return Variable(earlier[name], SourceKind.DOTENV, location)
            return found

        return substitute(text, chained, location=location)[0]

    path = Path(env_file.path)
    if not path.exists() and not env_file.required:
        return []
    try:
        entries = read_dotenv(path, substitute=expand, raw=env_file.raw)
    except ComposeFileNotFound:
        raise ComposeFileNotFound(
            f"env file {env_file.path} not found; create it or add required: false",
            location=locate(where),
            path=where,
        ) from None
    return entries


def resolve_environment(
    service: Mapping[str, Any], base: str, lookup: Lookup, path: KeyPath, locate: Locate
) -> dict[str, str]:
    """The container environment of one (merged, canonical-form) service definition."""
    env: dict[str, str] = {}
    files = env_files(service.get("env_file"), base, (*path, "env_file"), locate)
    for index, env_file in enumerate(files):
        for entry in _read(env_file, lookup, (*path, "env_file", index), locate):
            _put(env, entry.key, entry.value, lookup)
    for key, value in (service.get("environment") or {}).items():
        _put(env, key, value, lookup)
    return env


def _put(env: dict[str, str], key: str, value: str | None, lookup: Lookup) -> None:
    if value is not None:
        env[key] = value
        return
    found = lookup(key)
    if found is not None:
        env[key] = found.value
    else:
        env.pop(key, None)
