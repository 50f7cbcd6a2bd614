"""A private dockyard root for the example stacks, keeping base images and build cache.

Bootstrapping debian:bookworm and building the example images take minutes, so the images
stay in this root between runs (CI starts from a clean machine anyway); containers, networks
and volumes are removed before and after the tests. DOCKYARD_EXAMPLE_FRESH=1 starts empty.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard

DEFAULT_ROOT = "/var/tmp/dockyard-e2e-examples/root"


def reset(dy: Dockyard) -> None:
    """Remove every container, network and volume of the root; images stay as a cache."""
    dy.cleanup()
    volumes = dy("volume", "ls", "-q").stdout.split()
    if volumes:
        dy("volume", "rm", "-f", *volumes)
    # The root's monitor exits once it has no container left to watch.
    monitor = dy.root / "monitor.sock"
    deadline = time.monotonic() + 10
    while monitor.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture(scope="module")
def example_dockyard(cgroup_prefix: str) -> Iterator[Dockyard]:
    """The CLI on the examples' root, with no container, network or volume in it."""
    root = Path(os.environ.get("DOCKYARD_EXAMPLE_ROOT", DEFAULT_ROOT))
    if os.environ.get("DOCKYARD_EXAMPLE_FRESH") == "1":
        shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    dy = Dockyard(root, f"{cgroup_prefix}/examples")
    reset(dy)
    yield dy
    reset(dy)
