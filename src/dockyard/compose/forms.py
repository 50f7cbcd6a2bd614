"""One form per key before merging: Compose allows a list or a map, a string or a list.

`environment: [A=1]` → `{A: "1"}`, `depends_on: [db]` → `{db: {condition: service_started}}`,
`build: ./dir` → `{context: ./dir}`, `dns: 8.8.8.8` → `[8.8.8.8]` — so that merge rules and the
config hash see one shape whatever the user wrote.
"""

from __future__ import annotations

from typing import Any

from dockyard.compose.errors import KeyPath, Location
from dockyard.compose.source import Override, Reset
from dockyard.compose.tree import Tree

# Service keys whose value is a list of KEY=VALUE strings or a mapping (list_or_dict).
LIST_OR_DICT = frozenset({"environment", "labels", "annotations", "sysctls"})
BUILD_LIST_OR_DICT = frozenset({"args", "labels"})
# Service keys that take a single string or a list of strings.
STRING_OR_LIST = frozenset({"dns", "dns_search", "env_file", "tmpfs"})


def split_assignment(item: str, separator: str = "=") -> tuple[str, str | None]:
    """`KEY=VALUE` → (KEY, VALUE); a bare `KEY` → (KEY, None), meaning "from the shell"."""
    key, found, value = item.partition(separator)
    return key, value if found else None


def scalar_text(value: Any) -> str | None:
    """A YAML scalar as Compose reads it in environment/labels (`true`, `1.5`, null→None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Canon:
    def __init__(self, tree: Tree) -> None:
        self.locations: dict[KeyPath, Location] = dict(tree.locations)

    def moved(self, old: KeyPath, new: KeyPath) -> None:
        loc = self.locations.get(old)
        if loc is not None:
            self.locations[new] = loc

    def list_or_dict(self, value: Any, path: KeyPath) -> Any:
        if not isinstance(value, list):
            if isinstance(value, dict):
                return {
                    key: item if isinstance(item, Reset | Override) else scalar_text(item)
                    for key, item in value.items()
                }
            return value
        out: dict[str, str | None] = {}
        for index, item in enumerate(value):
            key, item_value = split_assignment(str(item))
            out[key] = item_value
            self.moved((*path, index), (*path, key))
        return out

    def service(self, service: Any, path: KeyPath) -> Any:
        if not isinstance(service, dict):
            return service
        out = {}
        for key, value in service.items():
            if isinstance(value, Override):
                out[key] = Override(self.key(key, value.value, (*path, key)))
            else:
                out[key] = self.key(key, value, (*path, key))
        return out

    def key(self, key: str, value: Any, path: KeyPath) -> Any:
        if key in LIST_OR_DICT:
            return self.list_or_dict(value, path)
        if key in STRING_OR_LIST and isinstance(value, str):
            return [value]
        if key == "build":
            build = {"context": value} if isinstance(value, str) else value
            if isinstance(build, dict):
                build = dict(build)
                for sub in BUILD_LIST_OR_DICT & build.keys():
                    build[sub] = self.list_or_dict(build[sub], (*path, sub))
            return build
        if key == "depends_on" and isinstance(value, list):
            for index, name in enumerate(value):
                self.moved((*path, index), (*path, str(name)))
            return {str(name): {"condition": "service_started", "required": True} for name in value}
        if key == "networks" and isinstance(value, list):
            for index, name in enumerate(value):
                self.moved((*path, index), (*path, str(name)))
            return {str(name): None for name in value}
        if key == "extends" and isinstance(value, str):
            return {"service": value}
        return value


def canonical_forms(tree: Tree) -> Tree:
    """Rewrite the list/map and string/list alternatives of every service into one form."""
    canon = _Canon(tree)
    data = dict(tree.data)
    services = data.get("services")
    if isinstance(services, dict):
        data["services"] = {
            name: canon.service(service, ("services", name)) for name, service in services.items()
        }
    return Tree(data, canon.locations)
