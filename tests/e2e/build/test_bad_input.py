"""Bad Dockerfiles and failing steps: one line naming the Dockerfile line, nothing left behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

CASES = {
    "unknown instruction": ("FROM busybox\nFROBNICATE x\n", "Dockerfile:2:", "unknown instruction"),
    "copy outside": ("FROM busybox\nCOPY ../x /x\n", "Dockerfile:2:", "outside the build context"),
    "missing file": (
        "FROM busybox\n\nCOPY nope.txt /\n",
        "Dockerfile:3:",
        "nope.txt: no such file",
    ),
    "undefined stage": ("FROM busybox\nCOPY --from=builder /a /a\n", "Dockerfile:2:", "undefined"),
    "heredoc": ("FROM busybox\nRUN <<EOF\necho hi\n", "Dockerfile:2:", "unterminated heredoc"),
    "exclude": ("FROM busybox\nCOPY --exclude=*.md . /\n", "Dockerfile:2:", "not supported"),
    "unknown user": ("FROM busybox\nUSER ghost\nRUN true\n", "Dockerfile:3:", "user ghost"),
    "unknown chown": ("FROM busybox\nCOPY --chown=ghost Dockerfile /\n", "Dockerfile:2:", "ghost"),
    "glob matches none": ("FROM busybox\nCOPY *.none /\n", "Dockerfile:2:", "matches none"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_dockerfile_is_one_line_naming_the_line(dy: Dockyard, ctx: Path, case: str) -> None:
    text, where, what = CASES[case]
    write(ctx, {"Dockerfile": text})
    done = dy("build", str(ctx))
    assert done.returncode == 125
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert where in lines[0] and what in lines[0], lines[0]


def test_unknown_target(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox AS one\nFROM busybox AS two\n"})
    done = dy("build", "--target", "three", str(ctx))
    assert done.returncode == 125
    assert "'three' could not be found; stages: one, two" in done.stderr


def test_failing_run_names_step_and_code_and_leaves_nothing(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN echo partial > /p\nRUN echo before; exit 3\n"})
    done = dy("build", "-t", "broken:1", str(ctx))
    assert done.returncode == 1
    assert "before" in done.stdout
    assert done.stderr.strip() == (
        "dockyard: Dockerfile:3: RUN echo before; exit 3 returned a non-zero code: 3"
    )
    assert dy("images", "-q", "broken").stdout == ""
    runtime = dy.root / "runtime"
    assert not runtime.exists() or list(runtime.iterdir()) == []
    assert list((dy.root / "build").iterdir()) == []
    with sqlite3.connect(dy.root / "state.db") as db:
        assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 0
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(dy.root) not in mounts
