"""`dockyard version`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def build(
    command: str, parser: argparse.ArgumentParser
) -> Callable[[argparse.Namespace, Path], int]:
    """The handler of `version`."""

    def version(_args: argparse.Namespace, _root: Path) -> int:
        from dockyard import __version__

        print(f"dockyard version {__version__}")
        return 0

    return version
