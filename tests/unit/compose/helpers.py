"""Running the pure compose stages on text, for tests that need no files."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from dockyard.compose.forms import canonical_forms
from dockyard.compose.interpolate import SourceKind, Variable, interpolate, mapping_lookup
from dockyard.compose.merge import merge_trees, strip_markers
from dockyard.compose.model import Project
from dockyard.compose.normalize import normalize
from dockyard.compose.schema import validate
from dockyard.compose.source import parse_yaml
from dockyard.compose.tree import Tree, tree_of


def shell(**values: str) -> dict[str, Variable]:
    """Variables as if exported in the shell."""
    return {k: Variable(v, SourceKind.SHELL) for k, v in values.items()}


def stage(text: str, file: str = "compose.yaml", env: Mapping[str, Variable] | None = None) -> Tree:
    """One document through load → interpolate → validate → canonical forms."""
    document = parse_yaml(textwrap.dedent(text), file)
    tree = tree_of(interpolate(document, mapping_lookup(env or {})).document)
    validate(tree)
    return canonical_forms(tree)


def merged(*texts: str) -> dict[str, object]:
    """Several documents merged in order, as plain data."""
    trees = [stage(t, f"file{i}.yaml") for i, t in enumerate(texts)]
    result = trees[0]
    for tree in trees[1:]:
        result = merge_trees(result, tree)
    data: dict[str, object] = strip_markers(result.data)
    return data


def project(
    *texts: str,
    env: Mapping[str, Variable] | None = None,
    profiles: tuple[str, ...] = (),
    directory: Path | str = "/project",
) -> Project:
    """Documents merged and normalised into a project named `test`."""
    trees = [stage(t, f"file{i}.yaml", env) for i, t in enumerate(texts)]
    result = trees[0]
    for tree in trees[1:]:
        result = merge_trees(result, tree)
    final = Tree(strip_markers(result.data), result.locations)
    return normalize(final, "test", str(directory), mapping_lookup(env or {}), profiles)
