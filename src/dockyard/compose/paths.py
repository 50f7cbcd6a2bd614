"""Making the relative paths of a service absolute, for definitions that move between files.

A service taken from another file by `extends: {file: …}` or `include` keeps its paths relative
to *that* file's directory (Compose spec, extends.md and include.md).
"""

from __future__ import annotations

from typing import Any

from dockyard.compose.volumes import resolve_path


def _is_relative(path: str) -> bool:
    return not path.startswith("/") and "://" not in path and not path.startswith("git@")


def _absolute(path: str, base: str) -> str:
    return resolve_path(path, base) if _is_relative(path) else path


def _volume(item: Any, base: str) -> Any:
    if isinstance(item, str):
        parts = item.split(":")
        if len(parts) > 1 and parts[0].startswith((".", "~")):
            return ":".join([resolve_path(parts[0], base), *parts[1:]])
        return item
    if isinstance(item, dict) and item.get("type") == "bind" and item.get("source"):
        return {**item, "source": _absolute(str(item["source"]), base)}
    return item


def _env_file(item: Any, base: str) -> Any:
    if isinstance(item, str):
        return _absolute(item, base)
    if isinstance(item, dict) and "path" in item:
        return {**item, "path": _absolute(str(item["path"]), base)}
    return item


def absolute_service(service: dict[str, Any], base: str) -> dict[str, Any]:
    """A canonical-form service definition with its relative paths resolved against `base`."""
    out = dict(service)
    build = out.get("build")
    if isinstance(build, dict):
        out["build"] = {**build, "context": _absolute(str(build.get("context") or "."), base)}
    if isinstance(out.get("volumes"), list):
        out["volumes"] = [_volume(item, base) for item in out["volumes"]]
    if isinstance(out.get("env_file"), list):
        out["env_file"] = [_env_file(item, base) for item in out["env_file"]]
    extends = out.get("extends")
    if isinstance(extends, dict) and extends.get("file"):
        out["extends"] = {**extends, "file": _absolute(str(extends["file"]), base)}
    return out


def absolute_project(data: dict[str, Any], base: str) -> dict[str, Any]:
    """A whole canonical-form document with its relative paths resolved against `base`."""
    out = dict(data)
    services = out.get("services")
    if isinstance(services, dict):
        out["services"] = {
            name: absolute_service(s, base) if isinstance(s, dict) else s
            for name, s in services.items()
        }
    for kind in ("secrets", "configs"):
        entries = out.get(kind)
        if isinstance(entries, dict):
            out[kind] = {
                name: {**e, "file": _absolute(str(e["file"]), base)}
                if isinstance(e, dict) and e.get("file")
                else e
                for name, e in entries.items()
            }
    return out
