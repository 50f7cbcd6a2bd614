"""A fully cached rebuild gives the same image id (as BuildKit); a change gives a new one."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox
ENV MODE=test
RUN echo one > /one.txt
COPY a.txt /a.txt
WORKDIR /app
CMD ["cat", "/a.txt"]
"""


def _cached(out: str) -> list[bool]:
    """For each step after FROM: whether it was taken from the cache."""
    return ["---> Using cache" in block for block in out.split("Step ")[2:]]


def _inspect(dy: Dockyard, ref: str) -> dict[str, Any]:
    doc: list[dict[str, Any]] = json.loads(dy("image", "inspect", ref, check=True).stdout)
    return doc[0]


def _dangling(dy: Dockyard) -> list[str]:
    return dy("images", "-f", "dangling=true", "-q", "--no-trunc", check=True).stdout.split()


def test_fully_cached_rebuild_keeps_the_id_and_a_change_makes_a_new_one(
    dy: Dockyard, ctx: Path
) -> None:
    write(ctx, {"Dockerfile": DOCKERFILE, "a.txt": "A1\n"})
    first = dy("build", "-t", "same:1", str(ctx))
    assert first.returncode == 0, first.stderr
    assert _cached(first.stdout) == [False] * 5
    before = _inspect(dy, "same:1")
    dangling = _dangling(dy)

    time.sleep(1.1)  # a fresh `created` (second resolution) would now differ
    second = dy("build", "-t", "same:1", str(ctx))
    assert second.returncode == 0, second.stderr
    assert _cached(second.stdout) == [True] * 5
    again = _inspect(dy, "same:1")
    assert again["Id"] == before["Id"]
    assert again["Created"] == before["Created"]
    assert "Successfully tagged same:1" in second.stdout
    assert _dangling(dy) == dangling  # re-tagging the same id leaves nothing untagged

    (ctx / "a.txt").write_text("A2\n")
    third = dy("build", "-t", "same:1", str(ctx))
    assert third.returncode == 0, third.stderr
    assert _cached(third.stdout) == [True, True, False, False, False]
    changed = _inspect(dy, "same:1")
    assert changed["Id"] != before["Id"]
    assert changed["Created"] > before["Created"]
    assert _dangling(dy) == [*dangling, before["Id"]]  # the old image, as Docker leaves it


def test_source_date_epoch_fixes_created(
    dy: Dockyard, ctx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nLABEL a=b\n"})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dy("build", "-t", "epoch:1", str(ctx), check=True)
    assert _inspect(dy, "epoch:1")["Created"].startswith("2023-11-14T22:13:20")
