"""`dockyard compose ps`, `logs`, `top`, `port`, `config`, `ls` and `version`: read state or the
project and print it as Compose does.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.cli.compose_project import (
    check_services,
    container_of,
    engine_client,
    load,
    project_name,
    service_containers,
)

if TYPE_CHECKING:
    from dockyard.compose.engine_client import ContainerInfo


def _status(c: ContainerInfo) -> str:
    from dockyard.cli.format import human_ago

    if c.running:
        text = "Up " + human_ago(c.started_at).removesuffix(" ago")
        if c.status == "paused":
            text += " (Paused)"
        elif c.health:
            text += f" ({c.health})"
        return text
    if c.status == "created":
        return "Created"
    return f"Exited ({c.exit_code}) " + human_ago(c.started_at or c.created)


def _ports(c: ContainerInfo) -> str:
    return ", ".join(f"{ip or '0.0.0.0'}:{hp}->{key}" for ip, hp, key in c.ports)


def ps(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import human_ago, table
    from dockyard.compose.observe import service_of

    name, project, _ = project_name(args)
    if args.services and project is not None:
        print("\n".join(project.services))
        return 0
    check_services(project, args.service)
    client = engine_client(root)
    containers = service_containers(client, name, args.service, all_=args.all)
    if args.quiet:
        for c in containers:
            print(c.id)
        return 0
    rows = [
        {
            "ID": c.id,
            "Name": c.name,
            "Image": c.image,
            "Command": " ".join(c.command),
            "Project": name,
            "Service": service_of(c),
            "Created": human_ago(c.created),
            "State": c.status,
            "Status": _status(c),
            "Health": c.health or "",
            "ExitCode": c.exit_code,
            "Publishers": [
                {
                    "URL": ip or "0.0.0.0",
                    "TargetPort": int(key.split("/")[0]),
                    "PublishedPort": int(hp or 0),
                    "Protocol": key.split("/")[1],
                }
                for ip, hp, key in c.ports
            ],
            "Ports": _ports(c),
        }
        for c in containers
    ]
    if args.format == "json":
        print(json.dumps(rows))
        return 0
    headers = ("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")
    body = [
        [
            r["Name"],
            r["Image"],
            json.dumps(str(r["Command"])[:20]),
            r["Service"],
            r["Created"],
            r["Status"],
            r["Ports"],
        ]
        for r in rows
    ]
    print(table(headers, [[str(x) for x in row] for row in body]))
    return 0


def logs(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.observe import service_of
    from dockyard.compose.output import LogPrinter, short_name
    from dockyard.errors import InvalidArgument

    name, project, _ = project_name(args)
    check_services(project, args.service)
    if args.tail != "all" and not args.tail.isdigit():
        raise InvalidArgument(f"invalid --tail {args.tail!r}: use a number or all")
    tail = None if args.tail == "all" else int(args.tail)
    client = engine_client(root)
    containers = service_containers(client, name, args.service)
    width = max((len(short_name(name, c.name)) for c in containers), default=0)
    printer = LogPrinter(sys.stdout, colour=sys.stdout.isatty() and not args.no_color, width=width)

    def show(container: ContainerInfo) -> None:
        label = short_name(name, container.name)
        for line in client.logs(container.id, follow=args.follow, tail=tail):
            stamp = line.time if args.timestamps else ""
            if args.no_log_prefix:
                printer.message((f"{stamp} " if stamp else "") + line.text.rstrip("\n"))
            else:
                printer.line(service_of(container), label, line.text, stamp)

    if not args.follow:
        for container in containers:
            show(container)
        return 0
    threads = [threading.Thread(target=show, args=(c,), daemon=True) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


def top(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table

    name, project, _ = project_name(args)
    check_services(project, args.services)
    client = engine_client(root)
    for c in service_containers(client, name, args.services, all_=False):
        print(c.name)
        rows = [[str(pid), cmd] for pid, cmd in client.processes(c.id)]
        print(table(("PID", "CMD"), rows))
        print()
    return 0


def port(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import NotFound

    name, project, _ = project_name(args)
    check_services(project, [args.service])
    container = container_of(engine_client(root), name, args.service, args.index)
    key = f"{args.private_port}/{args.protocol}"
    for ip, host_port, each in container.ports:
        if each == key:
            print(f"{ip or '0.0.0.0'}:{host_port}")
            return 0
    raise NotFound(f"no port {key} published for service {args.service}")


def config(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.explain import explain, format_explanations
    from dockyard.compose.serialize import to_json, to_yaml

    loaded = load(args)
    project = loaded.project
    if args.quiet:
        return 0
    if args.services:
        print("\n".join(project.services))
    elif args.volumes:
        print("\n".join(project.volumes))
    elif args.explain:
        print(format_explanations(explain(loaded.substitutions, project.working_dir)))
    else:
        sys.stdout.write(to_json(project) + "\n" if args.format == "json" else to_yaml(project))
    return 0


def ls(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table
    from dockyard.compose.convert import CONFIG_FILES, PROJECT

    client = engine_client(root)
    projects: dict[str, list[ContainerInfo]] = {}
    for c in client.list_containers({}):
        if PROJECT in c.labels:
            projects.setdefault(c.labels[PROJECT], []).append(c)
    rows = []
    for name in sorted(projects):
        members = projects[name]
        counts: dict[str, int] = {}
        for c in members:
            counts[c.status] = counts.get(c.status, 0) + 1
        if not args.all and "running" not in counts:
            continue
        status = ", ".join(f"{s}({n})" for s, n in sorted(counts.items()))
        files = members[0].labels.get(CONFIG_FILES, "")
        rows.append({"Name": name, "Status": status, "ConfigFiles": files})
    if args.quiet:
        print("\n".join(r["Name"] for r in rows))
    elif args.format == "json":
        print(json.dumps(rows))
    else:
        body = [[r["Name"], r["Status"], r["ConfigFiles"]] for r in rows]
        print(table(("NAME", "STATUS", "CONFIG FILES"), body))
    return 0


def version(args: argparse.Namespace, root: Path) -> int:
    from dockyard import __version__

    print(__version__ if args.short else f"dockyard compose version {__version__}")
    return 0
