"""`dockyard exec`: run a process in a running container (we are its parent, as runc exec)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.engine.service import Engine


def run_exec(engine: Engine, args: argparse.Namespace) -> int:
    """The exec'd process's exit code; 126/127 when it cannot be run or is not found."""
    from dockyard.engine.container_exec import exec_in_container
    from dockyard.errors import InvalidArgument
    from dockyard.runtime.errors import ExecutableNotFound, ExecutableNotRunnable

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise InvalidArgument("exec needs a command: dockyard exec CONTAINER COMMAND [ARG...]")
    try:
        return exec_in_container(
            engine,
            args.container,
            command,
            env=list(args.env),
            env_files=list(args.env_file),
            user=args.user,
            workdir=args.workdir,
            tty=args.tty,
            detach=args.detach,
        )
    except ExecutableNotFound as e:
        import sys

        sys.stderr.write(f"dockyard: {e}\n")
        return 127
    except ExecutableNotRunnable as e:
        import sys

        sys.stderr.write(f"dockyard: {e}\n")
        return 126
