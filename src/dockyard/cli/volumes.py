"""`dockyard volume create|ls|inspect|rm|prune`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[argparse.Namespace, Path], int]


def _kv(items: list[str], flag: str) -> dict[str, str]:
    from dockyard.errors import InvalidArgument

    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key or (flag == "--opt" and not sep):
            raise InvalidArgument(f"invalid {flag} {item!r}: use KEY=VALUE")
        result[key] = value
    return result


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """`volume` and its subcommands."""
    sub = parser.add_subparsers(dest="sub", required=True, metavar="COMMAND")
    create = sub.add_parser("create", help="Create a volume")
    create.add_argument("name", nargs="?")
    create.add_argument("-d", "--driver", default="local")
    create.add_argument("--label", action="append", default=[])
    create.add_argument("-o", "--opt", action="append", default=[])
    ls = sub.add_parser("ls", help="List volumes")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.add_argument("-f", "--filter", action="append", default=[])
    ls.add_argument("--format")
    inspect = sub.add_parser("inspect", help="Display detailed information on volumes")
    inspect.add_argument("names", nargs="+")
    inspect.add_argument("-f", "--format")
    rm = sub.add_parser("rm", help="Remove one or more volumes")
    rm.add_argument("names", nargs="+")
    rm.add_argument("-f", "--force", action="store_true")
    prune = sub.add_parser("prune", help="Remove unused volumes")
    prune.add_argument("-a", "--all", action="store_true")
    prune.add_argument("-f", "--force", action="store_true")
    prune.add_argument("--filter", action="append", default=[])
    return _run


def _run(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, table
    from dockyard.engine.service import Engine

    engine = Engine(root)
    store = engine.volumes
    if args.sub == "create":
        volume = store.create(
            args.name,
            driver=args.driver,
            labels=_kv(args.label, "--label"),
            options=_kv(args.opt, "--opt"),
        )
        print(volume.name)
    elif args.sub == "ls":
        volumes = store.list()
        for f in args.filter:
            key, _, value = f.partition("=")
            if key == "dangling":
                used = {v.name for v in volumes if engine.volume_users(v.name)}
                volumes = [v for v in volumes if (v.name in used) != (value in ("true", "1"))]
            elif key == "name":
                volumes = [v for v in volumes if value in v.name]
            elif key == "label":
                k, _, val = value.partition("=")
                volumes = [v for v in volumes if k in v.labels and (not val or v.labels[k] == val)]
        if args.quiet:
            for v in volumes:
                print(v.name)
        elif args.format:
            for v in volumes:
                doc = v.inspect()
                print(json.dumps(doc) if args.format == "json" else go_template(args.format, doc))
        else:
            print(table(["DRIVER", "VOLUME NAME"], [[v.driver, v.name] for v in volumes]))
    elif args.sub == "inspect":
        docs = [store.get(name).inspect() for name in args.names]
        if args.format:
            for doc in docs:
                print(go_template(args.format, doc))
        else:
            print(json.dumps(docs, indent=4))
    elif args.sub == "rm":
        from dockyard.errors import DockyardError

        failed = False
        for name in args.names:
            try:
                store.remove(name, engine.volume_users(name))
                print(name)
            except DockyardError as e:
                sys.stderr.write(f"Error response from daemon: {e}\n")
                failed = True
        return 1 if failed else 0
    elif args.sub == "prune":
        removed = []
        for volume in store.list():
            if (volume.anonymous or args.all) and not engine.volume_users(volume.name):
                store.remove(volume.name, [])
                removed.append(volume.name)
        if removed:
            print("Deleted Volumes:")
            print("\n".join(removed))
        print(
            "\nTotal reclaimed space: 0B"
            if not removed
            else "\nTotal reclaimed space: (not measured)"
        )
    return 0
