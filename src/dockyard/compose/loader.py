"""Loading a project: find the files, read `.env`, and run load → interpolate → validate →
merge → normalize into a `Project`, keeping the warnings and where each variable came from.

Each file is validated on its own before merging, so a schema error names the file and line
the user wrote; `include` and `extends` are resolved per file, as Compose does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.compose.dotenv import read_dotenv
from dockyard.compose.errors import (
    ComposeError,
    ComposeFileNotFound,
    ComposeWarning,
    KeyPath,
    Location,
)
from dockyard.compose.extends import resolve_extends
from dockyard.compose.forms import canonical_forms
from dockyard.compose.interpolate import (
    SourceKind,
    Substitution,
    Variable,
    interpolate,
    mapping_lookup,
    substitute,
)
from dockyard.compose.merge import merge_trees, strip_markers
from dockyard.compose.model import Project
from dockyard.compose.normalize import normalize
from dockyard.compose.paths import absolute_project
from dockyard.compose.schema import validate, warnings_for
from dockyard.compose.source import load_yaml
from dockyard.compose.tree import Tree, tree_of

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class LoadOptions:
    """What the command line says: `-f`, `-p`, `--project-directory`, `--env-file`, profiles.

    `environ` is the shell environment and `working_dir` the directory the command runs in;
    both are injected so that loading is a function of its inputs."""

    files: tuple[str, ...] = ()
    project_name: str | None = None
    project_directory: str | None = None
    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    working_dir: str = "."
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedProject:
    """A project with what `config --explain` needs: its files, variables, substitutions."""

    project: Project
    files: tuple[str, ...]
    variables: Mapping[str, Variable]
    substitutions: tuple[Substitution, ...]
    warnings: tuple[ComposeWarning, ...]


def find_compose_file(start: str) -> tuple[str, ...]:
    """The first compose file in `start` or a parent directory, plus its override file."""
    directory = Path(start).resolve()
    for candidate in (directory, *directory.parents):
        for name in COMPOSE_FILES:
            found = candidate / name
            if found.is_file():
                overrides = [candidate / o for o in OVERRIDE_FILES if (candidate / o).is_file()]
                return (str(found), *(str(o) for o in overrides[:1]))
    raise ComposeFileNotFound(
        f"no compose file ({', '.join(COMPOSE_FILES)}) in {directory} or its parents; "
        "create one or pass -f"
    )


def normalize_project_name(name: str) -> str:
    """A directory name made a project name as Compose does: lower case, [a-z0-9_-] only."""
    cleaned = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return cleaned.lstrip("_-")


def read_env_files(
    paths: Sequence[str], environ: Mapping[str, str], *, required: bool
) -> dict[str, Variable]:
    """The project variables from `.env` files: later files win, and the shell wins over all."""
    variables: dict[str, Variable] = {}

    def expand(text: str, location: Location, earlier: Mapping[str, str]) -> str:
        def lookup(name: str) -> Variable | None:
            if name in environ:
                return Variable(environ[name], SourceKind.SHELL)
            if name in earlier:
                return Variable(earlier[name], SourceKind.DOTENV, location)
            return variables.get(name)

        return substitute(text, lookup, location=location)[0]

    for path in paths:
        if not required and not Path(path).is_file():
            continue
        for entry in read_dotenv(Path(path), substitute=expand):
            if entry.value is not None:
                variables[entry.key] = Variable(entry.value, SourceKind.DOTENV, entry.location)
            elif entry.key in environ:
                variables[entry.key] = Variable(environ[entry.key], SourceKind.SHELL)
    for name, value in environ.items():
        variables[name] = Variable(value, SourceKind.SHELL)
    return variables


class _Pipeline:
    """Loads files for one project (or one included sub-project) with one set of variables."""

    def __init__(self, variables: Mapping[str, Variable], environ: Mapping[str, str]) -> None:
        self.variables = variables
        self.environ = environ
        self.lookup = mapping_lookup(variables)
        self.substitutions: list[Substitution] = []
        self.warnings: list[ComposeWarning] = []
        self.stack: tuple[str, ...] = ()

    def file(self, path: str) -> Tree:
        """One file, interpolated, validated, in canonical form, `extends` resolved."""
        document = load_yaml(Path(path))
        interpolated = interpolate(document, self.lookup)
        self.substitutions.extend(interpolated.substitutions)
        self.warnings.extend(interpolated.warnings)
        tree = tree_of(interpolated.document)
        validate(tree)
        self.warnings.extend(warnings_for(tree))
        tree = canonical_forms(tree)
        return resolve_extends(tree, path, self.extended)

    def extended(self, path: str) -> Tree:
        return canonical_forms(self.validated(path))

    def validated(self, path: str) -> Tree:
        document = load_yaml(Path(path))
        interpolated = interpolate(document, self.lookup)
        self.substitutions.extend(interpolated.substitutions)
        self.warnings.extend(interpolated.warnings)
        tree = tree_of(interpolated.document)
        validate(tree)
        return tree

    def files(self, paths: Sequence[str]) -> Tree:
        """Several files merged in order, each with its `include`s applied."""
        merged: Tree | None = None
        for path in paths:
            tree = self.with_includes(self.file(path), path)
            merged = tree if merged is None else merge_trees(merged, tree)
        if merged is None:
            raise ComposeError("no compose file given; pass -f FILE")
        return merged

    def with_includes(self, tree: Tree, file: str) -> Tree:
        entries = tree.data.get("include")
        if not entries:
            return tree
        if file in self.stack:
            raise ComposeError(f"include loop through {file}; remove one include")
        data = {k: v for k, v in tree.data.items() if k != "include"}
        for index, entry in enumerate(entries):
            where: KeyPath = ("include", index)
            included = self.include(entry, os.path.dirname(file), tree.locate(where), where)
            data = _add_included(data, included, tree, where)
        return Tree(data, tree.locations)

    def include(
        self, entry: Any, base: str, location: Location | None, where: KeyPath
    ) -> dict[str, Any]:
        spec = {"path": entry} if isinstance(entry, str) else dict(entry)
        paths = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
        paths = [os.path.normpath(os.path.join(base, str(p))) for p in paths]
        for path in paths:
            if not Path(path).is_file():
                raise ComposeFileNotFound(
                    f"included file {path} does not exist; fix include.path",
                    location=location,
                    path=where,
                )
        project_dir = os.path.normpath(
            os.path.join(base, str(spec.get("project_directory") or os.path.dirname(paths[0])))
        )
        env_spec = spec.get("env_file")
        env_paths = [env_spec] if isinstance(env_spec, str) else list(env_spec or [])
        env_files = [os.path.normpath(os.path.join(base, str(p))) for p in env_paths]
        variables = read_env_files(
            env_files or [os.path.join(project_dir, ".env")],
            self.environ,
            required=bool(env_files),
        )
        sub = _Pipeline(variables, self.environ)
        sub.stack = (*self.stack, *paths)
        tree = sub.files(paths)
        self.substitutions.extend(sub.substitutions)
        self.warnings.extend(sub.warnings)
        return absolute_project(strip_markers(tree.data), project_dir)


def _add_included(
    data: dict[str, Any], included: dict[str, Any], tree: Tree, where: KeyPath
) -> dict[str, Any]:
    out = dict(data)
    for kind in ("services", "networks", "volumes", "secrets", "configs"):
        theirs = included.get(kind) or {}
        ours = dict(out.get(kind) or {})
        for name, value in theirs.items():
            if name in ours:
                raise ComposeError(
                    f'{kind[:-1]} "{name}" is defined both here and in an included file; '
                    "rename one or override it with -f",
                    location=tree.locate((kind, name)),
                    path=(kind, name),
                )
            ours[name] = value
        if ours:
            out[kind] = ours
    return out


def _project_name(
    options: LoadOptions, variables: Mapping[str, Variable], tree: Tree, project_dir: str
) -> str:
    if options.project_name is not None:
        if not _PROJECT_NAME.match(options.project_name):
            raise ComposeError(
                f'invalid project name "{options.project_name}"; use lower-case letters, '
                "digits, _ and -, starting with a letter or digit"
            )
        return options.project_name
    env_name = variables.get("COMPOSE_PROJECT_NAME")
    if env_name is not None and env_name.value:
        return normalize_project_name(env_name.value)
    top = tree.data.get("name")
    if top:
        return str(top)
    name = normalize_project_name(os.path.basename(project_dir))
    if not name:
        raise ComposeError(f"cannot make a project name from directory {project_dir}; pass -p NAME")
    return name


def load_project(options: LoadOptions) -> LoadedProject:
    """Load, interpolate, validate, merge and normalize the project `options` describe."""
    working_dir = os.path.abspath(options.working_dir)
    environ = options.environ
    if options.files:
        files = tuple(os.path.join(working_dir, f) for f in options.files)
    elif environ.get("COMPOSE_FILE"):
        separator = environ.get("COMPOSE_PATH_SEPARATOR", os.pathsep)
        files = tuple(
            os.path.join(working_dir, f) for f in environ["COMPOSE_FILE"].split(separator) if f
        )
    else:
        files = find_compose_file(working_dir)
    files = tuple(os.path.normpath(f) for f in files)
    project_dir = os.path.normpath(
        os.path.join(working_dir, options.project_directory)
        if options.project_directory
        else os.path.dirname(files[0])
    )
    if options.env_files:
        env_paths = [os.path.join(working_dir, f) for f in options.env_files]
        variables = read_env_files(env_paths, environ, required=True)
    else:
        variables = read_env_files([os.path.join(project_dir, ".env")], environ, required=False)
    pipeline = _Pipeline(variables, environ)
    merged = pipeline.files(files)
    tree = Tree(strip_markers(merged.data), merged.locations)
    name = _project_name(options, variables, tree, project_dir)
    profiles = options.profiles
    if not profiles and variables.get("COMPOSE_PROFILES"):
        profiles = tuple(p for p in variables["COMPOSE_PROFILES"].value.split(",") if p)
    project = normalize(tree, name, project_dir, pipeline.lookup, profiles)
    return LoadedProject(
        project=project,
        files=files,
        variables=variables,
        substitutions=tuple(pipeline.substitutions),
        warnings=tuple(pipeline.warnings),
    )
