"""Image commands: `images`, `image …`, `import`, `tag`, `rmi`."""

from __future__ import annotations

import argparse
import json
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
    """The parser and handler of one image command."""
    if command == "image":
        sub = parser.add_subparsers(dest="sub", required=True, metavar="COMMAND")
        handlers: dict[str, Handler] = {}
        for name, help_text in (
            ("ls", "List images"),
            ("inspect", "Display detailed information on one or more images"),
            ("rm", "Remove one or more images"),
            ("bootstrap", "Make a base image offline (busybox, debian:SUITE)"),
            ("import", "Import a root file system tarball as an image"),
            ("tag", "Create a tag that refers to an image"),
        ):
            handlers[name] = build(
                name if name != "ls" else "images", sub.add_parser(name, help=help_text)
            )
        return lambda args, root: handlers[args.sub](args, root)
    if command == "images":
        parser.add_argument("reference", nargs="?")
        parser.add_argument("-a", "--all", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("--digests", action="store_true")
        parser.add_argument("--no-trunc", action="store_true")
        parser.add_argument("--format")
        parser.add_argument("-f", "--filter", action="append", default=[])
        return images
    if command == "inspect":
        parser.add_argument("images", nargs="+")
        parser.add_argument("-f", "--format")
        return inspect
    if command in ("rm", "rmi"):
        parser.add_argument("images", nargs="+")
        parser.add_argument("-f", "--force", action="store_true")
        return rmi
    if command == "bootstrap":
        parser.add_argument("what", help="busybox, or debian:SUITE (e.g. debian:bookworm)")
        parser.add_argument("--include", default="", help="extra Debian packages, comma-separated")
        parser.add_argument("-t", "--tag", default="")
        return bootstrap
    if command == "import":
        parser.add_argument("file")
        parser.add_argument("reference", nargs="?")
        parser.add_argument("-c", "--change", action="append", default=[])
        parser.add_argument("-m", "--message", default="")
        return import_
    if command == "tag":
        parser.add_argument("source")
        parser.add_argument("target")
        return tag
    raise AssertionError(command)


def images(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, human_ago, human_size, table
    from dockyard.image.importer import parse_created
    from dockyard.image.inspect import familiar

    engine = _engine(root)
    rows: list[dict[str, str]] = []
    for record in engine.images.list():
        names = [familiar(t) for t in record.tags] or ["<none>:<none>"]
        short = record.id if args.no_trunc else record.short_id
        for name in names:
            repo, _, tag_ = name.rpartition(":")
            if args.reference and args.reference not in (repo, name):
                continue
            if any(f == "dangling=true" for f in args.filter) and record.tags:
                continue
            digest = next((d.split("@", 1)[1] for d in record.repo_digests), "<none>")
            rows.append(
                {
                    "Repository": repo,
                    "Tag": tag_,
                    "ID": short,
                    "Digest": digest,
                    "CreatedSince": human_ago(parse_created(record.created)),
                    "CreatedAt": record.created,
                    "Size": human_size(record.size),
                }
            )
    if args.quiet:
        seen: list[str] = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        for image_id in seen:
            print(image_id)
        return 0
    if args.format == "json":
        for row in rows:
            print(json.dumps(row))
        return 0
    if args.format:
        for row in rows:
            print(go_template(args.format, row))
        return 0
    headers = (
        ["REPOSITORY", "TAG"]
        + (["DIGEST"] if args.digests else [])
        + [
            "IMAGE ID",
            "CREATED",
            "SIZE",
        ]
    )
    keys = (
        ["Repository", "Tag"]
        + (["Digest"] if args.digests else [])
        + [
            "ID",
            "CreatedSince",
            "Size",
        ]
    )
    print(table(headers, [[r[k] for k in keys] for r in rows]))
    return 0


def inspect(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template
    from dockyard.image.inspect import inspect_image

    engine = _engine(root)
    docs = []
    for name in args.images:
        record = engine.images.resolve(name)
        docs.append(inspect_image(record, engine.images.config(record)))
    if args.format:
        for doc in docs:
            print(go_template(args.format, doc))
    else:
        print(json.dumps(docs, indent=4))
    return 0


def rmi(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import Conflict
    from dockyard.image.inspect import familiar

    engine = _engine(root)
    for name in args.images:
        record = engine.images.resolve(name)
        users = [c.name for c in engine.containers.list() if c.image_id == record.id]
        if users and not args.force:
            raise Conflict(
                f"conflict: unable to remove repository reference {name!r} (must force) - "
                f"container {users[0]} is using its referenced image {record.short_id}"
            )
        by_name = name in [familiar(t) for t in record.tags] or name in record.tags
        if by_name and len(record.tags) > 1:
            engine.images.untag(name)
            print(f"Untagged: {name}")
            continue
        for t in record.tags:
            print(f"Untagged: {familiar(t)}")
        engine.images.remove(record.id)
        print(f"Deleted: {record.id}")
    return 0


def bootstrap(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import InvalidArgument
    from dockyard.image.bootstrap import bootstrap_busybox, bootstrap_debian

    engine = _engine(root)
    what = args.what
    if what.split(":")[0] == "busybox":
        record = bootstrap_busybox(engine.images, args.tag or "busybox:latest")
    elif what.split(":")[0] == "debian":
        suite = what.partition(":")[2] or "bookworm"
        include = tuple(p for p in args.include.split(",") if p)
        record = bootstrap_debian(engine.images, suite, include, args.tag)
    else:
        raise InvalidArgument(f"cannot bootstrap {what!r}: use busybox or debian:SUITE")
    print(record.id)
    return 0


def import_(args: argparse.Namespace, root: Path) -> int:
    from dockyard.image.importer import import_tarball

    engine = _engine(root)
    tags = (args.reference,) if args.reference else ()
    record = import_tarball(engine.images, Path(args.file), tags=tags, comment=args.message)
    print(record.id)
    return 0


def tag(args: argparse.Namespace, root: Path) -> int:
    _engine(root).images.tag(args.source, args.target)
    return 0
