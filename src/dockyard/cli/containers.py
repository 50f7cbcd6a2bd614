"""Container commands: run, create, start, stop, restart, kill, rm, ps, inspect, logs, exec…"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.engine.service import Engine

Handler = Callable[[argparse.Namespace, Path], int]


def _engine(root: Path) -> Engine:
    from dockyard.engine.service import Engine

    return Engine(root)


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """The parser and handler of one container command."""
    if command in ("run", "create"):
        from dockyard.cli.run_options import add_run_options

        add_run_options(parser, run=command == "run")
        return run if command == "run" else create
    if command == "start":
        parser.add_argument("containers", nargs="+")
        parser.add_argument("-a", "--attach", action="store_true")
        parser.add_argument("-i", "--interactive", action="store_true")
        return start
    if command in ("stop", "restart"):
        parser.add_argument("containers", nargs="+")
        parser.add_argument("-t", "--time", "--timeout", type=int, dest="timeout")
        parser.add_argument("-s", "--signal")
        return stop if command == "stop" else restart
    if command == "kill":
        parser.add_argument("containers", nargs="+")
        parser.add_argument("-s", "--signal", default="KILL")
        return kill
    if command == "rm":
        parser.add_argument("containers", nargs="+")
        parser.add_argument("-f", "--force", action="store_true")
        parser.add_argument("-v", "--volumes", action="store_true")
        return rm
    if command == "ps":
        parser.add_argument("-a", "--all", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("-n", "--last", type=int, default=-1)
        parser.add_argument("-l", "--latest", action="store_true")
        parser.add_argument("--no-trunc", action="store_true")
        parser.add_argument("--format")
        parser.add_argument("-f", "--filter", action="append", default=[])
        parser.add_argument("-s", "--size", action="store_true")
        return ps
    if command == "inspect":
        parser.add_argument("names", nargs="+")
        parser.add_argument("-f", "--format")
        parser.add_argument("--type", choices=("container", "image"))
        parser.add_argument("-s", "--size", action="store_true")
        return inspect
    if command == "logs":
        parser.add_argument("container")
        parser.add_argument("-f", "--follow", action="store_true")
        parser.add_argument("--tail", default="all")
        parser.add_argument("-t", "--timestamps", action="store_true")
        parser.add_argument("--since")
        parser.add_argument("--until")
        return logs
    if command == "wait":
        parser.add_argument("containers", nargs="+")
        return wait
    if command == "exec":
        parser.add_argument("container")
        parser.add_argument("command", nargs=argparse.REMAINDER)
        parser.add_argument("-i", "--interactive", action="store_true")
        parser.add_argument("-t", "--tty", action="store_true")
        parser.add_argument("-d", "--detach", action="store_true")
        parser.add_argument("-e", "--env", action="append", default=[])
        parser.add_argument("--env-file", action="append", default=[])
        parser.add_argument("-u", "--user")
        parser.add_argument("-w", "--workdir")
        parser.add_argument("--privileged", action="store_true")
        return exec_
    raise AssertionError(command)


def start(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_start import start_container

    engine = _engine(root)
    code = 0
    for name in args.containers:
        if args.attach or args.interactive:
            # `-i` gives the container our stdin (and, as Docker, attaches its output).
            import os

            from dockyard.cli.attach import stream_until_exit

            stdin_fd = os.dup(0) if args.interactive else None
            try:
                conn = start_container(engine, name, stdin_fd=stdin_fd, attach=True)
            finally:
                if stdin_fd is not None:
                    os.close(stdin_fd)
            return stream_until_exit(conn, tty=False)
        start_container(engine, name).close()
        print(name)
    return code


def stop(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_start import stop_container

    engine = _engine(root)
    for name in args.containers:
        stop_container(engine, name, args.timeout)
        print(name)
    return 0


def restart(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_start import start_container, stop_container

    engine = _engine(root)
    for name in args.containers:
        stop_container(engine, name, args.timeout)
        start_container(engine, name).close()
        print(name)
    return 0


def kill(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_start import kill_container
    from dockyard.runtime.container_kill import parse_signal

    engine = _engine(root)
    sig = parse_signal(args.signal)
    for name in args.containers:
        kill_container(engine, name, sig)
        print(name)
    return 0


def rm(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_remove import remove_container

    engine = _engine(root)
    failed = False
    for name in args.containers:
        try:
            remove_container(engine, name, force=args.force, volumes=args.volumes)
            print(name)
        except Exception as e:  # one failure must not stop the others (Docker's behaviour)
            from dockyard.errors import DockyardError

            if not isinstance(e, DockyardError):
                raise
            sys.stderr.write(f"Error response from daemon: {e}\n")
            failed = True
    return 1 if failed else 0


def wait(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_start import wait_container

    engine = _engine(root)
    for name in args.containers:
        print(wait_container(engine, name))
    return 0


def _ps_row(row: object, no_trunc: bool) -> dict[str, str]:
    from dockyard.cli.format import human_ago
    from dockyard.engine.container_inspect import command_line, status_text
    from dockyard.engine.store import ContainerRow

    assert isinstance(row, ContainerRow)
    path, args = command_line(row)
    command = " ".join([path, *args])
    if not no_trunc and len(command) > 20:
        command = command[:19] + "…"
    labels = (row.config.get("Config") or {}).get("Labels") or {}
    return {
        "ID": row.id if no_trunc else row.short_id,
        "Image": row.image,
        "Command": json.dumps(command, ensure_ascii=False),
        "CreatedAt": str(row.created),
        "RunningFor": human_ago(row.created).removesuffix(" ago") + " ago",
        "Status": status_text(row),
        "State": row.status,
        "Ports": "",
        "Names": row.name,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
    }


def _matches(row: object, filters: list[str]) -> bool:
    from dockyard.engine.store import ContainerRow

    assert isinstance(row, ContainerRow)
    labels = (row.config.get("Config") or {}).get("Labels") or {}
    for f in filters:
        key, _, value = f.partition("=")
        if key == "name" and value not in row.name:
            return False
        if key == "status" and row.status != value:
            return False
        if key == "exited" and (row.status != "exited" or str(row.exit_code) != value):
            return False
        if key == "ancestor" and value not in (row.image, row.image_id, row.image_id[7:19]):
            return False
        if key == "id" and not row.id.startswith(value):
            return False
        if key == "label":
            k, _, v = value.partition("=")
            if k not in labels or (v and labels[k] != v):
                return False
    return True


def ps(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, table

    engine = _engine(root)
    rows = engine.containers.list()
    show_all = (
        args.all
        or args.last >= 0
        or args.latest
        or any(f.startswith(("status=", "exited=")) for f in args.filter)
    )
    if not show_all:
        rows = [r for r in rows if r.running]
    rows = [r for r in rows if _matches(r, args.filter)]
    if args.latest:
        rows = rows[:1]
    elif args.last >= 0:
        rows = rows[: args.last]
    if args.quiet:
        for r in rows:
            print(r.id if args.no_trunc else r.short_id)
        return 0
    data = [_ps_row(r, args.no_trunc) for r in rows]
    if args.format == "json":
        for d in data:
            print(json.dumps(d))
    elif args.format:
        fmt = args.format.removeprefix("table ")
        for d in data:
            print(go_template(fmt, d))
    else:
        headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
        keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
        print(table(headers, [[d[k] for k in keys] for d in data]))
    return 0


def inspect(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template
    from dockyard.engine.container_inspect import inspect_container
    from dockyard.errors import NotFound
    from dockyard.image.inspect import inspect_image

    engine = _engine(root)
    docs = []
    for name in args.names:
        try:
            if args.type == "image":
                raise NotFound(name)
            docs.append(inspect_container(engine.containers.find(name), engine.paths))
            continue
        except NotFound:
            if args.type == "container":
                raise
        try:
            record = engine.images.resolve(name)
        except NotFound:
            raise NotFound(f"No such object: {name}") from None
        docs.append(inspect_image(record, engine.images.config(record)))
    if args.format:
        for doc in docs:
            print(go_template(args.format, doc))
    else:
        print(json.dumps(docs, indent=4))
    return 0


def logs(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.logs import show_logs

    return show_logs(_engine(root), args)


def exec_(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.exec import run_exec

    return run_exec(_engine(root), args)


def create(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.run_options import create_from_args

    row = create_from_args(_engine(root), args)
    print(row.id)
    return 0


def run(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.run_options import run_from_args

    return run_from_args(_engine(root), args)
