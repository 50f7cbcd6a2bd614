"""`dockyard pull` against a real docker-registry: OCI and Docker schema-2 images, the output,
layers shared between images, and a multi-layer image whose merged view must equal umoci's."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dockyard.engine.service import Engine
from dockyard.image.digest import Digest
from dockyard.image.reference import Reference
from dockyard.storage.mount import mount_snapshot, unmount
from dockyard.testing.registry import RunningRegistry, push_layout

pytestmark = pytest.mark.root

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def dockyard(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI on `root` with private Docker and registries configs."""
    environ = dict(os.environ, **(env or {}))
    environ.setdefault("DOCKER_CONFIG", str(root.parent / "docker-config"))
    environ["DOCKYARD_REGISTRIES_CONFIG"] = str(root.parent / "registries.json")
    return subprocess.run(
        [DOCKYARD, "--root", str(root), *args],
        check=False, capture_output=True, text=True, env=environ, stdin=subprocess.DEVNULL,
        timeout=120,
    )  # fmt: skip


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("fixture", ["pushed_busybox", "pushed_busybox_docker"])
def test_pull_prints_what_docker_prints(
    scratch: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    ref: Reference = request.getfixturevalue(fixture)
    root = scratch / "root"
    out = _ok(dockyard(root, "pull", str(ref))).splitlines()
    layer = out[1].split(":")[0]
    assert out[0] == f"{ref.tag}: Pulling from {ref.path}"
    assert out[1:-3] == [
        f"{layer}: Pulling fs layer",
        f"{layer}: Verifying Checksum",
        f"{layer}: Download complete",
        f"{layer}: Pull complete",
    ]
    assert out[-3].startswith("Digest: sha256:")
    assert out[-2] == f"Status: Downloaded newer image for {ref.familiar()}"
    assert out[-1] == str(ref)

    again = _ok(dockyard(root, "pull", str(ref))).splitlines()
    assert again[1] == f"{layer}: Already exists"
    assert again[-2] == f"Status: Image is up to date for {ref.familiar()}"
    assert _ok(dockyard(root, "pull", "-q", str(ref))) == f"{ref}\n"

    doc = json.loads(_ok(dockyard(root, "image", "inspect", str(ref))))[0]
    digest = out[-3].removeprefix("Digest: ")
    assert doc["RepoTags"] == [ref.familiar()]
    assert doc["RepoDigests"] == [f"{ref.name}@{digest}"]
    engine = Engine(root)
    record = engine.images.resolve(str(ref))
    # The blobs stay for push and save; the layer is unpacked, verified and referenced once.
    for descriptor in engine.images.manifest(record)["layers"]:
        assert engine.images.content.exists(Digest.parse(descriptor["digest"]))
    (diff_id,) = record.diff_ids
    assert engine.layers.get(diff_id).refcount == 1
    assert (engine.layers.path(diff_id) / "bin" / "busybox").is_file()
    assert not any((root / "content" / "ingest").iterdir())


def _umoci(*args: str | Path) -> None:
    subprocess.run(["umoci", *map(str, args)], check=True, capture_output=True)


def _revise(rootfs: Path, revision: int) -> None:
    if revision == 1:
        (rootfs / "etc").mkdir()
        (rootfs / "etc/gone").write_text("deleted by the next layer")
        (rootfs / "etc/keep").write_text("v1")
        (rootfs / "dir/sub").mkdir(parents=True)
        (rootfs / "dir/sub/old").write_text("replaced with its directory")
        (rootfs / "opq").mkdir()
        (rootfs / "opq/hidden").write_text("hidden by an opaque directory")
        tool = rootfs / "tool"
        tool.write_bytes(os.urandom(300_000))
        os.chown(tool, 1000, 1001)
        os.chmod(tool, 0o4755)
        os.link(tool, rootfs / "tool-link")
        (rootfs / "sh").symlink_to("tool")
    else:
        (rootfs / "etc/gone").unlink()
        (rootfs / "etc/keep").write_text("v2")
        shutil.rmtree(rootfs / "dir")
        (rootfs / "dir").mkdir(mode=0o750)
        (rootfs / "dir/new").write_text("new")
        (rootfs / "sh").unlink()
        (rootfs / "sh").symlink_to("/tool")


def _opaque_layer(path: Path) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("opq", None), ("opq/.wh..wh..opq", b""), ("opq/fresh", b"f")):
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))


def _summary(root: Path) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            extra = (
                hashlib.sha256(path.read_bytes()).hexdigest()
                if stat.S_ISREG(st.st_mode)
                else os.readlink(path)
                if stat.S_ISLNK(st.st_mode)
                else ""
            )
            mode = 0 if stat.S_ISLNK(st.st_mode) else st.st_mode
            out[str(path.relative_to(root))] = (mode, st.st_uid, st.st_gid, extra)
    return out


def test_multi_layer_pull_matches_umoci_unpack(scratch: Path, registry: RunningRegistry) -> None:
    layout, bundle = scratch / "layout", scratch / "bundle"
    _umoci("init", "--layout", layout)
    _umoci("new", "--image", f"{layout}:t")
    _umoci("unpack", "--image", f"{layout}:t", bundle)
    for revision in (1, 2):
        _revise(bundle / "rootfs", revision)
        _umoci("repack", "--refresh-bundle", "--image", f"{layout}:t", bundle)
    _opaque_layer(scratch / "opaque.tar")
    _umoci("raw", "add-layer", "--image", f"{layout}:t", scratch / "opaque.tar")
    _umoci("unpack", "--image", f"{layout}:t", scratch / "oracle")
    expected = _summary(scratch / "oracle/rootfs")
    assert "etc/gone" not in expected and "opq/hidden" not in expected and "opq/fresh" in expected

    ref = f"{registry.host}/e2e/layered:t"
    push_layout(layout, "t", ref)
    root = scratch / "root"
    _ok(dockyard(root, "pull", ref))
    engine = Engine(root)
    record = engine.images.resolve(ref)
    assert len(record.diff_ids) == 3
    target = scratch / "mnt"
    target.mkdir()
    mount_snapshot(engine.snapshots.prepare("ctr", list(record.diff_ids)), target)
    try:
        actual = _summary(target)
    finally:
        unmount(target)
        engine.snapshots.remove("ctr")
    assert actual == expected


def test_concurrent_pulls_of_one_image_share_everything(
    scratch: Path, pushed_busybox: Reference
) -> None:
    root = scratch / "root"
    env = dict(
        os.environ,
        DOCKER_CONFIG=str(scratch / "docker-config"),
        DOCKYARD_REGISTRIES_CONFIG=str(scratch / "registries.json"),
    )
    procs = [
        subprocess.Popen(
            [DOCKYARD, "--root", str(root), "pull", "-q", str(pushed_busybox)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out == f"{pushed_busybox}\n", err
    engine = Engine(root)
    assert len(engine.images.list()) == 1
    assert [layer.refcount for layer in engine.layers.list()] == [1]
    assert not any((root / "content/ingest").iterdir())
    assert not any((root / "storage/tmp").iterdir())
