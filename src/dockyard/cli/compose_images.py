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
    from dockyard.compose.model import Project


def _service_images(args: argparse.Namespace) -> tuple[Project, list[tuple[str, str]]]:
    from dockyard.compose.convert import image_name
    from dockyard.compose.plan import select_services

    project = load(args).project
    names = select_services(project, list(args.services), with_deps=False)
    return project, [(n, image_name(project, project.services[n])) for n in names]


def pull(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = engine_client(root)
    progress = progress_for(sys.stdout)
    try:
        for service, ref in refs:
            if project.services[service].image is None:
                continue  # built, not pulled
            progress.event(Event("Image", ref, "Pulling", done=False))
            client.pull(ref)
            progress.event(Event("Image", ref, "Pulled"))
    finally:
        progress.close()
    return 0


def push(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = engine_client(root)
    progress = progress_for(sys.stdout)
    try:
        for service, ref in refs:
            if project.services[service].build is None:
                continue  # Compose pushes only the images it builds
            progress.event(Event("Image", ref, "Pushing", done=False))
            client.push(ref)
            progress.event(Event("Image", ref, "Pushed"))
    finally:
        progress.close()
    return 0


def build_images(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = engine_client(root)
    progress = progress_for(sys.stdout)
    try:
        for service, ref in refs:
            spec = project.services[service].build
            if spec is None:
                continue
            progress.event(Event("Image", ref, "Building", done=False))
            client.build(spec, ref)
            progress.event(Event("Image", ref, "Built"))
    finally:
        progress.close()
    return 0


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
