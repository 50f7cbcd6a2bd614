"""Turning MountSpecs into mount(2) calls: flags vs data, ro binds, long lowerdir lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.errors import Unavailable
from dockyard.kernel import constants as k
from dockyard.storage.mount import MountCall, mount_snapshot, plan_mounts, unmount
from dockyard.storage.snapshots import MountSpec, disk_usage

LAYERS = "/var/lib/dockyard/layers"


def test_overlay_options_are_data() -> None:
    spec = MountSpec(
        "overlay", "overlay", ("index=off", "lowerdir=/a:/b", "upperdir=/u", "workdir=/w")
    )
    assert plan_mounts([spec], Path("/t")) == [
        MountCall("overlay", "/t", "overlay", 0, "index=off,lowerdir=/a:/b,upperdir=/u,workdir=/w")
    ]


def test_read_only_bind_needs_a_remount() -> None:
    calls = plan_mounts([MountSpec("bind", "/src", ("rbind", "ro", "nosuid"))], Path("/t"))
    assert calls == [
        MountCall("/src", "/t", None, k.MS_BIND | k.MS_REC | k.MS_RDONLY | k.MS_NOSUID, None),
        MountCall("", "/t", None, k.MS_REMOUNT | k.MS_BIND | k.MS_RDONLY | k.MS_NOSUID, None),
    ]


def test_rw_clears_ro() -> None:
    (call,) = plan_mounts([MountSpec("bind", "/s", ("ro", "rbind", "rw"))], Path("/t"))
    assert call.flags == k.MS_BIND | k.MS_REC


def test_long_lowerdir_becomes_relative() -> None:
    lowers = [f"{LAYERS}/{i:064x}" for i in range(50)]
    spec = MountSpec("overlay", "overlay", ("lowerdir=" + ":".join(lowers), "upperdir=/u"))
    (call,) = plan_mounts([spec], Path("/t"))
    assert call.cwd == LAYERS
    assert call.data == "upperdir=/u,lowerdir=" + ":".join(f"{i:064x}" for i in range(50))
    assert call.data is not None and len(call.data) < 4096


def test_more_layers_go_through_index_links() -> None:
    lowers = [f"{LAYERS}/{i:064x}" for i in range(120)]
    spec = MountSpec("overlay", "overlay", ("lowerdir=" + ":".join(lowers), "upperdir=/u"))
    (call,) = plan_mounts([spec], Path("/t"))
    assert (call.cwd, call.links) == (None, tuple(lowers))
    assert call.data == "upperdir=/u,lowerdir=" + ":".join(str(i) for i in range(120))


def test_too_many_layers_is_unavailable() -> None:
    lowers = [f"{LAYERS}/{i:064x}" for i in range(501)]
    with pytest.raises(Unavailable, match="501 overlay layers"):
        plan_mounts(
            [MountSpec("overlay", "overlay", ("lowerdir=" + ":".join(lowers),))], Path("/t")
        )


def test_disk_usage_counts_hardlinks_once(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d/f").write_bytes(b"x" * 10_000)
    os.link(tmp_path / "d/f", tmp_path / "g")
    usage = disk_usage(tmp_path)
    assert usage.inodes == 2
    assert usage.size >= 10_000


@pytest.mark.root
@pytest.mark.parametrize("count", [50, 128])
def test_many_layers_mount(scratch: Path, count: int) -> None:
    layers = scratch / "a-rather-long-directory-name-for-layers" / "layers"
    lowers = []
    for i in range(count):
        layer = layers / f"{i:064x}"
        layer.mkdir(parents=True)
        (layer / f"file{i}").write_text(str(i))
        lowers.append(str(layer))
    (scratch / "u").mkdir()
    (scratch / "w").mkdir()
    target = scratch / "mnt"
    target.mkdir()
    spec = MountSpec(
        "overlay",
        "overlay",
        (
            "lowerdir=" + ":".join(reversed(lowers)),
            f"upperdir={scratch / 'u'}",
            f"workdir={scratch / 'w'}",
        ),
    )
    assert len(",".join(spec.options)) > 4096
    cwd = os.getcwd()
    mount_snapshot([spec], target)
    try:
        assert os.getcwd() == cwd
        assert sorted(p.name for p in target.iterdir()) == sorted(f"file{i}" for i in range(count))
        assert sorted(p.name for p in scratch.iterdir()) == [layers.parent.name, "mnt", "u", "w"]
    finally:
        unmount(target)
    unmount(target)  # not mounted any more: fine


def test_executor_makes_the_planned_calls_and_maps_errors() -> None:
    import errno

    from dockyard.errors import KernelError
    from dockyard.testing.syscall import Call, RecordingSyscall

    sys = RecordingSyscall()
    mount_snapshot([MountSpec("bind", "/src", ("rbind", "ro"))], Path("/t"), sys)
    assert sys.calls == [
        Call("mount", ("/src", "/t", None, k.MS_BIND | k.MS_REC | k.MS_RDONLY, None)),
        Call("mount", ("", "/t", None, k.MS_REMOUNT | k.MS_BIND | k.MS_RDONLY, None)),
    ]
    unmount(Path("/t"), sys)
    assert sys.names()[-1] == "umount2"

    failing = RecordingSyscall()
    failing.fail_on("mount", errno.ENODEV)
    with pytest.raises(KernelError) as err:
        mount_snapshot([MountSpec("overlay", "overlay", ("lowerdir=/a:/b",))], Path("/t"), failing)
    assert err.value.errno == errno.ENODEV
    failing.fail_on("umount2", errno.EINVAL)  # not mounted: fine
    unmount(Path("/t"), failing)
    busy = RecordingSyscall()
    busy.fail_on("umount2", errno.EBUSY)
    with pytest.raises(KernelError):
        unmount(Path("/t"), busy)
