"""What every `dockyard compose` subcommand shares: the engine client, the loaded project (or
only its name, given `-p`), and the project's containers of the chosen services.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.compose.engine_client import ContainerInfo, EngineClient
    from dockyard.compose.loader import LoadedProject
    from dockyard.compose.model import Project


def engine_client(root: Path) -> EngineClient:
    """The engine the CLI drives: the local one under `root`."""
    from dockyard.compose.local import LocalEngine

    return LocalEngine(root)


def load(args: argparse.Namespace) -> LoadedProject:
    """The project from `-f`/`-p`/`--env-file`/`--profile`; loader warnings go to stderr."""
    from dockyard.compose.loader import LoadOptions, load_project

    loaded = load_project(
        LoadOptions(
            files=tuple(args.files),
            project_name=args.project_name,
            project_directory=args.project_directory,
            env_files=tuple(args.env_file),
            profiles=tuple(args.profile),
            working_dir=os.getcwd(),
            environ=dict(os.environ),
        )
    )
    for warning in loaded.warnings:
        sys.stderr.write(f"WARN[0000] {warning}\n")
    return loaded


def project_name(args: argparse.Namespace) -> tuple[str, Project | None, tuple[str, ...]]:
    """The project from its files; with `-p` and no compose file, only its name (for down/ps)."""
    from dockyard.compose.errors import ComposeFileNotFound

    try:
        loaded = load(args)
    except ComposeFileNotFound:
        if args.project_name and not args.files:
            return args.project_name, None, ()
        raise
    return loaded.project.name, loaded.project, loaded.files


def service_containers(
    client: EngineClient, project: str, services: Iterable[str], *, all_: bool = True
) -> list[ContainerInfo]:
    """The project's containers of `services` (all if none), only running ones unless `all_`."""
    from dockyard.compose.observe import project_containers, service_of

    chosen = set(services)
    return [
        c
        for c in project_containers(client, project)
        if (not chosen or service_of(c) in chosen) and (all_ or c.running)
    ]


def check_services(project: Project | None, names: Iterable[str]) -> None:
    """An unknown service name is an error (when the project's files were loaded)."""
    from dockyard.compose.plan import select_services

    if project is not None:
        select_services(project, list(names), with_deps=False)


def container_of(client: EngineClient, project: str, service: str, index: int) -> ContainerInfo:
    """The service's container number `index` (`--index`)."""
    from dockyard.errors import NotFound

    for c in service_containers(client, project, [service]):
        from dockyard.compose.observe import number_of

        if number_of(c) == index:
            return c
    raise NotFound(f'service "{service}" has no container number {index}; is it up?')
