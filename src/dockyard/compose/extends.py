"""`extends`: a service built on another one, from the same file or another (extends.md).

The base service is resolved first (recursively; a loop is an error naming it), then the
extending service is merged on top of it with the ordinary merge rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from dockyard.compose.errors import ComposeError, ComposeFileNotFound, KeyPath, Location
from dockyard.compose.merge import merge_service
from dockyard.compose.paths import absolute_service
from dockyard.compose.tree import Tree, rebase

# Loads another compose file (interpolated, validated, canonical forms) by absolute path.
LoadFile = Callable[[str], Tree]


class _Resolver:
    def __init__(self, load: LoadFile) -> None:
        self.load = load
        self.trees: dict[str, Tree] = {}

    def tree(self, file: str, where: Location | None, path: KeyPath) -> Tree:
        if file not in self.trees:
            try:
                self.trees[file] = self.load(file)
            except ComposeFileNotFound:
                raise ComposeFileNotFound(
                    f"extends file {file} does not exist; fix extends.file",
                    location=where,
                    path=path,
                ) from None
        return self.trees[file]

    def service(self, tree: Tree, file: str, name: str, chain: tuple[str, ...]) -> dict[str, Any]:
        """Service `name` of `tree` with its own `extends` resolved."""
        path: KeyPath = ("services", name)
        key = f"{file}:{name}"
        if key in chain:
            loop = " -> ".join(c.rsplit(":", 1)[1] for c in (*chain, key))
            raise ComposeError(
                f"extends loop: {loop}; remove one extends", location=tree.locate(path), path=path
            )
        services = tree.data.get("services") or {}
        service = dict(services[name] or {})
        spec = service.pop("extends", None)
        if not isinstance(spec, dict):
            return service
        base_name = str(spec.get("service"))
        where = tree.locate((*path, "extends"))
        if spec.get("file"):
            other = os.path.normpath(os.path.join(os.path.dirname(file), str(spec["file"])))
            other_tree = self.tree(other, where, (*path, "extends", "file"))
            base_file = other
        else:
            other_tree = tree
            base_file = file
        if base_name not in (other_tree.data.get("services") or {}):
            raise ComposeError(
                f'service "{name}" extends undefined service "{base_name}" in {base_file}; '
                "fix extends.service",
                location=where,
                path=(*path, "extends"),
            )
        base = self.service(other_tree, base_file, base_name, (*chain, key))
        if base_file != file:
            base = absolute_service(base, os.path.dirname(base_file))
        return merge_service(base, service)


def resolve_extends(tree: Tree, file: str, load: LoadFile) -> Tree:
    """`tree` (one file's canonical-form document) with every `extends` resolved."""
    services = tree.data.get("services")
    if not isinstance(services, dict) or not any(
        isinstance(s, dict) and "extends" in s for s in services.values()
    ):
        return tree
    resolver = _Resolver(load)
    locations = dict(tree.locations)
    out = {}
    for name, service in services.items():
        if not isinstance(service, dict) or "extends" not in service:
            out[name] = service
            continue
        out[name] = resolver.service(tree, file, name, ())
        base_name = service["extends"].get("service")
        if not service["extends"].get("file") and base_name in services:
            # Inherited keys point at the base service's lines.
            inherited = rebase(tree.locations, ("services", base_name), ("services", name))
            for key, loc in inherited.items():
                locations.setdefault(key, loc)
    return Tree({**tree.data, "services": out}, locations)
