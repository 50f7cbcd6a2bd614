"""`dockyard build` and `dockyard builder prune`: parse the options, call the builder, print."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.build.progress import Progress
    from dockyard.build.steps.run_mounts import SecretSource

Handler = Callable[[argparse.Namespace, Path], int]


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """The parser and handler of `build` or `builder`."""
    if command == "builder":
        sub = parser.add_subparsers(dest="sub", required=True, metavar="COMMAND")
        prune = sub.add_parser("prune", help="Remove build cache")
        prune.add_argument("-a", "--all", action="store_true", help="remove all build cache")
        prune.add_argument("-f", "--force", action="store_true", help="do not prompt")
        return builder_prune
    parser.add_argument("context", help="a directory, or - for a Dockerfile on stdin")
    parser.add_argument("-t", "--tag", action="append", default=[])
    parser.add_argument("-f", "--file", help="the Dockerfile (default CONTEXT/Dockerfile)")
    parser.add_argument("--build-arg", action="append", default=[])
    parser.add_argument("--target")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--pull", action="store_true")
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--network", default="default", choices=("default", "host", "none"))
    parser.add_argument("--platform", help="only the host's platform is built")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--progress", default="auto", choices=("auto", "plain", "tty"))
    parser.add_argument("--iidfile")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        help="a secret for RUN --mount=type=secret: id=ID,src=PATH or id=ID,env=VAR",
    )
    return build_command


def _pairs(values: list[str], what: str) -> dict[str, str]:
    import os

    from dockyard.errors import InvalidArgument

    out: dict[str, str] = {}
    for value in values:
        key, eq, val = value.partition("=")
        if not key:
            raise InvalidArgument(f"{what} {value!r}: write KEY=VALUE")
        if not eq:
            # Docker: `--build-arg NAME` takes the value from the environment, if set.
            if key in os.environ:
                out[key] = os.environ[key]
            continue
        out[key] = val
    return out


def build_command(args: argparse.Namespace, root: Path) -> int:
    """`dockyard build`."""
    from dockyard.build.builder import StepFailed, build_image
    from dockyard.engine.service import Engine
    from dockyard.errors import InvalidArgument
    from dockyard.image.platform import parse_platform

    if args.platform:
        wanted = parse_platform(args.platform)
        if (wanted.os, wanted.architecture) != ("linux", _arch()):
            raise InvalidArgument(
                f"--platform {args.platform}: only the host's platform (linux/{_arch()}) "
                "can be built"
            )
    dockerfile: Path | str | None = Path(args.file) if args.file else None
    context: Path | None
    if args.context == "-":
        context = None
        dockerfile = sys.stdin.read()
    else:
        context = Path(args.context)
        if not context.is_dir():
            raise InvalidArgument(
                f"build context {args.context}: no such directory; give a directory or -"
            )
        if dockerfile is None:
            dockerfile = context / "Dockerfile"
    secrets = _secrets(args.secret)
    engine = Engine(root)
    progress: contextlib.AbstractContextManager[Progress | None] = contextlib.nullcontext(None)
    if not args.quiet and (
        args.progress == "tty" or (args.progress == "auto" and sys.stdout.isatty())
    ):
        from dockyard.build.progress_tty import TtyProgress

        progress = TtyProgress(sys.stdout)
    try:
        with progress as view:
            image_id = build_image(
                engine,
                context,
                dockerfile,
                tags=args.tag,
                build_args=_pairs(args.build_arg, "--build-arg"),
                target=args.target,
                no_cache=args.no_cache,
                network=args.network,
                labels=_pairs(args.label, "--label"),
                output=None if args.quiet else sys.stdout,
                pull=args.pull,
                secrets=secrets,
                progress=view,
            )
    except StepFailed as exc:
        sys.stdout.flush()
        sys.stderr.write(f"dockyard: {exc}\n")
        return 1
    if args.quiet:
        print(image_id)
    if args.iidfile:
        Path(args.iidfile).write_text(image_id)
    return 0


def _secrets(values: list[str]) -> dict[str, SecretSource]:
    import os

    from dockyard.build.steps.run_mounts import parse_secret
    from dockyard.errors import InvalidArgument

    out: dict[str, SecretSource] = {}
    for value in values:
        try:
            secret = parse_secret(value, os.environ)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        out[secret.id] = secret
    return out


def builder_prune(args: argparse.Namespace, root: Path) -> int:
    """`dockyard builder prune [-a] [-f]`."""
    from dockyard.build.cache import BuildCache, prune_cache
    from dockyard.engine.service import Engine

    if not args.force and sys.stdin.isatty():
        which = "all build cache" if args.all else "all dangling build cache"
        sys.stdout.write(
            f"WARNING! This will remove {which}.\nAre you sure you want to continue? [y/N] "
        )
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    engine = Engine(root)
    count, freed = prune_cache(BuildCache(engine.db), engine.layers, everything=args.all)
    if args.all:
        from dockyard.build.steps.run_mounts import prune_cache_mounts

        # RUN --mount=type=cache directories go with -a only, as Docker's.
        freed += prune_cache_mounts(engine.paths.root / "build")
    print(f"Deleted build cache objects: {count}")
    print(f"Total reclaimed space: {_size(freed)}")
    return 0


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.3g}{unit}" if unit != "B" else f"{n}B"
        value /= 1000
    return f"{n}B"


def _arch() -> str:
    import os

    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
