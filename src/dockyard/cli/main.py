"""The `dockyard` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of `dockyard`."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("version", "--version"):
        from dockyard import __version__

        print(f"dockyard {__version__}")
        return 0
    print("usage: dockyard version", file=sys.stderr)
    return 125
