"""Load and validate a bundle's `config.json` before anything is created."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.kernel import constants as k
from dockyard.runtime.errors import BadConfig

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Spec


NAMESPACE_FLAGS: dict[str, int] = {
    "pid": k.CLONE_NEWPID,
    "network": k.CLONE_NEWNET,
    "mount": k.CLONE_NEWNS,
    "ipc": k.CLONE_NEWIPC,
    "uts": k.CLONE_NEWUTS,
    "user": k.CLONE_NEWUSER,
    "cgroup": k.CLONE_NEWCGROUP,
    "time": k.CLONE_NEWTIME,
}

# /proc/<pid>/ns/<name> for each runtime-spec namespace type
NAMESPACE_PROC_NAMES: dict[str, str] = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "user": "user",
    "cgroup": "cgroup",
    "time": "time",
}

_ID_RE = re.compile(r"^[\w+\-.]+$")


def validate_id(container_id: str) -> None:
    """Reject ids that are empty, contain `/`, or are `.`/`..` (they would escape the root)."""
    if not container_id or container_id in (".", "..") or not _ID_RE.fullmatch(container_id):
        raise BadConfig(
            f"invalid container id {container_id!r}: use letters, digits, '_', '+', '-' and '.'"
        )


def load_bundle(bundle: Path) -> Spec:
    """Read and validate `<bundle>/config.json`; the root path is made absolute."""
    path = bundle / "config.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadConfig(f"{path}: no such file; write one with `dockyard-runtime spec`") from None
    except OSError as e:
        raise BadConfig(f"{path}: {e.strerror}") from None
    try:
        spec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadConfig(f"{path}: malformed JSON: {e}") from None
    if not isinstance(spec, dict):
        raise BadConfig(f"{path}: expected a JSON object")
    typed: Spec = spec  # type: ignore[assignment]
    validate_spec(typed, bundle)
    return typed


def _fail(msg: str) -> BadConfig:
    return BadConfig(f"config.json: {msg}")


def validate_spec(spec: Spec, bundle: Path) -> None:
    """Check the parts of the spec the runtime relies on; raise `BadConfig` naming the field."""
    if not isinstance(spec.get("ociVersion"), str):
        raise _fail("ociVersion is missing")
    root = spec.get("root")
    if not isinstance(root, dict) or not isinstance(root.get("path"), str):
        raise _fail("root.path is missing")
    rootfs = Path(root["path"])
    if not rootfs.is_absolute():
        rootfs = (bundle / rootfs).resolve()
        root["path"] = str(rootfs)
    if not rootfs.is_dir():
        raise _fail(f"root.path {str(rootfs)!r} is not a directory")
    process = spec.get("process")
    if not isinstance(process, dict):
        raise _fail("process is missing")
    args = process.get("args")
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
        raise _fail("process.args must be a non-empty list of strings")
    cwd = process.get("cwd", "/")
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise _fail(f"process.cwd {cwd!r} must be an absolute path")
    for entry in process.get("env", []):
        if not isinstance(entry, str) or "=" not in entry:
            raise _fail(f"process.env entry {entry!r} is not KEY=VALUE")
    linux = spec.get("linux", {})
    seen: set[str] = set()
    for ns in linux.get("namespaces", []):
        ns_type = ns.get("type", "")
        if ns_type not in NAMESPACE_FLAGS:
            raise _fail(
                f"unknown namespace type {ns_type!r}; known: {', '.join(sorted(NAMESPACE_FLAGS))}"
            )
        if ns_type in seen:
            raise _fail(f"namespace {ns_type!r} is listed twice")
        seen.add(ns_type)
        ns_path = ns.get("path")
        if ns_path and not os.path.exists(ns_path):
            raise _fail(f"namespace path {ns_path!r} for {ns_type!r} does not exist")
    new_ns = {ns["type"] for ns in linux.get("namespaces", []) if not ns.get("path")}
    if (spec.get("hostname") or spec.get("domainname")) and "uts" not in seen:
        raise _fail("hostname/domainname need a private uts namespace")
    has_maps = (bool(linux.get("uidMappings")), bool(linux.get("gidMappings")))
    if "user" in new_ns and not all(has_maps):
        raise _fail("a new user namespace needs linux.uidMappings and linux.gidMappings")
    if "user" not in new_ns and any(has_maps):
        raise _fail("uidMappings/gidMappings need a new user namespace")
    if linux.get("timeOffsets") and "time" not in new_ns:
        raise _fail("linux.timeOffsets needs a new time namespace")
    for mount in spec.get("mounts", []):
        dest = mount.get("destination")
        if not isinstance(dest, str) or not dest.startswith("/"):
            raise _fail(f"mount destination {dest!r} must be an absolute path")
    for key in linux.get("sysctl") or {}:
        if "/" in key or not all(key.split(".")):
            raise _fail(f"invalid sysctl name {key!r}")
