"""Fixtures for running real bundles with `dockyard-runtime` (and `runc`, the oracle)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dockyard.runtime.spec_default import default_spec

RUNTIME = str(Path(sys.executable).parent / "dockyard-runtime")


@dataclass
class Bundle:
    """A bundle directory whose config.json can be edited before it is written."""

    path: Path
    config: dict[str, Any]
    name: str

    def write(self) -> Path:
        (self.path / "config.json").write_text(json.dumps(self.config, indent=1))
        return self.path

    @property
    def rootfs(self) -> Path:
        return self.path / "rootfs"


@dataclass
class Runtime:
    """Runs one runtime binary with its own state root; remembers ids to clean up."""

    binary: str
    root: Path
    made: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, check: bool = False, timeout: float = 30, input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        cmd = [self.binary, "--root", str(self.root), *args]
        for i, a in enumerate(args):
            if a in ("create", "run") and i + 1 < len(args):
                ids = [x for x in args[i + 1 :] if not x.startswith("-")]
                if ids:
                    self.made.append(ids[-1])
        # Files, not pipes: a detached container's init inherits our stdio and keeps it open.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            done = subprocess.run(
                cmd,
                stdout=out,
                stderr=err,
                timeout=timeout,
                check=False,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
            out.seek(0)
            err.seek(0)
            proc = subprocess.CompletedProcess(cmd, done.returncode, out.read(), err.read())
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()}")
        return proc

    def state(self, cid: str) -> dict[str, Any]:
        out = self("state", cid, check=True).stdout
        result: dict[str, Any] = json.loads(out)
        return result

    def cleanup(self) -> None:
        for cid in self.made:
            self("delete", "--force", cid)


@pytest.fixture
def make_bundle(busybox_template: Path, scratch: Path, cgroup_prefix: str) -> Callable[..., Bundle]:
    """Make a bundle (own rootfs copy) running `args`, with a cgroup under the test prefix."""
    counter = [0]

    def make(*args: str, terminal: bool = False) -> Bundle:
        counter[0] += 1
        name = f"{scratch.name[:20]}-{counter[0]}".replace("[", "-").replace("]", "")
        path = scratch / f"bundle{counter[0]}"
        path.mkdir()
        subprocess.run(["cp", "-a", str(busybox_template), str(path / "rootfs")], check=True)
        config: dict[str, Any] = copy.deepcopy(dict(default_spec(list(args) or ["true"])))
        config["process"]["terminal"] = terminal
        config["root"]["readonly"] = False
        config["linux"]["cgroupsPath"] = f"{cgroup_prefix}/{name}"
        return Bundle(path, config, name)

    return make


@pytest.fixture
def runtime(scratch: Path) -> Iterator[Runtime]:
    """dockyard-runtime with a private state root."""
    rt = Runtime(RUNTIME, scratch / "state")
    yield rt
    rt.cleanup()


@pytest.fixture
def runc(scratch: Path) -> Iterator[Runtime]:
    """runc with a private state root (skips where runc is not installed)."""
    binary = shutil.which("runc")
    if binary is None:
        pytest.skip("runc is not installed")
    rt = Runtime(binary, scratch / "runc-state")
    yield rt
    rt.cleanup()


def cgroup_exists(path: str) -> bool:
    """True if `path` exists in any v1 hierarchy or the unified one."""
    base = Path("/sys/fs/cgroup")
    return (
        any((h / path.lstrip("/")).exists() for h in base.iterdir() if h.is_dir())
        or (base / path.lstrip("/")).exists()
    )


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


__all__ = ["Bundle", "Runtime", "alive", "cgroup_exists", "os"]
