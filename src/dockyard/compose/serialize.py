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
from dockyard.compose.units import format_duration


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
    """One service in Compose's own syntax (long forms), without its name; loads back as is."""
    data: dict[str, Any] = to_data(service)
    data.pop("name", None)
    retries = data.pop("restart_max_retries", None)
    if retries is not None:
        data["restart"] = f"{data.get('restart', 'on-failure')}:{retries}"
    if "depends_on" in data:
        data["depends_on"] = {d.pop("service"): d for d in data["depends_on"]}
    if "networks" in data:
        data["networks"] = {n.pop("network"): n or None for n in data["networks"]}
    if "volumes" in data:
        data["volumes"] = [_volume(v) for v in data["volumes"]]
    if service.healthcheck is not None:
        data["healthcheck"] = _healthcheck(data["healthcheck"])
    if service.stop_grace_period is not None:
        data["stop_grace_period"] = format_duration(service.stop_grace_period)
    if "ulimits" in data:
        data["ulimits"] = {u.name: {"soft": u.soft, "hard": u.hard} for u in service.ulimits}
    resources = {
        kind: {k: str(v) if k == "memory" else v for k, v in data.pop(kind).items()}
        for kind in ("limits", "reservations")
        if kind in data
    }
    if resources:
        data["deploy"] = {"resources": resources}
    if "replicas" in data:
        data["scale"] = data.pop("replicas")
    return data


def _volume(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: data[k] for k in ("type", "source", "target", "read_only") if k in data
    }
    bind = {k: data[k] for k in ("propagation", "create_host_path") if k in data}
    volume = {k: data[k] for k in ("nocopy", "subpath") if k in data}
    tmpfs = {}
    if "tmpfs_size" in data:
        tmpfs["size"] = data["tmpfs_size"]
    if "tmpfs_mode" in data:
        tmpfs["mode"] = format(data["tmpfs_mode"], "o")
    for key, value in (("bind", bind), ("volume", volume), ("tmpfs", tmpfs)):
        if value:
            out[key] = value
    return out


def _healthcheck(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if key in out:
            out[key] = format_duration(out[key])
    return out


def project_data(project: Project) -> dict[str, Any]:
    """The whole project as plain data, in Compose's top-level shape."""
    out: dict[str, Any] = {"name": project.name}
    out["services"] = {name: service_data(s) for name, s in project.services.items()}
    for kind in ("networks", "volumes", "secrets", "configs"):
        entries = getattr(project, kind)
        if entries:
            out[kind] = {key: _resource(to_data(entry)) for key, entry in entries.items()}
    return out


def _resource(data: dict[str, Any]) -> dict[str, Any]:
    hidden = ("key", "ipam_driver", "ipam", "env_value")  # a secret's value is never printed
    out = {k: v for k, v in data.items() if k not in hidden}
    ipam: dict[str, Any] = {}
    if "ipam_driver" in data:
        ipam["driver"] = data["ipam_driver"]
    if "ipam" in data:
        ipam["config"] = data["ipam"]
    if ipam:
        out["ipam"] = ipam
    return out


def to_yaml(project: Project) -> str:
    """The project as YAML text."""
    return yaml.safe_dump(project_data(project), sort_keys=False, default_flow_style=False)


def to_json(project: Project) -> str:
    """The project as JSON text."""
    return json.dumps(project_data(project), indent=2)
