"""Registry configuration (`registries.json`): insecure registries and mirrors, and scheme policy.

The file is small on purpose::

    {"insecure-registries": ["build.lan:5000"],
     "mirrors": {"docker.io": ["mirror.lan:5000"]}}

Plain HTTP is used only for loopback registries and those listed as insecure (Docker's rule);
everything else is HTTPS. Mirrors are tried in order before the registry itself, for pulls only.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.image.reference import DEFAULT_DOMAIN

# Docker Hub's API lives on another host than its reference domain.
DOCKER_HUB_API_HOST = "registry-1.docker.io"
CONFIG_ENV = "DOCKYARD_REGISTRIES_CONFIG"


@dataclass(frozen=True)
class Endpoint:
    """One place to send registry requests: `scheme://host`, and whether it is a mirror."""

    scheme: str
    host: str
    mirror: bool = False

    @property
    def base_url(self) -> str:
        """The URL prefix, e.g. `http://127.0.0.1:5000`."""
        return f"{self.scheme}://{self.host}"


@dataclass(frozen=True)
class RegistryConfig:
    """Which registries may use plain HTTP and which mirrors stand in for a registry."""

    insecure: frozenset[str] = frozenset()
    mirrors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def scheme_for(self, host: str) -> str:
        """`http` for loopback and insecure registries, `https` for every other host."""
        return "http" if is_loopback(host) or host in self.insecure else "https"

    def endpoints(self, domain: str, *, push: bool = False) -> list[Endpoint]:
        """Where to send requests for a registry `domain`: its mirrors first (not for pushes)."""
        upstream = DOCKER_HUB_API_HOST if domain == DEFAULT_DOMAIN else domain
        found = (
            []
            if push
            else [
                Endpoint(self.scheme_for(host), host, mirror=True)
                for host in self.mirrors.get(domain, ())
            ]
        )
        found.append(Endpoint(self.scheme_for(upstream), upstream))
        return found


def is_loopback(host: str) -> bool:
    """Whether `host` (with an optional port) is localhost, 127.0.0.0/8 or ::1."""
    name = host
    if name.startswith("["):
        name = name[1 : name.find("]")]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def default_config_path() -> Path:
    """`$DOCKYARD_REGISTRIES_CONFIG`, else `~/.config/dockyard/registries.json`."""
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    return Path.home() / ".config" / "dockyard" / "registries.json"


def _host(value: object, path: Path) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise InvalidArgument(f"{path}: registry {value!r} must be a host[:port] string")
    return value


def load_registry_config(path: Path | None = None) -> RegistryConfig:
    """Read `registries.json`; a missing file means the defaults (no mirrors, none insecure)."""
    path = path or default_config_path()
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return RegistryConfig()
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgument(f"{path}: not valid JSON ({exc}): fix or remove the file") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{path}: expected a JSON object with insecure-registries, mirrors")
    unknown = set(doc) - {"insecure-registries", "mirrors"}
    if unknown:
        raise InvalidArgument(f"{path}: unknown keys {sorted(unknown)}: remove them")
    insecure = doc.get("insecure-registries", [])
    mirrors = doc.get("mirrors", {})
    if not isinstance(insecure, list) or not isinstance(mirrors, dict):
        raise InvalidArgument(f"{path}: insecure-registries must be a list, mirrors an object")
    mirror_map: dict[str, tuple[str, ...]] = {}
    for domain, hosts in mirrors.items():
        if not isinstance(hosts, list):
            raise InvalidArgument(f"{path}: mirrors of {domain!r} must be a list of hosts")
        mirror_map[_host(domain, path)] = tuple(_host(h, path) for h in hosts)
    return RegistryConfig(insecure=frozenset(_host(h, path) for h in insecure), mirrors=mirror_map)
