"""Validation of one compose file against the schema in `schema/compose-spec.json`.

The schema (written for dockyard from the Compose specification's documented keys) accepts every
key of the specification; the keys dockyard does not implement are reported as warnings here
rather than dropped in silence. Errors carry the file, the line and the key path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dockyard.compose.errors import ComposeError, ComposeWarning, KeyPath
from dockyard.compose.merge import strip_markers
from dockyard.compose.tree import Tree

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# Valid Compose keys that dockyard reads but does not act on, by where they appear.
UNSUPPORTED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "": frozenset({"models"}),
        "services.*": frozenset(
            [
                "annotations",
                "attach",
                "blkio_config",
                "cgroup",
                "cgroup_parent",
                "cpu_count",
                "cpu_percent",
                "cpu_shares",
                "cpu_quota",
                "cpu_period",
                "cpu_rt_period",
                "cpu_rt_runtime",
                "cpuset",
                "credential_spec",
                "develop",
                "device_cgroup_rules",
                "devices",
                "external_links",
                "gpus",
                "group_add",
                "ipc",
                "isolation",
                "label_file",
                "mac_address",
                "mem_reservation",
                "mem_swappiness",
                "memswap_limit",
                "models",
                "oom_kill_disable",
                "oom_score_adj",
                "pid",
                "platform",
                "post_start",
                "pre_stop",
                "provider",
                "pull_refresh_after",
                "runtime",
                "storage_opt",
                "use_api_socket",
                "userns_mode",
                "uts",
                "volumes_from",
            ]
        ),
        "services.*.build": frozenset(
            [
                "entitlements",
                "ssh",
                "cache_from",
                "cache_to",
                "no_cache",
                "additional_contexts",
                "network",
                "pull",
                "shm_size",
                "extra_hosts",
                "isolation",
                "privileged",
                "secrets",
                "tags",
                "ulimits",
                "platforms",
            ]
        ),
        "services.*.deploy": frozenset(
            [
                "mode",
                "endpoint_mode",
                "labels",
                "rollback_config",
                "update_config",
                "restart_policy",
                "placement",
            ]
        ),
        "networks.*": frozenset({"attachable", "enable_ipv4"}),
        "secrets.*": frozenset({"labels", "driver", "driver_opts", "template_driver"}),
        "configs.*": frozenset({"labels", "driver", "driver_opts", "template_driver"}),
    }
)


def load_schema() -> dict[str, Any]:
    """The compose JSON schema shipped with dockyard."""
    text = resources.files("dockyard.compose").joinpath("schema/compose-spec.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "sequence"
    return "mapping"


def _describe(error: ValidationError) -> tuple[KeyPath, str]:
    """The key path and the one-line reason for a schema error."""
    path: KeyPath = tuple(error.absolute_path)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extra = [
            key
            for key in instance
            if key not in known and not any(re.search(p, key) for p in patterns)
        ]
        key = extra[0] if extra else "?"
        if path in (("services",), ("networks",), ("volumes",), ("secrets",), ("configs",)):
            return (*path, key), f'invalid name "{key}"; use letters, digits, ".", "_", "-"'
        return (*path, key), f'unknown key "{key}"; check the spelling (see docs/compose.md)'
    if error.validator == "type":
        wanted = error.validator_value
        names = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        names = names.replace("object", "mapping").replace("array", "sequence")
        return path, f"must be a {names}, not a {_json_type(instance)}"
    values = error.validator_value
    if error.validator == "enum" and isinstance(values, list):
        allowed = ", ".join(str(v) for v in values)
        return path, f'invalid value "{instance}"; use one of {allowed}'
    if error.validator == "required" and isinstance(values, list) and isinstance(instance, dict):
        missing = next((key for key in values if key not in instance), "?")
        return path, f'"{missing}" is required; add it'

    if error.validator == "uniqueItems":
        return path, "contains duplicate entries; list each once"
    if error.validator == "oneOf":
        return path, f"invalid value {json.dumps(instance, default=str)[:60]}; see docs/compose.md"
    return path, error.message


def validate(tree: Tree) -> None:
    """Raise `ComposeError` at the first schema violation of a single compose file."""
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import best_match

    validator = Draft7Validator(load_schema())
    errors = sorted(
        validator.iter_errors(strip_markers(tree.data)), key=lambda e: [str(p) for p in e.path]
    )
    if not errors:
        return
    error = best_match(errors)
    path, reason = _describe(error)
    raise ComposeError(reason, location=tree.locate(path), path=path)


def _places(data: dict[str, Any]) -> Iterator[tuple[str, KeyPath, Any]]:
    yield "", (), data
    for kind in ("services", "networks", "secrets", "configs"):
        entries = data.get(kind)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            yield f"{kind}.*", (kind, name), entry
            if kind == "services" and isinstance(entry, dict):
                for sub in ("build", "deploy"):
                    yield f"services.*.{sub}", (kind, name, sub), entry.get(sub)


def warnings_for(tree: Tree) -> list[ComposeWarning]:
    """Warnings for the obsolete `version` and every key dockyard does not implement."""
    found: list[ComposeWarning] = []
    if "version" in tree.data:
        found.append(
            ComposeWarning(
                'the top-level "version" is obsolete and ignored; remove it',
                tree.locate(("version",)),
                ("version",),
            )
        )
    for place, path, entry in _places(tree.data):
        if not isinstance(entry, dict):
            continue
        keys = sorted(UNSUPPORTED[place] & entry.keys())
        if keys:
            found.append(
                ComposeWarning(
                    f"not supported by dockyard, ignored: {', '.join(keys)}",
                    tree.locate((*path, keys[0])),
                    path,
                )
            )
    return found
