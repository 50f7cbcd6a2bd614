"""The container's cgroup path, from runtime-spec `linux.cgroupsPath` and the container id."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

DEFAULT_PARENT = "/dockyard"


def resolve_path(cgroups_path: str | None, container_id: str) -> str:
    """Return the absolute cgroup path: "/dockyard/<id>" by default, relative paths rooted at /."""
    if not cgroups_path:
        if not container_id or "/" in container_id or container_id in {".", ".."}:
            raise InvalidArgument(
                f"container id {container_id!r} cannot name a cgroup; use an id without '/'"
            )
        cgroups_path = f"{DEFAULT_PARENT}/{container_id}"
    parts = [p for p in cgroups_path.split("/") if p not in {"", "."}]
    if ".." in parts:
        # A ".." would let a bundle place (and later rmdir) cgroups outside the intended tree.
        raise InvalidArgument(
            f"cgroupsPath {cgroups_path!r} contains '..'; give a path without '..' components"
        )
    if not parts:
        raise InvalidArgument(
            f"cgroupsPath {cgroups_path!r} names the root cgroup; give a path below it"
        )
    return "/" + "/".join(parts)
