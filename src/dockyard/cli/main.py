"""The `dockyard` command: finds the subcommand, builds only its parser, runs it.

Only the module of the command being run is imported: start-up time is a feature of a CLI.
Errors print one line on stderr; the exit code is 125 for engine errors (as Docker's).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

# command → (module under dockyard.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("containers", "Create and run a new container from an image"),
    "create": ("containers", "Create a new container"),
    "start": ("containers", "Start one or more stopped containers"),
    "stop": ("containers", "Stop one or more running containers"),
    "restart": ("containers", "Restart one or more containers"),
    "kill": ("containers", "Kill one or more running containers"),
    "rm": ("containers", "Remove one or more containers"),
    "ps": ("containers", "List containers"),
    "inspect": ("containers", "Return low-level information on containers or images"),
    "logs": ("containers", "Fetch the logs of a container"),
    "exec": ("containers", "Execute a command in a running container"),
    "wait": ("containers", "Block until containers stop, then print their exit codes"),
    "top": ("containers_extra", "Display the running processes of a container"),
    "stats": ("containers_extra", "Display a live stream of container resource usage"),
    "cp": ("containers_extra", "Copy files/folders between a container and the local filesystem"),
    "rename": ("containers_extra", "Rename a container"),
    "pause": ("containers_extra", "Pause all processes within one or more containers"),
    "unpause": ("containers_extra", "Unpause all processes within one or more containers"),
    "attach": ("containers_extra", "Attach to a running container's output"),
    "port": ("containers_extra", "List port mappings or a specific mapping for the container"),
    "export": ("containers_extra", "Export a container's filesystem as a tar archive"),
    "diff": ("containers_extra", "Inspect changes to files or directories on a container"),
    "commit": ("containers_extra", "Create a new image from a container's changes"),
    "events": ("containers_extra", "Get real time events from the engine"),
    "container": ("containers_extra", "Manage containers (ls, inspect, rm, prune, …)"),
    "system": ("containers_extra", "Manage dockyard (prune, df, info)"),
    "images": ("images", "List images"),
    "image": ("images", "Manage images (ls, inspect, rm, bootstrap, import, tag, prune)"),
    "import": ("images", "Import the contents from a tarball to create an image"),
    "tag": ("images", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "rmi": ("images", "Remove one or more images"),
    "pull": ("images", "Download an image from a registry"),
    "push": ("images", "Upload an image to a registry"),
    "save": ("images", "Save one or more images to a tar archive"),
    "load": ("images", "Load an image from a tar archive"),
    "history": ("images", "Show the history of an image"),
    "login": ("images", "Log in to a registry"),
    "logout": ("images", "Log out from a registry"),
    "volume": ("volumes", "Manage volumes (create, ls, inspect, rm, prune)"),
    "network": ("networks", "Manage networks (create, ls, inspect, rm, prune, connect, …)"),
    "compose": ("compose", "Define and run multi-container applications"),
    "build": ("build", "Build an image from a Dockerfile"),
    "builder": ("build", "Manage the build cache (prune)"),
    "version": ("info", "Show the dockyard version"),
}

EXIT_ENGINE = 125


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: dockyard [--root DIR] COMMAND [ARG...]", "", "Commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def _split_global(argv: list[str]) -> tuple[list[str], list[str]]:
    """Global options (before the command) and the rest."""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("--root",) else 1
    return argv[:i], argv[i:]


def main(argv: list[str] | None = None) -> int:
    """Entry point of `dockyard`."""
    args = sys.argv[1:] if argv is None else argv
    global_args, rest = _split_global(args)
    glob = argparse.ArgumentParser(prog="dockyard", add_help=False)
    glob.add_argument("--root", default=os.environ.get("DOCKYARD_ROOT", "/var/lib/dockyard"))
    glob.add_argument("--debug", "-D", action="store_true")
    glob.add_argument("--version", "-v", action="store_true")
    glob.add_argument("--help", "-h", action="store_true")
    options = glob.parse_args(global_args)
    if options.version:
        rest = ["version"]
    if options.help or not rest:
        print(_usage())
        return 0 if options.help else 1
    command = rest[0]
    if command not in COMMANDS:
        sys.stderr.write(
            f"dockyard: '{command}' is not a dockyard command.\nSee 'dockyard --help'\n"
        )
        return 1
    module = importlib.import_module(f"dockyard.cli.{COMMANDS[command][0]}")
    # `-h` is `--hostname` for run/create, as in Docker: help is `--help` only.
    parser = argparse.ArgumentParser(
        prog=f"dockyard {command}", description=COMMANDS[command][1], add_help=False
    )
    parser.add_argument("--help", action="help", help="show this help")
    handler: Callable[[argparse.Namespace, Path], int] = module.build(command, parser)
    parsed = parser.parse_args(rest[1:])
    from dockyard.errors import DockyardError

    try:
        return handler(parsed, Path(options.root))
    except DockyardError as e:
        if options.debug:
            raise
        sys.stderr.write(f"dockyard: {e}\n")
        return EXIT_ENGINE
    except KeyboardInterrupt:
        return 130
