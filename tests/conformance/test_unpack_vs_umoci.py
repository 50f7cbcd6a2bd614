"""Oracle: our unpack + overlay merge of a multi-layer image equals `umoci unpack`, file for file.

The image is made with umoci (init, new, unpack, edit, repack — twice: files, modes, owners,
symlinks, hardlinks, a deleted file, a replaced directory) plus one hand-made layer added with
`umoci raw add-layer` holding an opaque directory, which `umoci repack` never writes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockyard.state.db import StateDB
from dockyard.storage.layers import LayerStore
from dockyard.storage.mount import mount_snapshot, unmount
from dockyard.storage.snapshots import CopySnapshotter, OverlaySnapshotter, Snapshotter

pytestmark = pytest.mark.root

Summary = tuple[str, int, int, int, str]


def _umoci(*args: str | Path) -> None:
    subprocess.run(["umoci", *map(str, args)], check=True, capture_output=True)


def _first_revision(rootfs: Path) -> None:
    (rootfs / "etc").mkdir(mode=0o755)
    (rootfs / "etc/todelete").write_text("bye")
    (rootfs / "etc/keep").write_text("keep")
    (rootfs / "bin").mkdir()
    tool = rootfs / "bin/tool"
    tool.write_bytes(b"\x7fELF" + os.urandom(50_000))
    os.chown(tool, 1000, 1001)
    os.chmod(tool, 0o4755)  # after chown, which clears set-id bits
    os.link(tool, rootfs / "bin/tool-hardlink")
    (rootfs / "bin/sh").symlink_to("tool")
    (rootfs / "replaced").mkdir()
    (rootfs / "replaced/old1").write_text("1")
    (rootfs / "replaced/sub").mkdir()
    (rootfs / "replaced/sub/old2").write_text("2")
    (rootfs / "opq").mkdir()
    (rootfs / "opq/hidden").write_text("hidden by the opaque layer")
    (rootfs / "home/user").mkdir(parents=True)
    os.chown(rootfs / "home/user", 1000, 1000)
    os.chmod(rootfs / "home/user", 0o700)
    secret = rootfs / "home/user/secret"
    secret.write_text("s")
    os.chmod(secret, 0o600)
    os.chown(secret, 1000, 1000)


def _second_revision(rootfs: Path) -> None:
    (rootfs / "etc/todelete").unlink()
    (rootfs / "etc/keep").write_text("changed")
    shutil.rmtree(rootfs / "replaced")
    (rootfs / "replaced").mkdir(mode=0o750)
    (rootfs / "replaced/new").write_text("new")
    (rootfs / "bin/sh").unlink()
    (rootfs / "bin/sh").symlink_to("/bin/tool")
    os.link(rootfs / "etc/keep", rootfs / "etc/keep-link")
    os.chmod(rootfs / "etc", 0o711)
    fifo = rootfs / "run/fifo"
    fifo.parent.mkdir()
    os.mkfifo(fifo, 0o640)


def _opaque_layer(path: Path) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("opq/", None), ("opq/.wh..wh..opq", b""), ("opq/fresh", b"f")):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = 1_600_000_000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))


def _build_image(work: Path) -> Path:
    layout = work / "img"
    bundle = work / "bundle"
    _umoci("init", "--layout", layout)
    _umoci("new", "--image", f"{layout}:t")
    _umoci("unpack", "--image", f"{layout}:t", bundle)
    _first_revision(bundle / "rootfs")
    _umoci("repack", "--refresh-bundle", "--image", f"{layout}:t", bundle)
    _second_revision(bundle / "rootfs")
    _umoci("repack", "--refresh-bundle", "--image", f"{layout}:t", bundle)
    _opaque_layer(work / "opaque.tar")
    _umoci("raw", "add-layer", "--image", f"{layout}:t", work / "opaque.tar")
    return layout


def _blob(layout: Path, digest: str) -> Path:
    algorithm, hex_ = digest.split(":")
    return layout / "blobs" / algorithm / hex_


def _layers_of(layout: Path) -> list[tuple[str, Path]]:
    index = json.loads((layout / "index.json").read_text())
    (desc,) = [
        m
        for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "t"
    ]
    manifest = json.loads(_blob(layout, desc["digest"]).read_text())
    config = json.loads(_blob(layout, manifest["config"]["digest"]).read_text())
    diff_ids = config["rootfs"]["diff_ids"]
    assert len(diff_ids) == len(manifest["layers"]) >= 3
    return [
        (d, _blob(layout, m["digest"])) for d, m in zip(diff_ids, manifest["layers"], strict=True)
    ]


def _summary(root: Path) -> dict[str, Summary]:
    out: dict[str, Summary] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                extra = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                extra = "-> " + os.readlink(path)
            else:
                extra = ""
            mode = 0 if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)
            out[str(path.relative_to(root))] = (oct(kind), mode, st.st_uid, st.st_gid, extra)
    return out


def _hardlink_groups(root: Path) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for path in root.rglob("*"):
        st = path.lstat()
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            groups.setdefault(st.st_ino, set()).add(str(path.relative_to(root)))
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("kind", ["overlay", "copy"])
def test_merged_view_matches_umoci_unpack(scratch: Path, kind: str) -> None:
    layout = _build_image(scratch)
    _umoci("unpack", "--image", f"{layout}:t", scratch / "oracle")
    expected = _summary(scratch / "oracle/rootfs")

    root = scratch / "dockyard"
    with StateDB(root) as db:
        layers = LayerStore(root, db)
        diff_ids = [layers.unpack(d, blob.open("rb")).diff_id for d, blob in _layers_of(layout)]
        cls = OverlaySnapshotter if kind == "overlay" else CopySnapshotter
        snapshotter: Snapshotter = cls(root, db, layers)
        target = scratch / "mnt"
        target.mkdir()
        mount_snapshot(snapshotter.prepare("ctr", diff_ids), target)
        try:
            actual = _summary(target)
            actual_links = _hardlink_groups(target)
        finally:
            unmount(target)
            snapshotter.remove("ctr")

    # The image really exercises what it claims to.
    assert "etc/todelete" not in expected and "opq/hidden" not in expected
    assert expected["opq/fresh"][4] == hashlib.sha256(b"f").hexdigest()
    assert expected["replaced/new"][1] == 0o750 or expected["replaced"][1] == 0o750
    assert expected["bin/tool"][1:4] == (0o4755, 1000, 1001)
    assert expected["run/fifo"][0] == oct(stat.S_IFIFO)

    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing and not extra, f"missing {missing}, extra {extra}"
    diffs = {p: (expected[p], actual[p]) for p in expected if expected[p] != actual[p]}
    assert not diffs, diffs
    assert actual_links == _hardlink_groups(scratch / "oracle/rootfs")
