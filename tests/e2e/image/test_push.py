"""`dockyard push`: an image pushed to a real registry and pulled back into another root is
the same image (same id, same manifest digest), whether its layers are gzip or plain tars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.engine.service import Engine
from dockyard.image.reference import Reference
from dockyard.testing.registry import RunningRegistry

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


def test_push_then_pull_gives_the_same_image(
    scratch: Path, registry: RunningRegistry, pushed_busybox: Reference
) -> None:
    source = scratch / "a"
    dockyard(source, "pull", "-q", str(pushed_busybox))
    target = f"{registry.host}/e2e/pushed:1"
    dockyard(source, "tag", str(pushed_busybox), target)
    out = dockyard(source, "push", target).splitlines()
    assert out[0] == f"The push refers to repository [{registry.host}/e2e/pushed]"
    layer = out[1].split(":")[0]
    # Same registry: the layer is mounted (or found) rather than uploaded again.
    assert out[1:-1] == [f"{layer}: Preparing", f"{layer}: Layer already exists"] or out[1:-1] == [
        f"{layer}: Preparing",
        f"{layer}: Pushed",
    ]
    assert out[-1].startswith("1: digest: sha256:") and " size: " in out[-1]
    original = Engine(source).images.resolve(target)

    dest = scratch / "b"
    dockyard(dest, "pull", "-q", target)
    pulled = Engine(dest).images.resolve(target)
    assert (pulled.id, pulled.manifest_digest) == (original.id, original.manifest_digest)
    assert f"{registry.host}/e2e/pushed@{pulled.manifest_digest}" in pulled.repo_digests


def test_push_of_a_bootstrapped_image_with_plain_tar_layers(
    scratch: Path, registry: RunningRegistry
) -> None:
    source = scratch / "a"
    dockyard(source, "image", "bootstrap", "busybox")
    target = f"{registry.host}/e2e/boot:latest"
    dockyard(source, "tag", "busybox", target)
    out = dockyard(source, "push", "-q", target)
    assert out == f"{target}\n"
    dest = scratch / "b"
    dockyard(dest, "pull", "-q", target)
    assert Engine(dest).images.resolve(target).id == Engine(source).images.resolve(target).id
    # Pushing again finds every blob in place.
    assert ": Layer already exists" in dockyard(source, "push", target)
