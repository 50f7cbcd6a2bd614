"""More container commands: top, stats, cp, rename, pause, unpause, attach, port, export, diff,
commit, events; `container SUBCOMMAND` and `system prune|df|info`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockyard.engine.service import Engine

Handler = Callable[[argparse.Namespace, Path], int]

# `container X` subcommands served by dockyard.cli.containers (ls/list are `ps`)
_CONTAINERS = (
    "run",
    "create",
    "start",
    "stop",
    "restart",
    "kill",
    "rm",
    "ps",
    "inspect",
    "logs",
    "exec",
    "wait",
)
_OURS = (
    "top",
    "stats",
    "cp",
    "rename",
    "pause",
    "unpause",
    "attach",
    "port",
    "export",
    "diff",
    "commit",
    "prune",
)


def _engine(root: Path) -> Engine:
    from dockyard.engine.service import Engine

    return Engine(root)


def _subparser(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    # `-h` is `--hostname` for run/create (as Docker): help is `--help` only.
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, add_help=False)
    parser.add_argument("--help", action="help", help="show this help")
    return parser


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """The parser and handler of one command."""
    if command == "container":
        return _group(parser, {n: "containers" for n in (*_CONTAINERS, "ls", "list")}, _OURS)
    if command == "system":
        sub = parser.add_subparsers(dest="sub", required=True)
        prune = _subparser(sub, "prune", "Remove unused data")
        prune.add_argument("-a", "--all", action="store_true")
        prune.add_argument("-f", "--force", action="store_true")
        prune.add_argument("--volumes", action="store_true")
        df = _subparser(sub, "df", "Show disk usage")
        df.add_argument("--format")
        df.add_argument("-v", "--verbose", action="store_true")
        info = _subparser(sub, "info", "Display system-wide information")
        info.add_argument("-f", "--format")
        handlers = {"prune": system_prune, "df": system_df, "info": system_info}
        return lambda args, root: handlers[args.sub](args, root)
    return _build_one(command, parser)


def _group(
    parser: argparse.ArgumentParser, theirs: dict[str, str], ours: tuple[str, ...]
) -> Handler:
    from dockyard.cli import containers

    sub = parser.add_subparsers(dest="sub", required=True)
    handlers: dict[str, Handler] = {}
    for name in theirs:
        target = "ps" if name in ("ls", "list") else name
        handlers[name] = containers.build(target, _subparser(sub, name, f"dockyard {target}"))
    for name in ours:
        handlers[name] = _build_one(name, _subparser(sub, name, f"dockyard container {name}"))
    return lambda args, root: handlers[args.sub](args, root)


def _build_one(command: str, parser: argparse.ArgumentParser) -> Handler:
    if command == "top":
        parser.add_argument("container")
        parser.add_argument("ps_args", nargs=argparse.REMAINDER)
        return top
    if command == "stats":
        parser.add_argument("containers", nargs="*")
        parser.add_argument("-a", "--all", action="store_true")
        parser.add_argument("--no-stream", action="store_true")
        parser.add_argument("--no-trunc", action="store_true")
        parser.add_argument("--format")
        return stats
    if command == "cp":
        parser.add_argument("source")
        parser.add_argument("destination")
        parser.add_argument("-a", "--archive", action="store_true")
        parser.add_argument("-L", "--follow-link", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        return cp
    if command == "rename":
        parser.add_argument("container")
        parser.add_argument("new_name")
        return rename
    if command in ("pause", "unpause"):
        parser.add_argument("containers", nargs="+")
        return pause if command == "pause" else unpause
    if command == "attach":
        parser.add_argument("container")
        parser.add_argument("--no-stdin", action="store_true")
        parser.add_argument("--sig-proxy", default="true")
        parser.add_argument("--detach-keys")
        return attach
    if command == "port":
        parser.add_argument("container")
        parser.add_argument("private_port", nargs="?")
        return port
    if command == "export":
        parser.add_argument("container")
        parser.add_argument("-o", "--output")
        return export
    if command == "diff":
        parser.add_argument("container")
        return diff
    if command == "commit":
        parser.add_argument("container")
        parser.add_argument("reference", nargs="?")
        parser.add_argument("-a", "--author", default="")
        parser.add_argument("-c", "--change", action="append", default=[])
        parser.add_argument("-m", "--message", default="")
        parser.add_argument("-p", "--pause", default="true", choices=("true", "false"))
        return commit
    if command == "prune":
        parser.add_argument("-f", "--force", action="store_true")
        parser.add_argument("--filter", action="append", default=[])
        return container_prune
    if command == "events":
        parser.add_argument("--since")
        parser.add_argument("--until")
        parser.add_argument("-f", "--filter", action="append", default=[])
        parser.add_argument("--format")
        return events
    raise AssertionError(command)


def _each(names: list[str], action: Callable[[str], str]) -> int:
    """Run `action` on each name; a failure is reported and the rest still run (as Docker)."""
    from dockyard.errors import DockyardError

    failed = False
    for name in names:
        try:
            action(name)
            print(name)
        except DockyardError as e:
            sys.stderr.write(f"Error response from daemon: {e}\n")
            failed = True
    return 1 if failed else 0


def top(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table
    from dockyard.engine.container_top import top_container

    headers, rows = top_container(_engine(root), args.container, list(args.ps_args))
    print(table(headers, rows))
    return 0


def stats(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, table
    from dockyard.engine.container_stats import collect

    engine = _engine(root)
    rows = (
        [engine.containers.find(n) for n in args.containers]
        if args.containers
        else [r for r in engine.containers.list() if args.all or r.running]
    )
    fields = ["Container", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"]
    headers = [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]
    previous = None
    while True:
        lines, previous = collect(engine, rows, 0.2 if args.no_stream else 0.5, previous)
        docs = [{f: getattr(item, f) for f in fields} | {"ID": item.ID} for item in lines]
        if args.no_trunc:
            full = {r.short_id: r.id for r in rows}
            for doc in docs:
                doc["ID"] = doc["Container"] = full.get(doc["ID"], doc["ID"])
        if args.format == "json":
            text = "\n".join(json.dumps(d) for d in docs)
        elif args.format:
            fmt = args.format
            if fmt.startswith("table"):
                fmt = fmt.removeprefix("table").strip()
                text = go_template(fmt, {f: f.upper() for f in fields})
                text += "".join("\n" + go_template(fmt, d) for d in docs)
            else:
                text = "\n".join(go_template(fmt, d) for d in docs)
        else:
            text = table(headers, [[d[f] for f in fields] for d in docs])
        if not args.no_stream:
            sys.stdout.write("\033[2J\033[H")  # redraw in place, as `docker stats` does
        print(text, flush=True)
        if args.no_stream:
            return 0
        import time

        time.sleep(0.5)


def cp(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_cp import copy_from_container, copy_to_container
    from dockyard.errors import InvalidArgument

    def split(text: str) -> tuple[str | None, str]:
        # `NAME:PATH`; a path with a slash before the colon (./a:b, /x:y) is a local path.
        container, sep, path = text.partition(":")
        if not sep or "/" in container or not container:
            return None, text
        return container, path

    src_ctr, src = split(args.source)
    dest_ctr, dest = split(args.destination)
    engine = _engine(root)
    if src_ctr and dest_ctr:
        raise InvalidArgument("copying between containers is not supported: copy via the host")
    if not src_ctr and not dest_ctr:
        raise InvalidArgument("must specify at least one container source: CONTAINER:PATH")
    if src_ctr:
        try:
            copy_from_container(engine, src_ctr, src or "/", dest, follow=args.follow_link)
        except BrokenPipeError:
            return 141  # the reader of `cp CONTAINER:SRC -` went away
    else:
        assert dest_ctr is not None
        copy_to_container(
            engine, dest_ctr, src, dest or "/", archive=args.archive, follow=args.follow_link
        )
    return 0


def rename(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.names import validate_name
    from dockyard.errors import InvalidArgument

    engine = _engine(root)
    row = engine.containers.find(args.container)
    name = args.new_name.lstrip("/")
    if not name:
        raise InvalidArgument("Neither old nor new names may be empty")
    if name == row.name:
        raise InvalidArgument("Renaming a container with the same name as its current name")
    engine.containers.rename(row.id, validate_name(name))
    return 0


def pause(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_pause import pause_container

    engine = _engine(root)
    return _each(args.containers, lambda n: pause_container(engine, n))


def unpause(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_pause import unpause_container

    engine = _engine(root)
    return _each(args.containers, lambda n: unpause_container(engine, n))


def attach(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.attach import stream_until_exit
    from dockyard.engine.monitor.client import MonitorConnection
    from dockyard.errors import Conflict

    engine = _engine(root)
    row = engine.containers.find(args.container)
    if not row.running:
        raise Conflict("You cannot attach to a stopped container, start it first")
    if row.status == "paused":
        raise Conflict("You cannot attach to a paused container, unpause it first")
    conn = MonitorConnection(engine.paths)
    try:
        reply = conn.request(op="attach", id=row.id)
    except BaseException:
        conn.close()
        raise
    if "exit" in reply:
        conn.close()
        return int(reply["exit"])
    tty = bool((row.config.get("Config") or {}).get("Tty"))
    stdin = tty and not args.no_stdin
    return stream_until_exit(conn, tty=stdin, container_id=row.id if stdin else "")


def port(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import NotFound

    row = _engine(root).containers.find(args.container)
    if not row.running:
        return 0
    ports = (
        (row.config.get("NetworkSettings") or {}).get("Ports")
        or (row.config.get("HostConfig") or {}).get("PortBindings")
        or {}
    )
    wanted = args.private_port
    if wanted and "/" not in wanted:
        wanted += "/tcp"
    found = False
    for private, bindings in sorted(ports.items()):
        if wanted and private != wanted:
            continue
        for binding in bindings or []:
            found = True
            host_ip = binding.get("HostIp") or "0.0.0.0"
            address = f"[{host_ip}]" if ":" in host_ip else host_ip
            print(
                f"{address}:{binding.get('HostPort', '')}"
                if wanted
                else f"{private} -> {address}:{binding.get('HostPort', '')}"
            )
    if wanted and not found:
        raise NotFound(f"No public port '{wanted}' published for {row.name}")
    return 0


def export(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_export import export_container
    from dockyard.errors import InvalidArgument

    engine = _engine(root)
    engine.containers.find(args.container)  # an unknown container fails before the file exists
    if args.output:
        tmp = f"{args.output}.tmp-{os.getpid()}"
        try:
            with open(tmp, "wb") as out:
                export_container(engine, args.container, out)
            os.replace(tmp, args.output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return 0
    if os.isatty(1):
        raise InvalidArgument(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect"
        )
    try:
        with os.fdopen(os.dup(1), "wb") as out:
            export_container(engine, args.container, out)
    except BrokenPipeError:
        return 141  # the reader went away (`| head`): as a shell reports SIGPIPE
    return 0


def diff(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_diff import diff_container

    for change in diff_container(_engine(root), args.container):
        print(f"{change.kind} {change.path}")
    return 0


def commit(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.container_commit import commit_container

    image_id = commit_container(
        _engine(root),
        args.container,
        args.reference,
        changes=list(args.change),
        message=args.message,
        author=args.author,
        pause=args.pause == "true",
    )
    print(image_id)
    return 0


def _confirm(warning: str) -> bool:
    sys.stdout.write(f"WARNING! {warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def container_prune(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import human_size
    from dockyard.engine.container_prune import prune_containers

    if not args.force and not _confirm("This will remove all stopped containers."):
        return 0
    result = prune_containers(_engine(root))
    if result.containers:
        print("Deleted Containers:")
        print("\n".join(result.containers))
        print()
    print(f"Total reclaimed space: {human_size(result.reclaimed)}")
    return 0


def system_prune(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import human_size
    from dockyard.engine.container_prune import system_prune as prune
    from dockyard.image.inspect import familiar

    if not args.force:
        items = [
            "all stopped containers",
            "all networks not used by at least one container",
        ]
        if args.volumes:
            items.append("all anonymous volumes not used by at least one container")
        items.append(
            "all images without at least one container associated to them"
            if args.all
            else "all dangling images"
        )
        items.append("all build cache")
        text = "This will remove:\n" + "".join(f"  - {i}\n" for i in items)
        if not _confirm(text.rstrip("\n") + "\n"):
            return 0
    result = prune(_engine(root), all_images=args.all, volumes=args.volumes)
    for title, items in (
        ("Deleted Containers:", list(result.containers)),
        ("Deleted Networks:", list(result.networks)),
        ("Deleted Volumes:", list(result.volumes)),
        (
            "Deleted Images:",
            [f"untagged: {familiar(t)}" for t in result.untagged]
            + [f"deleted: {i}" for i in result.images],
        ),
        ("Deleted build cache objects:", [k[:25] for k in result.build_cache]),
    ):
        if items:
            print(title)
            print("\n".join(items))
            print()
    print(f"Total reclaimed space: {human_size(result.reclaimed)}")
    return 0


def system_df(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, human_size, table
    from dockyard.engine.container_prune import disk_usage

    docs = []
    for item in disk_usage(_engine(root)):
        percent = f" ({round(item.reclaimable * 100 / item.size)}%)" if item.size else ""
        docs.append(
            {
                "Type": item.type,
                "TotalCount": str(item.total),
                "Active": str(item.active),
                "Size": human_size(item.size),
                "Reclaimable": human_size(item.reclaimable)
                + ("" if item.type == "Build Cache" else percent or " (0%)"),
            }
        )
    keys = ["Type", "TotalCount", "Active", "Size", "Reclaimable"]
    if args.format == "json":
        for doc in docs:
            print(json.dumps(doc))
    elif args.format:
        for doc in docs:
            print(go_template(args.format.removeprefix("table ").strip(), doc))
    else:
        headers = ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
        print(table(headers, [[d[k] for k in keys] for d in docs]))
    return 0


def system_info(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template

    engine = _engine(root)
    rows = engine.containers.list()
    doc = {
        "Containers": len(rows),
        "ContainersRunning": sum(r.status == "running" for r in rows),
        "ContainersPaused": sum(r.status == "paused" for r in rows),
        "ContainersStopped": sum(not r.running for r in rows),
        "Images": len(engine.images.list()),
        "Driver": "overlay2",
        "DockerRootDir": str(engine.paths.root),
        "CgroupDriver": "cgroupfs",
        "KernelVersion": os.uname().release,
        "OperatingSystem": "linux",
        "Architecture": os.uname().machine,
        "NCPU": os.cpu_count() or 1,
        "Name": os.uname().nodename,
    }
    if args.format:
        print(go_template(args.format, doc))
        return 0
    labels = [
        ("Containers", "Containers"),
        (" Running", "ContainersRunning"),
        (" Paused", "ContainersPaused"),
        (" Stopped", "ContainersStopped"),
        ("Images", "Images"),
        ("Storage Driver", "Driver"),
        ("Cgroup Driver", "CgroupDriver"),
        ("Kernel Version", "KernelVersion"),
        ("Architecture", "Architecture"),
        ("CPUs", "NCPU"),
        ("Name", "Name"),
        ("Dockyard Root Dir", "DockerRootDir"),
    ]
    for label, key in labels:
        print(f"{label}: {doc[key]}")
    return 0


def events(args: argparse.Namespace, root: Path) -> int:
    import time

    from dockyard.cli.format import go_template
    from dockyard.engine.events import parse_filters, parse_time, stream

    now = time.time()
    since = parse_time(args.since, now) if args.since else None
    until = parse_time(args.until, now) if args.until else None
    filters = parse_filters(list(args.filter))
    for event in stream(_engine(root), since=since, until=until, filters=filters, follow=True):
        if args.format in {"json", "{{json .}}"}:
            text = json.dumps(event.message())
        elif args.format:
            text = go_template(args.format, event.fields())
        else:
            text = event.line()
        print(text, flush=True)
    return 0
