"""Device planning, and the bind-mount path of device creation (recorded, no root)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dockyard.kernel import constants as k
from dockyard.oci.runtime_spec import Device
from dockyard.runtime.devices import DEFAULT_DEVICES, DeviceNode, create_devices, plan_devices
from dockyard.runtime.errors import BadConfig
from dockyard.testing.syscall import Call, RecordingSyscall

DEFAULT_PATHS = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]


def test_defaults_only() -> None:
    nodes = plan_devices([])
    assert [n.path for n in nodes] == DEFAULT_PATHS
    assert nodes[0] == DeviceNode("/dev/null", "c", 1, 3, 0o666, 0, 0)
    assert all(n.kind == "c" and n.mode == 0o666 for n in nodes)


def test_spec_devices_follow_the_defaults_with_field_defaults() -> None:
    nodes = plan_devices([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}])
    assert [n.path for n in nodes] == [*DEFAULT_PATHS, "/dev/fuse"]
    assert nodes[-1] == DeviceNode("/dev/fuse", "c", 10, 229, 0o666, 0, 0)


def test_spec_device_overrides_a_default_in_place() -> None:
    dev: Device = {
        "path": "/dev/null",
        "type": "c",
        "major": 1,
        "minor": 3,
        "fileMode": 0o600,
        "uid": 5,
        "gid": 6,
    }
    nodes = plan_devices([dev])
    assert len(nodes) == len(DEFAULT_DEVICES)
    assert nodes[0] == DeviceNode("/dev/null", "c", 1, 3, 0o600, 5, 6)


def test_later_spec_entry_replaces_an_earlier_one() -> None:
    nodes = plan_devices(
        [
            {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
            {"path": "/dev/sda", "type": "b", "major": 8, "minor": 1},
        ]
    )
    assert [n.minor for n in nodes if n.path == "/dev/sda"] == [1]


@pytest.mark.parametrize("kind", ["c", "b", "u", "p"])
def test_every_device_type_is_accepted(kind: str) -> None:
    assert plan_devices([{"path": "/dev/x", "type": kind}])[-1].kind == kind


@pytest.mark.parametrize("kind", ["x", "", "char"])
def test_bad_type(kind: str) -> None:
    with pytest.raises(BadConfig, match=f"device '/dev/x': unknown type {kind!r}"):
        plan_devices([{"path": "/dev/x", "type": kind}])


@pytest.mark.parametrize("path", ["/tmp/x", "dev/x", "/devices", ""])
def test_bad_path(path: str) -> None:
    with pytest.raises(BadConfig, match=f"device path {path!r} must be under /dev"):
        plan_devices([{"path": path, "type": "c"}])


def test_bind_mode_only_binds_the_hosts_nodes(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    umask = os.umask(0o022)
    os.umask(umask)
    sys = RecordingSyscall()
    nodes = plan_devices([{"path": "/dev/snd/timer", "type": "c", "major": 116, "minor": 33}])
    create_devices(sys, str(rootfs), nodes, bind=True)
    assert sys.calls == [
        Call("mount", (n.path, f"{rootfs}{n.path}", "bind", k.MS_BIND, None)) for n in nodes
    ]
    # The bind targets exist as empty files (and their parents as directories).
    assert all((rootfs / n.path.lstrip("/")).is_file() for n in nodes)
    assert (rootfs / "dev" / "snd").is_dir()
    assert os.umask(umask) == umask  # the umask is restored


def test_bind_mode_resolves_targets_inside_the_root(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "elsewhere").mkdir(parents=True)
    os.symlink("/elsewhere", rootfs / "dev")
    sys = RecordingSyscall()
    create_devices(sys, str(rootfs), [DEFAULT_DEVICES[0]], bind=True)
    assert sys.calls == [
        Call("mount", ("/dev/null", f"{rootfs}/elsewhere/null", "bind", k.MS_BIND, None))
    ]


def test_mknod_mode_makes_each_node_and_chowns_it(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "dev").mkdir(parents=True)
    (rootfs / "dev" / "null").write_text("stale")  # replaced, not reused
    sys = RecordingSyscall()
    nodes = [
        DEFAULT_DEVICES[0],
        DeviceNode("/dev/sda", "b", 8, 0, 0o660, 0, 6),
        DeviceNode("/dev/ttyX", "u", 4, 64, 0o620, 0, 5),
        DeviceNode("/dev/pipes/p", "p", 0, 0, 0o600, 1000, 1000),
    ]
    create_devices(sys, str(rootfs), nodes, bind=False)
    assert sys.calls == [
        Call("mknod", (f"{rootfs}/dev/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))),
        Call("chown", (f"{rootfs}/dev/null", 0, 0)),
        Call("mknod", (f"{rootfs}/dev/sda", stat.S_IFBLK | 0o660, os.makedev(8, 0))),
        Call("chown", (f"{rootfs}/dev/sda", 0, 6)),
        Call("mknod", (f"{rootfs}/dev/ttyX", stat.S_IFCHR | 0o620, os.makedev(4, 64))),
        Call("chown", (f"{rootfs}/dev/ttyX", 0, 5)),
        Call("mknod", (f"{rootfs}/dev/pipes/p", stat.S_IFIFO | 0o600, 0)),
        Call("chown", (f"{rootfs}/dev/pipes/p", 1000, 1000)),
    ]
    assert not (rootfs / "dev" / "null").exists()
    assert (rootfs / "dev" / "pipes").is_dir()
