"""Both snapshotters pass the same conformance suite (real mounts, root)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.storage.snapshots import CopySnapshotter, OverlaySnapshotter
from dockyard.testing.snapshotter_suite import CHECKS, Harness, SnapshotterFactory, run_check

FACTORIES: dict[str, SnapshotterFactory] = {
    "overlay": OverlaySnapshotter,
    "copy": CopySnapshotter,
}


@pytest.mark.root
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_snapshotter(kind: str, check: Callable[[Harness], None], scratch: Path) -> None:
    run_check(check, FACTORIES[kind], scratch)
