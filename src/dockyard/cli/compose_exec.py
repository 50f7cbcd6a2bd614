"""`dockyard compose exec` (a command in a running service container) and `run` (a one-off
container, in `cli/compose_run.py`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dockyard.cli.compose_project import (
    check_services,
    container_of,
    engine_client,
    load,
    project_name,
)


def exec_(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import Conflict, InvalidArgument

    name, project, _ = project_name(args)
    check_services(project, [args.service])
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise InvalidArgument("exec needs a command: dockyard compose exec SERVICE COMMAND")
    client = engine_client(root)
    container = container_of(client, name, args.service, args.index)
    if not container.running:
        raise Conflict(f"container {container.name} is not running; start it first")
    tty = not args.no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    return client.execute(
        container.id, command, env=args.env, user=args.user, workdir=args.workdir, tty=tty
    )


def run(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.compose_run import run as run_oneoff
    from dockyard.compose.local import LocalEngine

    return run_oneoff(args, load(args), LocalEngine(root))
