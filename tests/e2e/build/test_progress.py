"""`--progress`: the live rich view under a pseudo-terminal, plain lines otherwise."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import DOCKYARD, Dockyard

pytestmark = pytest.mark.root

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _under_pty(dy: Dockyard, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pty; (exit code, output without escapes)."""
    master, slave = os.openpty()
    env = {**os.environ, "DOCKYARD_CGROUP_PARENT": dy.cgroup_parent, "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "40"}  # fmt: skip
    proc = subprocess.Popen(
        [DOCKYARD, "--root", str(dy.root), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the pty
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_tty_progress_shows_the_steps_live(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {
            "hello.txt": "hi\n",
            "Dockerfile": "FROM busybox\nCOPY hello.txt /hello.txt\n"
            "RUN echo building-now && sleep 0.5\nENV DONE=1\n",
        },
    )
    code, out = _under_pty(dy, "build", "--progress=tty", "-t", "live:1", str(ctx))
    assert code == 0, out
    for text in ("[1/4] FROM busybox", "[2/4] COPY hello.txt /hello.txt",
                 "[3/4] RUN echo building-now", "[4/4] ENV DONE=1", "FINISHED",
                 "naming to live:1"):  # fmt: skip
        assert text in out, out
    assert "Step 1/4" not in out  # not the plain lines
    # Cached the second time; `auto` on a terminal is the live view too.
    code, again = _under_pty(dy, "build", "--progress=auto", str(ctx))
    assert code == 0, again
    assert "CACHED [3/4] RUN echo building-now" in again
    # `plain` stays plain on a terminal.
    code, plain = _under_pty(dy, "build", "--progress=plain", str(ctx))
    assert code == 0 and "Step 3/4 : RUN echo building-now" in plain


def test_tty_progress_shows_a_failed_step(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN echo about-to-fail && exit 3\n"})
    code, out = _under_pty(dy, "build", "--progress=tty", str(ctx))
    assert code == 1, out
    assert "ERROR [2/2] RUN echo about-to-fail" in out
    assert "# about-to-fail" in out
    assert "returned a non-zero code: 3" in out


def test_plain_progress_when_not_a_terminal(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN true\n"})
    done = dy("build", str(ctx))
    assert done.returncode == 0
    assert done.stdout.startswith("Step 1/2 : FROM busybox\n")
    assert "\x1b[" not in done.stdout
