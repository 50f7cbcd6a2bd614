"""YAML → plain data, remembering the line of every key path for error messages.

PyYAML speaks YAML 1.1, where `22:22` is the integer 1342 and `yes` is true; Compose (Go,
yaml.v3) reads YAML 1.2's core schema, so this loader uses 1.2 resolvers for bool/int/float
and has no timestamps. `!reset` and `!override` are the Compose spec's merge tags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dockyard.compose.errors import ComposeError, ComposeFileNotFound, KeyPath, Location


@dataclass(frozen=True)
class Reset:
    """`!reset`: drop the value inherited from earlier files (Compose spec, merge.md)."""


@dataclass(frozen=True)
class Override:
    """`!override value`: replace the inherited value instead of merging into it."""

    value: Any


@dataclass(frozen=True)
class Document:
    """One loaded compose file: its data and the 1-based line of every key path in it."""

    file: str
    data: dict[str, Any]
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> Location | None:
        """The location of `path`, or of its nearest ancestor that has one."""
        return locate(self.file, self.lines, path)


def locate(file: str, lines: Mapping[KeyPath, int], path: KeyPath) -> Location | None:
    """The location of `path` in `lines`, falling back to the nearest recorded ancestor."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return Location(file, line)
    return None


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if (
        len(text) > 1
        and text.startswith("0")
        and text.isdigit()
        and "8" not in text
        and "9" not in text
    ):
        # yaml.v3 (Compose) reads a leading 0 as octal, as in `mode: 0440`.
        return int(text, 8)
    return int(text, 10)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_Loader.add_constructor("tag:yaml.org,2002:int", _int)


class _Walker:
    """Turns a composed node tree into plain data while recording each path's line."""

    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[KeyPath, int] = {}

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        if node.tag == "!reset":
            return Reset()
        if node.tag == "!override":
            node.tag = _default_tag(node)
            return Override(self.value(node, path))
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            out = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                out.append(self.value(item, (*path, index)))
            return out
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor`; merged pairs come first
        inherited = len(node.value) - own
        out: dict[str, Any] = {}
        seen: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            raw_key = self.loader.construct_object(key_node, deep=True)
            key = _key_text(raw_key)
            line = key_node.start_mark.line + 1
            if index >= inherited and key in seen:
                raise ComposeError(
                    f"duplicate key {key!r}; remove one of them",
                    location=Location(self.file, line),
                    path=path,
                )
            if index >= inherited:
                seen.add(key)
            self.lines[(*path, key)] = line
            out[key] = self.value(value_node, (*path, key))
        return out


def _key_text(raw: Any) -> str:
    # Keys are strings in Compose; yaml.v3 prints true/null keys in lower case.
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return str(raw).lower()
    return str(raw)


def _default_tag(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "tag:yaml.org,2002:map"
    if isinstance(node, yaml.SequenceNode):
        return "tag:yaml.org,2002:seq"
    return "tag:yaml.org,2002:str"


def parse_yaml(text: str, file: str) -> Document:
    """Parse one compose document; invalid YAML becomes a one-line `ComposeError` with file:line."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(file, {}, {})
        walker = _Walker(loader, file)
        data = walker.value(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ComposeError(
            f"invalid YAML: {problem}; fix the syntax", location=Location(file, line)
        ) from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"invalid YAML: {exc}", location=Location(file, 1)) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ComposeError(
            "top level must be a mapping (services:, networks:, …)", location=Location(file, 1)
        )
    return Document(file, data, walker.lines)


def load_yaml(path: Path) -> Document:
    """Read and parse the compose file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComposeFileNotFound(f"compose file {path} does not exist; check -f") from None
    except IsADirectoryError:
        raise ComposeError(f"compose file {path} is a directory; name a file") from None
    except UnicodeDecodeError:
        raise ComposeError(f"compose file {path} is not UTF-8 text; re-save it as UTF-8") from None
    return parse_yaml(text, str(path))
