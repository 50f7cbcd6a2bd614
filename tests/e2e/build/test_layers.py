"""Layer contents: deletions (whiteouts) carry over, .dockerignore, deterministic digests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root


def test_a_file_deleted_in_a_later_run_is_gone(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {
            "Dockerfile": "FROM busybox\n"
            "RUN mkdir -p /d/sub && echo x > /d/sub/f && echo y > /keep\n"
            "RUN rm -r /d/sub && rm /bin/vi && mkdir /d/sub && echo new > /d/sub/g\n"
        },
    )
    assert dy("build", "-t", "del:1", str(ctx)).returncode == 0
    out = dy("run", "--rm", "del:1", "sh", "-c", "ls /d/sub; ls /bin/vi; cat /keep").stdout
    assert out.splitlines() == ["g", "y"]


def test_dockerignore_excludes_and_reincludes(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {
            "Dockerfile": "FROM busybox\nCOPY . /ctx/\n",
            ".dockerignore": "docs\n!docs/README.md\n*.log\n**/secret*\n",
            "docs/README.md": "readme\n",
            "docs/internal.md": "internal\n",
            "app.log": "log\n",
            "src/main.txt": "main\n",
            "src/deep/secret.key": "key\n",
        },
    )
    assert dy("build", "-t", "ign:1", str(ctx)).returncode == 0
    listing = dy("run", "--rm", "ign:1", "find", "/ctx", "-type", "f").stdout.split()
    assert sorted(listing) == [
        "/ctx/.dockerignore",
        "/ctx/Dockerfile",
        "/ctx/docs/README.md",
        "/ctx/src/main.txt",
    ]


def test_same_inputs_give_the_same_digest(
    dy: Dockyard, ctx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        ctx,
        {
            "Dockerfile": "FROM busybox\nCOPY a.txt /a.txt\nRUN echo built > /b.txt\n"
            'CMD ["cat", "/b.txt"]\n',
            "a.txt": "a\n",
        },
    )
    os.utime(ctx / "a.txt", (1_600_000_000, 1_600_000_000))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # Dockyard passes os.environ on
    ids = []
    for _ in range(2):
        done = dy("build", "-q", "--no-cache", str(ctx))
        assert done.returncode == 0, done.stderr
        ids.append(done.stdout.strip())
    assert ids[0] == ids[1]
    image = dy.json("image", "inspect", ids[0])[0]
    assert image["Created"].startswith("2023-11-14T22:13:20")
