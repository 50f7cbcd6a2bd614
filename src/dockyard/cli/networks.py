"""`dockyard network create|ls|inspect|rm|prune|connect|disconnect`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

Handler = Callable[[argparse.Namespace, Path], int]


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """`network` and its subcommands."""
    sub = parser.add_subparsers(dest="sub", required=True, metavar="COMMAND")
    create = sub.add_parser("create", help="Create a network")
    create.add_argument("name")
    create.add_argument("-d", "--driver", default="bridge")
    # Repeatable as in Docker: one IPv4 and (with --ipv6) one IPv6 value.
    create.add_argument("--subnet", action="append", default=[])
    create.add_argument("--gateway", action="append", default=[])
    create.add_argument("--internal", action="store_true")
    create.add_argument("--ipv6", action="store_true")
    create.add_argument("--label", action="append", default=[])
    create.add_argument("-o", "--opt", action="append", default=[])
    ls = sub.add_parser("ls", help="List networks")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.add_argument("--format")
    ls.add_argument("-f", "--filter", action="append", default=[])
    inspect = sub.add_parser("inspect", help="Display detailed information on networks")
    inspect.add_argument("names", nargs="+")
    inspect.add_argument("-f", "--format")
    rm = sub.add_parser("rm", help="Remove one or more networks")
    rm.add_argument("names", nargs="+")
    prune = sub.add_parser("prune", help="Remove all unused networks")
    prune.add_argument("-f", "--force", action="store_true")
    connect = sub.add_parser("connect", help="Connect a container to a network")
    connect.add_argument("network")
    connect.add_argument("container")
    connect.add_argument("--alias", action="append", default=[])
    connect.add_argument("--ip")
    connect.add_argument("--ip6")
    disconnect = sub.add_parser("disconnect", help="Disconnect a container from a network")
    disconnect.add_argument("network")
    disconnect.add_argument("container")
    disconnect.add_argument("-f", "--force", action="store_true")
    return _run


def _kv(items: list[str], flag: str) -> dict[str, str]:
    from dockyard.errors import InvalidArgument

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {flag} {item!r}: use KEY=VALUE")
        out[key] = value if sep else ""
    return out


def _run(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, table
    from dockyard.engine.service import Engine
    from dockyard.errors import DockyardError, InvalidArgument

    engine = Engine(root)
    nets = engine.networks
    if args.sub == "create":
        if args.driver != "bridge":
            raise InvalidArgument(f"network driver {args.driver!r} is not supported: use bridge")
        from dockyard.network.ipam import split_families

        subnet, subnet6, gateway, gateway6 = split_families(args.subnet, args.gateway)
        net = nets.create(
            args.name,
            subnet=subnet,
            gateway=gateway,
            subnet6=subnet6,
            gateway6=gateway6,
            internal=args.internal,
            labels=_kv(args.label, "--label"),
            ipv6=args.ipv6,
            options=_kv(args.opt, "--opt"),
        )
        print(net.id)
    elif args.sub == "ls":
        networks = nets.list()
        if args.quiet:
            for n in networks:
                print(n.id[:12])
        elif args.format:
            for n in networks:
                doc = {"ID": n.id[:12], "Name": n.name, "Driver": n.driver, "Scope": "local"}
                print(json.dumps(doc) if args.format == "json" else go_template(args.format, doc))
        else:
            rows = [[n.id[:12], n.name, n.driver, "local"] for n in networks]
            print(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows))
    elif args.sub == "inspect":
        docs = [nets.inspect(name) for name in args.names]
        if args.format:
            for doc in docs:
                print(go_template(args.format, doc))
        else:
            print(json.dumps(docs, indent=4))
    elif args.sub == "rm":
        failed = False
        for name in args.names:
            try:
                nets.remove(name)
                print(name)
            except DockyardError as e:
                sys.stderr.write(f"Error response from daemon: {e}\n")
                failed = True
        return 1 if failed else 0
    elif args.sub == "prune":
        removed = nets.prune()
        if removed:
            print("Deleted Networks:\n" + "\n".join(removed))
    elif args.sub in ("connect", "disconnect"):
        from dockyard.engine.network_connect import connect_container, disconnect_container

        if args.sub == "connect":
            connect_container(
                engine, args.network, args.container, args.alias, args.ip, ip6=args.ip6
            )
        else:
            disconnect_container(engine, args.network, args.container)
    return 0
