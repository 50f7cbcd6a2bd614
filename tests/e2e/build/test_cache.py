"""The build cache: every step reused on a rebuild, a changed file reruns from its COPY."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox
ENV MODE=test
RUN echo one > /one.txt
COPY a.txt /a.txt
RUN cat /a.txt > /copy.txt
COPY b.txt /b.txt
CMD ["cat", "/copy.txt", "/b.txt"]
"""


def _steps(out: str) -> list[bool]:
    """For each step after FROM: whether it was taken from the cache."""
    blocks = out.split("Step ")[2:]
    return ["---> Using cache" in block for block in blocks]


def test_second_build_uses_the_cache_and_a_change_reruns(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": DOCKERFILE, "a.txt": "A1\n", "b.txt": "B\n"})
    first = dy("build", "-t", "cached:1", str(ctx))
    assert first.returncode == 0, first.stderr
    assert _steps(first.stdout) == [False] * 6

    second = dy("build", "-t", "cached:2", str(ctx))
    assert _steps(second.stdout) == [True] * 6
    ids = [line.split()[-1] for line in (first.stdout, second.stdout)
           for line in line.splitlines() if line.startswith("Successfully built")]  # fmt: skip
    assert ids[0] == ids[1]

    (ctx / "a.txt").write_text("A2\n")
    third = dy("build", "-t", "cached:3", str(ctx))
    assert _steps(third.stdout) == [True, True, False, False, False, False]
    assert dy("run", "--rm", "cached:3").stdout == "A2\nB\n"

    fresh = dy("build", "--no-cache", "-t", "cached:4", str(ctx))
    assert _steps(fresh.stdout) == [False] * 6


def test_build_arg_change_reruns_run_steps(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nARG V=1\nRUN echo $V > /v\n"})
    dy("build", "-q", str(ctx), check=True)
    again = dy("build", "--build-arg", "V=2", str(ctx))
    assert _steps(again.stdout) == [True, False]


def test_builder_prune_frees_the_cache(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN echo x > /x\n"})
    image = dy("build", "-q", str(ctx), check=True).stdout.strip()
    kept = dy("builder", "prune", "-f", check=True).stdout
    assert "Deleted build cache objects: 0" in kept  # the image still uses the layer
    dy("rmi", image, check=True)
    pruned = dy("builder", "prune", "-a", "-f", check=True).stdout
    assert "Deleted build cache objects: 1" in pruned
    rebuilt = dy("build", str(ctx), check=True)
    assert _steps(rebuilt.stdout) == [False]
