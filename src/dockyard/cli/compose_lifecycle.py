"""`dockyard compose start`, `stop`, `restart`, `kill`, `rm`, `pause` and `unpause`: one verb
applied to each chosen container, in dependency order.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.cli.compose_project import (
    check_services,
    engine_client,
    project_name,
    service_containers,
)

if TYPE_CHECKING:
    from dockyard.compose.engine_client import ContainerInfo, EngineClient


def _act(
    args: argparse.Namespace,
    root: Path,
    verb: str,
    done: str,
    work: Callable[[EngineClient, ContainerInfo], None],
    *,
    running: bool | None = None,
    reverse: bool = False,
) -> int:
    """Apply `work` to each chosen container, in dependency order (reversed to stop)."""
    from dockyard.compose.observe import service_of
    from dockyard.compose.output import Event, progress_for
    from dockyard.compose.plan import waves

    name, project, _ = project_name(args)
    check_services(project, args.services)
    client = engine_client(root)
    containers = service_containers(client, name, args.services)
    if running is not None:
        containers = [c for c in containers if c.running == running]
    if project is not None:
        order = [n for wave in waves(project, list(project.services)) for n in wave]
        rank = {n: i for i, n in enumerate(reversed(order) if reverse else order)}
        containers.sort(key=lambda c: rank.get(service_of(c), -1))
    progress = progress_for(sys.stdout)
    try:
        for container in containers:
            progress.event(Event("Container", container.name, verb, done=False))
            work(client, container)
            progress.event(Event("Container", container.name, done))
    finally:
        progress.close()
    return 0


def start(args: argparse.Namespace, root: Path) -> int:
    return _act(args, root, "Starting", "Started", lambda c, x: c.start(x.id), running=False)


def stop(args: argparse.Namespace, root: Path) -> int:
    return _act(
        args, root, "Stopping", "Stopped", lambda c, x: c.stop(x.id, args.timeout), reverse=True
    )


def restart(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.plan import with_restart_dependents

    if args.services:
        # Dependents declared with `depends_on.restart: true` restart with their dependency.
        _, project, _ = project_name(args)
        if project is not None:
            check_services(project, args.services)
            args.services = with_restart_dependents(project, args.services)

    def again(client: EngineClient, c: ContainerInfo) -> None:
        if client.inspect(c.id).running:
            client.stop(c.id, args.timeout)
        client.start(c.id)

    return _act(args, root, "Restarting", "Started", again)


def kill(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.options import parse_signal

    number = parse_signal(args.signal, "--signal")
    return _act(args, root, "Killing", "Killed", lambda c, x: c.kill(x.id, number), running=True)


def rm(args: argparse.Namespace, root: Path) -> int:
    def remove(client: EngineClient, c: ContainerInfo) -> None:
        if client.inspect(c.id).running:
            client.stop(c.id, None)
        client.remove(c.id, force=True, volumes=args.volumes)

    if not args.stop:
        return _act(args, root, "Removing", "Removed", remove, running=False)
    return _act(args, root, "Removing", "Removed", remove, reverse=True)


def pause(args: argparse.Namespace, root: Path) -> int:
    if args.sub == "pause":
        return _act(args, root, "Pausing", "Paused", lambda c, x: c.pause(x.id), running=True)
    return _act(args, root, "Unpausing", "Unpaused", lambda c, x: c.unpause(x.id), running=True)
