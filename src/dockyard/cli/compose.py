"""`dockyard compose`: parse, load the project, then observe → plan → apply (in `compose/`).

No logic lives here beyond printing: each command loads the project, asks the planner what to
do, and hands the plan to the executor, or reads state and prints it as Compose does. This
module is the parser and the dispatcher; the subcommands live in `compose_up` (up, create,
down), `compose_lifecycle` (start, stop, restart, kill, rm, pause, unpause), `compose_exec`
(exec, run), `compose_images` (pull, push, build, images) and `compose_info` (ps, logs, top,
port, config, ls, version), with what they share in `compose_project`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[argparse.Namespace, Path], int]


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """The parser of `compose` and its subcommands."""
    from dockyard.cli.compose_run import add_arguments as add_run_arguments

    add = parser.add_argument
    add("-f", "--file", action="append", default=[], dest="files")
    add("-p", "--project-name")
    add("--project-directory")
    add("--env-file", action="append", default=[])
    add("--profile", action="append", default=[])
    sub = parser.add_subparsers(dest="sub", required=True, metavar="COMMAND")
    # The command → "module:function" of its implementation, imported only when it runs, so
    # one subcommand never pays for another's imports.
    handlers: dict[str, str] = {}

    def cmd(name: str, text: str, handler: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        handlers[name] = handler
        return p

    p = cmd("up", "Create and start containers", "compose_up:up")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("--build", action="store_true")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--no-start", action="store_true")
    p.add_argument("--force-recreate", action="store_true")
    p.add_argument("--no-recreate", action="store_true")
    p.add_argument("--no-deps", action="store_true")
    p.add_argument("--remove-orphans", action="store_true")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--wait-timeout", type=float)
    p.add_argument("--scale", action="append", default=[])
    p.add_argument("--abort-on-container-exit", action="store_true")
    p.add_argument("--exit-code-from")
    p.add_argument("-t", "--timeout", type=float)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("-V", "--renew-anon-volumes", action="store_true")
    p.add_argument("services", nargs="*")
    p = cmd("create", "Create containers for a service", "compose_up:up")
    p.set_defaults(
        detach=True,
        no_start=True,
        wait=False,
        wait_timeout=None,
        abort_on_container_exit=False,
        exit_code_from=None,
        timeout=None,
        dry_run=False,
        renew_anon_volumes=False,
    )
    p.add_argument("--build", action="store_true")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--force-recreate", action="store_true")
    p.add_argument("--no-recreate", action="store_true")
    p.add_argument("--no-deps", action="store_true", default=False)
    p.add_argument("--remove-orphans", action="store_true")
    p.add_argument("--scale", action="append", default=[])
    p.add_argument("services", nargs="*")
    p = cmd("down", "Stop and remove containers, networks", "compose_up:down")
    p.add_argument("-v", "--volumes", action="store_true")
    p.add_argument("--rmi", choices=("local", "all"))
    p.add_argument("--remove-orphans", action="store_true")
    p.add_argument("-t", "--timeout", type=float)
    p = cmd("ps", "List containers", "compose_info:ps")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format", default="table")
    p.add_argument("--services", action="store_true")
    p.add_argument("service", nargs="*")
    p = cmd("logs", "View output from containers", "compose_info:logs")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--tail", default="all")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("--no-color", action="store_true")
    p.add_argument("--no-log-prefix", action="store_true")
    p.add_argument("service", nargs="*")
    p = cmd("exec", "Execute a command in a running container", "compose_exec:exec_")
    p.add_argument("-T", "--no-TTY", action="store_true", dest="no_tty")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("-u", "--user")
    p.add_argument("-w", "--workdir")
    p.add_argument("--index", type=int, default=1)
    p.add_argument("service")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = cmd("run", "Run a one-off command on a service", "compose_exec:run")
    add_run_arguments(p)
    for name, text, handler in (
        ("start", "Start services", "compose_lifecycle:start"),
        ("stop", "Stop services", "compose_lifecycle:stop"),
        ("restart", "Restart service containers", "compose_lifecycle:restart"),
        ("kill", "Force stop service containers", "compose_lifecycle:kill"),
        ("rm", "Removes stopped service containers", "compose_lifecycle:rm"),
        ("pause", "Pause services", "compose_lifecycle:pause"),
        ("unpause", "Unpause services", "compose_lifecycle:pause"),
        ("pull", "Pull service images", "compose_images:pull"),
        ("push", "Push service images", "compose_images:push"),
        ("build", "Build or rebuild services", "compose_images:build_images"),
        ("images", "List images used by the created containers", "compose_images:images"),
        ("top", "Display the running processes", "compose_info:top"),
    ):
        p = cmd(name, text, handler)
        p.add_argument("services", nargs="*")
        if name in ("stop", "restart"):
            p.add_argument("-t", "--timeout", type=float)
        if name == "kill":
            p.add_argument("-s", "--signal", default="SIGKILL")
        if name == "rm":
            p.add_argument("-f", "--force", action="store_true")
            p.add_argument("-s", "--stop", action="store_true")
            p.add_argument("-v", "--volumes", action="store_true")
        if name == "images":
            p.add_argument("-q", "--quiet", action="store_true")
    p = cmd("config", "Parse, resolve and render the compose file", "compose_info:config")
    p.add_argument("--services", action="store_true")
    p.add_argument("--volumes", action="store_true")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--explain", action="store_true")
    p = cmd("port", "Print the public port for a port binding", "compose_info:port")
    p.add_argument("--index", type=int, default=1)
    p.add_argument("--protocol", default="tcp")
    p.add_argument("service")
    p.add_argument("private_port")
    p = cmd("ls", "List running compose projects", "compose_info:ls")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format", default="table")
    p = cmd("version", "Show the Compose version information", "compose_info:version")
    p.add_argument("--short", action="store_true")

    def dispatch(args: argparse.Namespace, root: Path) -> int:
        module, _, function = handlers[args.sub].partition(":")
        implementation: Handler = getattr(
            importlib.import_module(f"dockyard.cli.{module}"), function
        )
        return implementation(args, root)

    return dispatch
