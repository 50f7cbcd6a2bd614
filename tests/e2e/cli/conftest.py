"""Fixtures for driving the `dockyard` CLI against a private root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@dataclass
class Dockyard:
    """Runs `dockyard --root ROOT …`; output goes through files (containers may keep pipes)."""

    root: Path
    cgroup_parent: str = ""

    def __call__(
        self, *args: str, check: bool = False, timeout: float = 60, input: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmd = [DOCKYARD, "--root", str(self.root), *args]
        env = dict(os.environ)
        if self.cgroup_parent:
            env["DOCKYARD_CGROUP_PARENT"] = self.cgroup_parent
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            done = subprocess.run(
                cmd,
                stdout=out,
                stderr=err,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                env=env,
                timeout=timeout,
                check=False,
            )
            out.seek(0)
            err.seek(0)
            proc = subprocess.CompletedProcess(
                cmd, done.returncode, out.read().decode(), err.read().decode()
            )
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, check=True).stdout)

    def cleanup(self) -> None:
        ids = self("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            self("rm", "-f", *ids)
        networks = self("network", "ls", "--format", "{{.Name}}").stdout.split()
        if networks:
            self("network", "rm", *networks)


@pytest.fixture(scope="session")
def image_root(test_base: Path) -> Path:
    """A root holding the bootstrapped busybox image, made once per session."""
    root = test_base / "image-root"
    Dockyard(root)("image", "bootstrap", "busybox", check=True)
    return root


@pytest.fixture
def dockyard(scratch: Path, image_root: Path, cgroup_prefix: str) -> Iterator[Dockyard]:
    """The CLI with a private root that already has `busybox:latest`."""
    root = scratch / "root"
    subprocess.run(["cp", "-a", str(image_root), str(root)], check=True)
    dy = Dockyard(root, f"{cgroup_prefix}/engine")
    yield dy
    dy.cleanup()
    monitor = root / "monitor.sock"
    deadline = 50
    while monitor.exists() and deadline:
        import time

        time.sleep(0.1)
        deadline -= 1
