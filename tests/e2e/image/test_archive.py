"""`dockyard save` / `load`: archives skopeo accepts, and archives skopeo wrote load back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.engine.service import Engine
from dockyard.image.reference import Reference

pytestmark = pytest.mark.root

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def dockyard(
    root: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI on `root` with private Docker and registries configs."""
    environ = dict(
        os.environ,
        DOCKER_CONFIG=str(root.parent / "docker-config"),
        DOCKYARD_REGISTRIES_CONFIG=str(root.parent / "registries.json"),
    )
    proc = subprocess.run(
        [DOCKYARD, "--root", str(root), *args],
        check=False, capture_output=True, env=environ, input=stdin, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def _skopeo(*args: str) -> str:
    proc = subprocess.run(["skopeo", *args], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def pulled(scratch: Path, pushed_busybox: Reference) -> tuple[Path, str]:
    """A root holding busybox pulled from the registry (gzip layers), tagged `busybox:1`."""
    root = scratch / "root"
    dockyard(root, "pull", "-q", str(pushed_busybox))
    dockyard(root, "tag", str(pushed_busybox), "busybox:1")
    return root, Engine(root).images.resolve("busybox:1").id


def test_docker_archive_is_what_skopeo_reads(pulled: tuple[Path, str], scratch: Path) -> None:
    root, image_id = pulled
    archive = scratch / "busybox.tar"
    dockyard(root, "save", "-o", str(archive), "busybox:1")
    info = json.loads(_skopeo("inspect", f"docker-archive:{archive}"))
    config = json.loads(_skopeo("inspect", "--config", f"docker-archive:{archive}"))
    assert (
        config["rootfs"]["diff_ids"]
        == info["Layers"]
        == list(Engine(root).images.resolve(image_id).diff_ids)
    )
    # skopeo finds the image by its RepoTags and checks each layer.tar against its diff-ID.
    _skopeo("copy", f"docker-archive:{archive}:busybox:1", f"oci:{scratch / 'copied'}:x")

    fresh = scratch / "fresh"
    out = dockyard(fresh, "load", "-i", str(archive)).stdout.decode()
    assert out == "Loaded image: busybox:1\n"
    assert Engine(fresh).images.resolve("busybox:1").id == image_id


def test_oci_archive_is_what_skopeo_reads(pulled: tuple[Path, str], scratch: Path) -> None:
    root, image_id = pulled
    archive = scratch / "busybox-oci.tar"
    dockyard(root, "save", "--format", "oci-archive", "-o", str(archive), "busybox:1")
    config = json.loads(_skopeo("inspect", "--config", f"oci-archive:{archive}:1"))
    assert config["rootfs"]["diff_ids"] == list(Engine(root).images.resolve(image_id).diff_ids)
    _skopeo("copy", f"oci-archive:{archive}:1", f"oci:{scratch / 'copied'}:x")

    fresh = scratch / "fresh"
    out = dockyard(fresh, "load", "-q", "-i", str(archive)).stdout.decode()
    assert out == "Loaded image: busybox:1\n"
    record = Engine(fresh).images.resolve("busybox:1")
    assert record.id == image_id
    # An OCI archive carries the blobs as stored: the manifest (and its digest) survive.
    assert record.manifest_digest == Engine(root).images.resolve(image_id).manifest_digest


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_load_what_skopeo_copy_wrote(scratch: Path, busybox_layout: Path, transport: str) -> None:
    archive = scratch / "from-skopeo.tar"
    _skopeo(
        "copy", "--quiet", f"oci:{busybox_layout}:latest", f"{transport}:{archive}:busybox:latest"
    )
    root = scratch / "root"
    out = dockyard(root, "load", "-i", str(archive)).stdout.decode()
    assert out == "Loaded image: busybox:latest\n"
    engine = Engine(root)
    record = engine.images.resolve("busybox:latest")
    (diff_id,) = record.diff_ids
    assert (engine.layers.path(diff_id) / "bin" / "busybox").is_file()
    assert record.diff_ids == tuple(
        json.loads(_skopeo("inspect", "--config", f"oci:{busybox_layout}:latest"))["rootfs"][
            "diff_ids"
        ]
    )


def test_save_to_stdout_and_load_from_stdin(pulled: tuple[Path, str], scratch: Path) -> None:
    root, image_id = pulled
    data = dockyard(root, "save", "busybox:1").stdout
    fresh = scratch / "fresh"
    out = dockyard(fresh, "load", stdin=data).stdout.decode()
    assert out == "Loaded image: busybox:1\n"
    assert Engine(fresh).images.resolve("busybox:1").id == image_id
    # Loading again shares everything: no new layer, same image.
    dockyard(fresh, "load", stdin=data)
    assert len(Engine(fresh).layers.list()) == 1


PODMAN_PEER = Path("/work/shared/peers/podman-peer")


@pytest.mark.skipif(
    not PODMAN_PEER.exists() or not Path("/usr/bin/podman").exists(),
    reason="podman (and the podman-peer wrapper) not installed",
)
@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_loads_what_dockyard_saved(
    pulled: tuple[Path, str], scratch: Path, fmt: str
) -> None:
    root, image_id = pulled
    archive = scratch / "for-podman.tar"
    dockyard(root, "save", "--format", fmt, "-o", str(archive), "busybox:1")
    env = dict(os.environ, PEER_ROOT=str(scratch / "podman"))
    peer = [str(PODMAN_PEER)]
    proc = subprocess.run(
        [*peer, "load", "-q", "-i", str(archive)], check=False, capture_output=True, text=True,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Loaded image: docker.io/library/busybox:1"
    ids = subprocess.run(
        [*peer, "images", "--no-trunc", "-q", "busybox:1"], check=True, capture_output=True,
        text=True, env=env,
    ).stdout.split()  # fmt: skip
    assert ids == [image_id]
