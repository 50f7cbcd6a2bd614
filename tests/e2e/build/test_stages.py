"""Multi-stage builds, --target, FROM an earlier stage, FROM scratch with a static binary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

MULTI = """\
FROM busybox AS builder
RUN mkdir /out && echo artifact > /out/app.txt && echo junk > /junk.txt

FROM builder AS tested
RUN test -f /junk.txt && echo ok > /out/tested.txt

FROM busybox
COPY --from=builder /out/app.txt /app.txt
COPY --from=1 /out/tested.txt /tested.txt
CMD ["sh", "-c", "cat /app.txt /tested.txt; ls /junk.txt /out 2>&1 | head -1"]
"""


def test_multi_stage_copies_only_the_artifact(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": MULTI})
    done = dy("build", "-t", "multi:1", str(ctx))
    assert done.returncode == 0, done.stderr
    run = dy("run", "--rm", "multi:1")
    lines = run.stdout.splitlines()
    assert lines[:2] == ["artifact", "ok"]
    assert "No such file" in lines[2]
    final = dy.json("image", "inspect", "multi:1")[0]["RootFS"]["Layers"]
    base = dy.json("image", "inspect", "busybox")[0]["RootFS"]["Layers"]
    assert len(final) == len(base) + 2  # the two COPY layers, nothing of the builder


def test_target_builds_only_that_stage(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": MULTI})
    done = dy("build", "--target", "builder", "-t", "only:builder", str(ctx))
    assert done.returncode == 0, done.stderr
    assert "Step 2/2 :" in done.stdout  # FROM + RUN of the first stage
    assert dy("run", "--rm", "only:builder", "cat", "/junk.txt").stdout == "junk\n"


def test_from_scratch_with_a_static_binary(dy: Dockyard, ctx: Path) -> None:
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, ctx / "busybox")
    write(
        ctx,
        {
            "Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\n"
            'ENTRYPOINT ["/bin/busybox"]\nCMD ["echo", "from scratch"]\n'
        },
    )
    done = dy("build", "-t", "tiny:1", str(ctx))
    assert done.returncode == 0, done.stderr
    assert dy("run", "--rm", "tiny:1").stdout == "from scratch\n"
    layers = dy.json("image", "inspect", "tiny:1")[0]["RootFS"]["Layers"]
    assert len(layers) == 1


def test_copy_from_an_image(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {
            "Dockerfile": "FROM scratch\nCOPY --from=busybox:latest /bin/busybox /bin/\n"
            'CMD ["/bin/busybox", "echo", "copied"]\n'
        },
    )
    assert dy("build", "-q", "-t", "fromimage:1", str(ctx)).returncode == 0
    assert dy("run", "--rm", "fromimage:1").stdout == "copied\n"
