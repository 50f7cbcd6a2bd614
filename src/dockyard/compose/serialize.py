"""The normalised project back to plain data, YAML or JSON (`compose config`).

Fields equal to their default are left out, so the output shows what matters and the same
project always prints the same way.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

import yaml

from dockyard.compose.model import PortRange, Project, Service


def to_data(value: Any) -> Any:
    """A model object as JSON-compatible data (dataclass → mapping without default fields)."""
    if isinstance(value, PortRange):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for item in dataclasses.fields(value):
            field_value = getattr(value, item.name)
            if _is_default(item, field_value):
                continue
            out[item.name] = to_data(field_value)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def _is_default(item: dataclasses.Field[Any], value: Any) -> bool:
    if item.default is not dataclasses.MISSING:
        return bool(value == item.default)
    if item.default_factory is not dataclasses.MISSING:
        default = item.default_factory()
        if isinstance(default, Mapping) and isinstance(value, Mapping):
            return dict(default) == dict(value)
        return bool(value == default)
    return False


def service_data(service: Service) -> dict[str, Any]:
    """One service as plain data, without its name (the key it is printed under)."""
    data: dict[str, Any] = to_data(service)
    data.pop("name", None)
    # Compose prints these as maps keyed by service / network name.
    if "depends_on" in data:
        data["depends_on"] = {d.pop("service"): d for d in data["depends_on"]}
    if "networks" in data:
        data["networks"] = {n.pop("network"): n or None for n in data["networks"]}
    return data


def project_data(project: Project) -> dict[str, Any]:
    """The whole project as plain data, in Compose's top-level shape."""
    out: dict[str, Any] = {"name": project.name}
    out["services"] = {name: service_data(s) for name, s in project.services.items()}
    for kind in ("networks", "volumes", "secrets", "configs"):
        entries = getattr(project, kind)
        if entries:
            out[kind] = {key: _without_key(to_data(entry)) for key, entry in entries.items()}
    return out


def _without_key(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "key"}


def to_yaml(project: Project) -> str:
    """The project as YAML text."""
    return yaml.safe_dump(project_data(project), sort_keys=False, default_flow_style=False)


def to_json(project: Project) -> str:
    """The project as JSON text."""
    return json.dumps(project_data(project), indent=2)
