"""Anonymous volumes survive a recreate (`-V` renews them) and `down -v` removes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard
from tests.e2e.compose.test_compose import compose, ids, write

pytestmark = pytest.mark.root

# `app` has an anonymous volume from `volumes:`, `img` one from its image's VOLUME.
STACK = """
name: anon
services:
  app:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    environment: {GENERATION: "%s"}
    volumes: [/data]
  img:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        VOLUME /imgvol
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
"""


@pytest.fixture
def project(scratch: Path) -> Path:
    directory = scratch / "proj"
    directory.mkdir()
    return directory


def volumes(dy: Dockyard) -> set[str]:
    return set(dy("volume", "ls", "-q").stdout.split())


def test_recreate_keeps_anonymous_volumes_renew_and_down_v(
    dockyard: Dockyard, project: Path
) -> None:
    write(project, STACK % "1")
    compose(dockyard, project, "up", "-d", "--build")

    def sh(service: str, script: str) -> str:
        return compose(dockyard, project, "exec", "-T", service, "sh", "-c", script).strip()

    sh("app", "echo kept > /data/f")
    sh("img", "echo kept > /imgvol/f")
    made = volumes(dockyard)
    assert len(made) == 2
    first = set(ids(dockyard, project))
    # forced recreate: new containers, same anonymous volumes, data there
    compose(dockyard, project, "up", "-d", "--force-recreate")
    assert set(ids(dockyard, project)).isdisjoint(first)
    assert sh("app", "cat /data/f") == "kept"
    assert sh("img", "cat /imgvol/f") == "kept"
    assert volumes(dockyard) == made
    # a configuration change recreates `app` only; its volume moves along
    write(project, STACK % "2")
    compose(dockyard, project, "up", "-d")
    assert sh("app", "echo $GENERATION; cat /data/f") == "2\nkept"
    assert volumes(dockyard) == made
    # -V: fresh anonymous volumes, the old ones removed (not left dangling)
    compose(dockyard, project, "up", "-d", "--force-recreate", "-V")
    assert sh("app", "ls /data") == ""
    assert sh("img", "ls /imgvol") == ""
    renewed = volumes(dockyard)
    assert len(renewed) == 2 and renewed.isdisjoint(made)
    compose(dockyard, project, "down", "-v", "-t", "1")
    assert volumes(dockyard) == set()
    assert dockyard("ps", "-aq").stdout.strip() == ""
