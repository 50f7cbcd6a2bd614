"""`dockyard volume` commands (the container side is tested with `run -v`)."""

from __future__ import annotations

import pytest

from .conftest import Dockyard

pytestmark = pytest.mark.root


def test_volume_lifecycle(dockyard: Dockyard) -> None:
    assert dockyard("volume", "create", "--label", "app=web", "data", check=True).stdout == "data\n"
    assert dockyard("volume", "create", "data", check=True).stdout == "data\n"  # idempotent
    assert dockyard("volume", "ls", "-q", check=True).stdout == "data\n"
    doc = dockyard.json("volume", "inspect", "data")[0]
    assert doc["Name"] == "data" and doc["Driver"] == "local" and doc["Labels"] == {"app": "web"}
    assert (
        dockyard("volume", "ls", "-q", "--filter", "label=app=web", check=True).stdout == "data\n"
    )
    assert dockyard("volume", "rm", "data", check=True).stdout == "data\n"
    assert dockyard("volume", "ls", "-q", check=True).stdout == ""


def test_bad_volume_input(dockyard: Dockyard) -> None:
    bad = dockyard("volume", "create", "bad name")
    assert bad.returncode == 125 and "invalid volume name" in bad.stderr
    opt = dockyard("volume", "create", "-o", "colour=blue", "v1")
    assert opt.returncode == 125 and "invalid option 'colour'" in opt.stderr
    missing = dockyard("volume", "rm", "ghost")
    assert missing.returncode == 1 and "no such volume" in missing.stderr
    assert dockyard("volume", "ls", "-q", check=True).stdout == ""


def test_tmpfs_volume_via_driver_options(dockyard: Dockyard) -> None:
    dockyard(
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "t1",
        check=True,
    )
    doc = dockyard.json("volume", "inspect", "t1")[0]
    assert doc["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    dockyard("volume", "rm", "t1", check=True)
