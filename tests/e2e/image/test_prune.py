"""`dockyard image prune`: dangling images go, `-a` takes unused tagged ones too, and their
layer directories and blobs are given back (reference counts keep what others still use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.engine.service import Engine
from dockyard.image.reference import Reference

pytestmark = pytest.mark.root

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def dockyard(root: Path, *args: str) -> str:
    """Run the CLI on `root` with private Docker and registries configs; its stdout."""
    environ = dict(
        os.environ,
        DOCKER_CONFIG=str(root.parent / "docker-config"),
        DOCKYARD_REGISTRIES_CONFIG=str(root.parent / "registries.json"),
    )
    proc = subprocess.run(
        [DOCKYARD, "--root", str(root), *args],
        check=False, capture_output=True, text=True, env=environ, stdin=subprocess.DEVNULL,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def test_prune_dangling_then_all(scratch: Path, pushed_busybox: Reference) -> None:
    root = scratch / "root"
    dockyard(root, "image", "bootstrap", "busybox")
    dockyard(root, "pull", "-q", str(pushed_busybox))
    engine = Engine(root)
    pulled = engine.images.resolve(str(pushed_busybox))
    booted = engine.images.resolve("busybox:latest")
    # Untagging the pulled image makes it dangling (no tag, only its repo digest).
    engine.images.untag(str(pushed_busybox))
    blobs = root / "content/blobs/sha256"
    layers = root / "storage/layers"
    assert len(_files(layers)) == 2

    out = dockyard(root, "image", "prune", "-f").splitlines()
    assert out[:3] == ["Deleted Images:", f"deleted: {pulled.id}", ""]
    assert out[-1].startswith("Total reclaimed space: ") and not out[-1].endswith(" 0B")
    assert [r.id for r in engine.images.list()] == [booted.id]
    assert _files(layers) == [booted.diff_ids[0].split(":")[1]]
    manifest = engine.images.manifest(booted)
    kept = {booted.id, booted.manifest_digest, *(d["digest"] for d in manifest["layers"])}
    assert _files(blobs) == sorted(d.split(":")[1] for d in kept)
    assert dockyard(root, "image", "prune", "-f") == "Total reclaimed space: 0B\n"

    out = dockyard(root, "image", "prune", "-a", "-f").splitlines()
    assert out[:3] == ["Deleted Images:", "untagged: busybox:latest", f"deleted: {booted.id}"]
    assert engine.images.list() == [] and _files(layers) == [] and _files(blobs) == []


def test_prune_asks_first(scratch: Path) -> None:
    root = scratch / "root"
    dockyard(root, "image", "bootstrap", "busybox")
    proc = subprocess.run(
        [DOCKYARD, "--root", str(root), "image", "prune", "-a"],
        check=False, capture_output=True, text=True, input="n\n", timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.startswith("WARNING! This will remove all images")
    assert len(Engine(root).images.list()) == 1
