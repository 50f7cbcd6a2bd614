"""Image commands against a private root: bootstrap, images, tag, inspect, rmi, import."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from .conftest import DOCKYARD, Dockyard

pytestmark = pytest.mark.root


def test_bootstrap_is_reproducible(scratch: Path) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    ids = []
    for name in ("a", "b"):
        root = scratch / name
        proc = subprocess.run(
            [
                DOCKYARD,
                "--root",
                str(root),
                "image",
                "bootstrap",
                "busybox",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        ids.append(proc.stdout.strip())
    assert ids[0] == ids[1] and ids[0].startswith("sha256:")


def test_images_tag_inspect_rmi(dockyard: Dockyard) -> None:
    table = dockyard("images", check=True).stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert table[1].split()[:2] == ["busybox", "latest"]
    dockyard("tag", "busybox", "example.com/team/box:1.0", check=True)
    doc = dockyard.json("image", "inspect", "busybox")[0]
    assert doc["RepoTags"] == ["busybox:latest", "example.com/team/box:1.0"]
    assert doc["Config"]["Cmd"] == ["sh"] and doc["RootFS"]["Type"] == "layers"
    assert dockyard("inspect", "--format", "{{.Os}}", "busybox", check=True).stdout == "linux\n"
    assert dockyard("rmi", "example.com/team/box:1.0", check=True).stdout == (
        "Untagged: example.com/team/box:1.0\n"
    )
    assert len(dockyard("images", "-q", check=True).stdout.split()) == 1


def test_import_a_rootfs_tarball(dockyard: Dockyard, scratch: Path) -> None:
    src = scratch / "tree"
    (src / "etc").mkdir(parents=True)
    (src / "etc" / "motd").write_text("imported\n")
    tarball = scratch / "rootfs.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(src, arcname=".")
    image_id = dockyard("import", str(tarball), "mine:1", check=True).stdout.strip()
    assert dockyard.json("image", "inspect", "mine:1")[0]["Id"] == image_id


def test_bad_references_and_unknown_images(dockyard: Dockyard) -> None:
    for ref in ("UPPER:tag", "a:b:c", "nosuch:latest"):
        proc = dockyard("image", "inspect", ref)
        assert proc.returncode == 125
        assert proc.stderr.count("\n") == 1 and "dockyard:" in proc.stderr
    assert dockyard("rmi", "nosuch").returncode == 125


def test_images_filters(dockyard: Dockyard) -> None:
    dockyard("tag", "busybox", "team/app:1", check=True)
    out = dockyard("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=team/*")
    assert out.stdout.split() == ["team/app:1"]
    assert dockyard("images", "-q", "--filter", "dangling=true", check=True).stdout == ""
    assert dockyard("images", "-q", "--filter", "label=nope", check=True).stdout == ""
    bad = dockyard("images", "--filter", "colour=red")
    assert bad.returncode == 125 and "invalid filter" in bad.stderr
