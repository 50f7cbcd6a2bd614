"""Fixtures for `dockyard build`: a private root holding busybox, and a context directory."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard


@pytest.fixture(scope="session")
def build_image_root(test_base: Path) -> Path:
    """A root with the bootstrapped busybox image, made once per session."""
    root = test_base / "build-image-root"
    Dockyard(root)("image", "bootstrap", "busybox", check=True)
    return root


@pytest.fixture
def dy(scratch: Path, build_image_root: Path, cgroup_prefix: str) -> Iterator[Dockyard]:
    """The CLI on a private copy of that root; RUN cgroups go under the test prefix."""
    root = scratch / "root"
    subprocess.run(["cp", "-a", str(build_image_root), str(root)], check=True)
    cli = Dockyard(root, f"{cgroup_prefix}/build")
    yield cli
    cli.cleanup()


@pytest.fixture
def ctx(scratch: Path) -> Path:
    """An empty build context directory."""
    path = scratch / "ctx"
    path.mkdir()
    return path


def write(ctx: Path, files: dict[str, str]) -> None:
    """Write files (relative path → text) into the context."""
    for name, text in files.items():
        path = ctx / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
