"""`compose run` passes our stdin to the container, with a terminal when ours is one."""

from __future__ import annotations

import os
import pty
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import DOCKYARD, Dockyard
from tests.e2e.compose.test_compose import write

pytestmark = pytest.mark.root

STACK = """
name: r
services:
  app:
    image: busybox
    command: ["true"]
"""


@pytest.fixture
def compose_file(scratch: Path) -> Path:
    directory = scratch / "proj"
    directory.mkdir()
    return write(directory, STACK)


def test_piped_stdin_reaches_the_container(dockyard: Dockyard, compose_file: Path) -> None:
    for flags in (("-T",), ()):  # interactive is the default, with or without a terminal
        proc = dockyard(
            "compose", "-f", str(compose_file), "run", "--rm", *flags, "app", "cat",
            input=b"hi\nthere\n",
        )  # fmt: skip
        assert (proc.returncode, proc.stdout) == (0, "hi\nthere\n"), proc.stderr
    proc = dockyard(
        "compose", "-f", str(compose_file), "run", "--rm", "-T", "app", "sh", "-c",
        "read x; exit $x", input=b"7\n",
    )  # fmt: skip
    assert proc.returncode == 7
    assert dockyard("ps", "-aq").stdout.strip() == ""
    dockyard("compose", "-f", str(compose_file), "down", check=True)  # run made r_default


def test_a_terminal_gets_a_tty_by_default(dockyard: Dockyard, compose_file: Path) -> None:
    master, slave = pty.openpty()
    command = [DOCKYARD, "--root", str(dockyard.root), "compose", "-f", str(compose_file)]
    env = {**os.environ, "DOCKYARD_CGROUP_PARENT": dockyard.cgroup_parent}
    try:
        proc = subprocess.Popen(
            [*command, "run", "--rm", "app", "sh", "-c", "tty; read x; echo got:$x"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
        )
        time.sleep(1.5)
        os.write(master, b"abc\n")
        out = b""
        deadline = time.monotonic() + 20
        while b"got:abc" not in out and time.monotonic() < deadline:
            out += os.read(master, 4096)
        assert proc.wait(timeout=20) == 0
    finally:
        os.close(master)
        os.close(slave)
    assert b"/dev/pts/0" in out and b"got:abc" in out, out
    assert dockyard("ps", "-aq").stdout.strip() == ""
    dockyard("compose", "-f", str(compose_file), "down", check=True)
