"""Image commands: `images`, `image …`, `import`, `tag`, `rmi`, `pull`, `push`, `save`, `load`,
`history`, `login`, `logout`."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.engine.service import Engine
    from dockyard.image.registry.client import RegistryClient

Handler = Callable[[argparse.Namespace, Path], int]


def _engine(root: Path) -> Engine:
    from dockyard.engine.service import Engine

    return Engine(root)


def _client() -> RegistryClient:
    from dockyard.image.registry.client import RegistryClient
    from dockyard.image.registry.config import load_registry_config

    return RegistryClient(config=load_registry_config())


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
            ("pull", "Download an image from a registry"),
            ("push", "Upload an image to a registry"),
            ("save", "Save one or more images to a tar archive"),
            ("load", "Load an image from a tar archive"),
            ("history", "Show the history of an image"),
            ("prune", "Remove unused images"),
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
    return _build_transfer(command, parser)


def _build_transfer(command: str, parser: argparse.ArgumentParser) -> Handler:
    """Parsers of the registry, archive and history commands."""
    if command == "pull":
        parser.add_argument("reference")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("-a", "--all-tags", action="store_true")
        parser.add_argument("--platform", default="")
        return pull
    if command == "push":
        parser.add_argument("reference")
        parser.add_argument("-q", "--quiet", action="store_true")
        return push
    if command == "save":
        parser.add_argument("images", nargs="+")
        parser.add_argument("-o", "--output", default="")
        parser.add_argument(
            "--format", default="docker-archive", choices=["docker-archive", "oci-archive"]
        )
        return save
    if command == "load":
        parser.add_argument("-i", "--input", default="")
        parser.add_argument("-q", "--quiet", action="store_true")
        return load
    if command == "history":
        parser.add_argument("image")
        parser.add_argument("-H", "--human", default="true", choices=["true", "false"])
        parser.add_argument("--no-trunc", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("--format")
        return history
    if command == "prune":
        parser.add_argument("-a", "--all", action="store_true")
        parser.add_argument("-f", "--force", action="store_true")
        return prune
    if command == "login":
        parser.add_argument("registry", nargs="?", default="docker.io")
        parser.add_argument("-u", "--username", default="")
        parser.add_argument("-p", "--password", default="")
        parser.add_argument("--password-stdin", action="store_true")
        return login
    if command == "logout":
        parser.add_argument("registry", nargs="?", default="docker.io")
        return logout
    raise AssertionError(command)


def _image_filters(items: list[str]) -> dict[str, list[str]]:
    """`--filter key=value` (repeatable): dangling, reference (globs), label (key or key=value)."""
    from dockyard.errors import InvalidArgument

    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in ("dangling", "reference", "label"):
            raise InvalidArgument(
                f"invalid filter {item!r}: use dangling=true|false, reference=PATTERN "
                "or label=KEY[=VALUE]"
            )
        out.setdefault(key, []).append(value)
    return out


def _keep(
    filters: dict[str, list[str]],
    tags: tuple[str, ...],
    name: str,
    repo: str,
    labels: dict[str, str],
) -> bool:
    for value in filters.get("dangling", []):
        if (value in ("true", "1")) == bool(tags):
            return False
    refs = filters.get("reference", [])
    if refs and not any(
        fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(repo, pattern) for pattern in refs
    ):
        return False
    for value in filters.get("label", []):
        key, sep, want = value.partition("=")
        if key not in labels or (sep and labels[key] != want):
            return False
    return True


def images(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, human_ago, human_size, table
    from dockyard.image.importer import parse_created
    from dockyard.image.inspect import familiar

    engine = _engine(root)
    filters = _image_filters(args.filter)
    rows: list[dict[str, str]] = []
    for record in engine.images.list():
        names = [familiar(t) for t in record.tags] or ["<none>:<none>"]
        short = record.id if args.no_trunc else record.short_id
        labels: dict[str, str] = {}
        if filters.get("label"):
            labels = dict((engine.images.config(record).get("config") or {}).get("Labels") or {})
        for name in names:
            repo, _, tag_ = name.rpartition(":")
            wanted = args.reference
            if wanted and not (
                fnmatch.fnmatchcase(repo, wanted) or fnmatch.fnmatchcase(name, wanted)
            ):
                continue
            if not _keep(filters, record.tags, name, repo, labels):
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


def pull(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import InvalidArgument
    from dockyard.image.platform import parse_platform
    from dockyard.image.progress import progress_for
    from dockyard.image.pull import pull_image
    from dockyard.image.reference import parse_reference

    given = parse_reference(args.reference, default_tag=False)
    if args.all_tags and (given.tag or given.digest):
        raise InvalidArgument("tag can't be used with --all-tags/-a: give the repository only")
    defaulted = not (args.all_tags or given.tag or given.digest)
    ref = given.with_tag("latest") if defaulted else given
    platform = parse_platform(args.platform) if args.platform else None
    engine = _engine(root)
    # Leftovers of a killed pull: temp files no live writer holds.
    engine.images.content.clean_ingest()
    engine.layers.clean_tmp()
    progress = progress_for(sys.stdout, quiet=args.quiet)
    if defaulted:
        progress.message("Using default tag: latest")
    try:
        with _client() as client:
            refs = [ref.with_tag(t) for t in client.list_tags(ref)] if args.all_tags else [ref]
            for each in refs:
                pull_image(engine.images, client, each, platform=platform, progress=progress)
    finally:
        progress.close()
    print(ref.name if args.all_tags else str(ref))
    return 0


def push(args: argparse.Namespace, root: Path) -> int:
    from dockyard.image.progress import progress_for
    from dockyard.image.push import push_image
    from dockyard.image.reference import parse_reference

    engine = _engine(root)
    ref = parse_reference(args.reference)
    progress = progress_for(sys.stdout, quiet=args.quiet)
    try:
        with _client() as client:
            result = push_image(engine.images, client, ref, progress=progress)
    finally:
        progress.close()
    if args.quiet:
        print(str(ref))
    else:
        print(f"{ref.tag or 'latest'}: digest: {result.digest} size: {result.size}")
    return 0


def save(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import InvalidArgument
    from dockyard.image.archive import ArchiveFormat, save_images

    engine = _engine(root)
    if not args.output and sys.stdout.isatty():
        raise InvalidArgument(
            "cowardly refusing to save to a terminal: use the -o flag or redirect stdout"
        )
    fmt = ArchiveFormat(args.format)
    if args.output:
        save_images(engine.images, args.images, Path(args.output), fmt)
    else:
        save_images(engine.images, args.images, sys.stdout.buffer, fmt)
    return 0


def load(args: argparse.Namespace, root: Path) -> int:
    from dockyard.image.archive import load_archive
    from dockyard.image.inspect import familiar
    from dockyard.image.progress import progress_for

    engine = _engine(root)
    engine.images.content.clean_ingest()
    engine.layers.clean_tmp()
    progress = progress_for(sys.stdout, quiet=True)
    source = Path(args.input) if args.input else sys.stdin.buffer
    try:
        loaded = load_archive(engine.images, source, progress=progress)
    finally:
        progress.close()
    for image in loaded:
        if image.tags:
            for name in image.tags:
                print(f"Loaded image: {familiar(name)}")
        else:
            print(f"Loaded image ID: {image.record.id}")
    return 0


def history(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import go_template, human_ago, human_size, table
    from dockyard.image.importer import parse_created

    engine = _engine(root)
    record = engine.images.resolve(args.image)
    config = engine.images.config(record)
    entries = list(config.get("history") or [])
    diff_ids = list(record.diff_ids)
    # Entries without `empty_layer` made the layers, in order (image-spec config.md).
    sizes: list[int] = []
    for entry in entries:
        if entry.get("empty_layer") or not diff_ids:
            sizes.append(0)
        else:
            sizes.append(engine.layers.get(diff_ids.pop(0)).size)
    rows = []
    for position, (entry, size) in reversed(list(enumerate(zip(entries, sizes, strict=True)))):
        top = position == len(entries) - 1
        image_id = record.id if args.no_trunc else record.short_id
        created_by = entry.get("created_by", "")
        if not args.no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        created = entry.get("created", "")
        rows.append(
            {
                "ID": image_id if top else "<missing>",
                "CreatedSince": human_ago(parse_created(created))
                if args.human == "true"
                else created,
                "CreatedAt": created,
                "CreatedBy": created_by,
                "Size": human_size(size) if args.human == "true" else str(size),
                "Comment": entry.get("comment", ""),
            }
        )
    if args.quiet:
        for row in rows:
            print(row["ID"])
        return 0
    if args.format:
        for row in rows:
            print(go_template(args.format, row))
        return 0
    keys = ["ID", "CreatedSince", "CreatedBy", "Size", "Comment"]
    headers = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
    print(table(headers, [[r[k] for k in keys] for r in rows]))
    return 0


def prune(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import human_size
    from dockyard.image.inspect import familiar
    from dockyard.image.prune import prune_images

    if not args.force:
        what = (
            "images without at least one container associated to them"
            if args.all
            else ("dangling images")
        )
        sys.stdout.write(
            f"WARNING! This will remove all {what}.\nAre you sure you want to continue? [y/N] "
        )
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    engine = _engine(root)
    in_use = {c.image_id for c in engine.containers.list()}
    report = prune_images(engine.images, engine.layers, all_unused=args.all, in_use=in_use)
    if report.untagged or report.deleted:
        print("Deleted Images:")
        for name in report.untagged:
            print(f"untagged: {familiar(name)}")
        for image_id in report.deleted:
            print(f"deleted: {image_id}")
        print()
    print(f"Total reclaimed space: {human_size(report.reclaimed)}")
    return 0


def login(args: argparse.Namespace, root: Path) -> int:
    from getpass import getpass

    from dockyard.errors import InvalidArgument

    username = args.username
    if args.password_stdin:
        if args.password:
            raise InvalidArgument("--password and --password-stdin are mutually exclusive")
        if not username:
            raise InvalidArgument("must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    else:
        password = args.password
        if password:
            sys.stderr.write(
                "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
            )
        if not username:
            sys.stdout.write("Username: ")
            sys.stdout.flush()
            username = sys.stdin.readline().strip()
        if not password:
            password = getpass("Password: ")
    if not username or not password:
        raise InvalidArgument("username and password are required: use -u and --password-stdin")
    with _client() as client:
        client.login(args.registry, username, password)
    print("Login Succeeded")
    return 0


def logout(args: argparse.Namespace, root: Path) -> int:
    with _client() as client:
        if client.logout(args.registry):
            print(f"Removing login credentials for {args.registry}")
        else:
            print(f"Not logged in to {args.registry}")
    return 0
