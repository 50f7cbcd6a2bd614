"""`export`: a tar of a container's merged root file system (the image plus its changes)."""

from __future__ import annotations

import os
import tarfile
from typing import IO

from dockyard.engine.service import Engine


def write_tree(root: str, out: IO[bytes]) -> None:
    """Write every entry under `root` to `out` as a tar, sorted, names relative (`bin/sh`)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:

        def walk(relative: str) -> None:
            directory = os.path.join(root, relative)
            for name in sorted(os.listdir(directory)):
                rel = f"{relative}/{name}".lstrip("/")
                path = os.path.join(root, rel)
                tar.add(path, arcname=rel, recursive=False)
                if os.path.isdir(path) and not os.path.islink(path):
                    walk(rel)

        walk("")


def export_container(engine: Engine, text: str, out: IO[bytes]) -> None:
    """Write the root file system of the container `text` names to `out` as a tar."""
    from dockyard.engine.container_cp import container_root

    row = engine.containers.find(text)
    with container_root(engine, row) as root:
        write_tree(root, out)
