"""`dockyard compose pull`, `push`, `build` and `images`: the services' images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.cli.compose_project import (
    engine_client,
    load,
    project_name,
    service_containers,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.compose.engine_client import EngineClient
    from dockyard.compose.model import Project, Service


def _service_images(args: argparse.Namespace) -> tuple[Project, list[tuple[str, str]]]:
    from dockyard.compose.convert import image_name
    from dockyard.compose.plan import select_services

    project = load(args).project
    names = select_services(project, list(args.services), with_deps=False)
    return project, [(n, image_name(project, project.services[n])) for n in names]


def _each_image(
    args: argparse.Namespace,
    root: Path,
    verbs: tuple[str, str],
    wanted: Callable[[Service], bool],
    act: Callable[[EngineClient, Service, str], None],
) -> int:
    """Run `act` on the image of each selected service that is `wanted`, with progress lines."""
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = engine_client(root)
    progress = progress_for(sys.stdout)
    doing, done = verbs
    try:
        for name, ref in refs:
            service = project.services[name]
            if not wanted(service):
                continue
            progress.event(Event("Image", ref, doing, done=False))
            act(client, service, ref)
            progress.event(Event("Image", ref, done))
    finally:
        progress.close()
    return 0


def pull(args: argparse.Namespace, root: Path) -> int:
    return _each_image(
        args,
        root,
        ("Pulling", "Pulled"),
        lambda s: s.image is not None,  # built images are not pulled
        lambda client, _s, ref: client.pull(ref),
    )


def push(args: argparse.Namespace, root: Path) -> int:
    return _each_image(
        args,
        root,
        ("Pushing", "Pushed"),
        lambda s: s.build is not None,  # Compose pushes only the images it builds
        lambda client, _s, ref: client.push(ref),
    )


def build_images(args: argparse.Namespace, root: Path) -> int:
    def build(client: EngineClient, service: Service, ref: str) -> None:
        assert service.build is not None
        client.build(service.build, ref)

    return _each_image(args, root, ("Building", "Built"), lambda s: s.build is not None, build)


def images(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table

    name, _, _ = project_name(args)
    client = engine_client(root)
    containers = service_containers(client, name, args.services)
    if args.quiet:
        print("\n".join(dict.fromkeys(c.image_id for c in containers)))
        return 0
    rows = []
    for c in containers:
        repo, _, tag = c.image.rpartition(":") if ":" in c.image else (c.image, "", "latest")
        image_id = c.image_id.removeprefix("sha256:")[:12]
        rows.append([c.name, repo or c.image, tag or "latest", image_id])
    print(table(("CONTAINER", "REPOSITORY", "TAG", "IMAGE ID"), rows))
    return 0
