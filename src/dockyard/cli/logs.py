"""`dockyard logs`: read the json-file log (and follow it while the container runs)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.engine.service import Engine


def _when(text: str | None) -> float | None:
    """`--since`/`--until`: a Unix timestamp, an RFC 3339 time, or a duration like `10m`."""
    if not text:
        return None
    from dockyard.engine.logs import parse_time
    from dockyard.errors import InvalidArgument

    try:
        return float(text)
    except ValueError:
        pass
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(text[:-1]) * units[text[-1]]
    try:
        return parse_time(text)
    except ValueError:
        raise InvalidArgument(f"invalid time {text!r}: use a timestamp, RFC 3339 or 10m") from None


def show_logs(engine: Engine, args: argparse.Namespace) -> int:
    """Print the container's logs as `docker logs` does."""
    from dockyard.engine.logs import follow, read_entries
    from dockyard.errors import InvalidArgument

    row = engine.containers.find(args.container)
    path = engine.paths.log(row.id)
    entries = read_entries(path, _when(args.since), _when(args.until))
    if args.tail != "all":
        if not args.tail.isdigit():
            raise InvalidArgument(f"invalid --tail {args.tail!r}: use a number or all")
        entries = entries[-int(args.tail) :] if int(args.tail) else []
    out = {"stdout": sys.stdout, "stderr": sys.stderr}

    def emit(stream: str, text: str, stamp: str) -> None:
        target = out.get(stream, sys.stdout)
        target.write(f"{stamp} {text}" if args.timestamps else text)
        target.flush()

    for e in entries:
        emit(e.stream, e.text, e.time)
    if args.follow:
        start = path.stat().st_size if path.exists() else 0

        def alive() -> bool:
            return engine.containers.get(row.id).running

        for e in follow(path, start, alive):
            emit(e.stream, e.text, e.time)
    return 0
