"""The init plan (namespaces, env, mounts, devices, rlimits) and executable lookup (pure)."""

from __future__ import annotations

import copy
import os
import resource
from pathlib import Path
from typing import Any

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.kernel import constants as k
from dockyard.oci.runtime_spec import Spec
from dockyard.runtime.cgroups import CgroupLayout
from dockyard.runtime.errors import BadConfig, ExecutableNotFound, ExecutableNotRunnable
from dockyard.runtime.mounts import MountOp
from dockyard.runtime.plan import DEFAULT_PATH, plan_init, resolve_executable

BASE: dict[str, Any] = {
    "ociVersion": "1.2.0",
    "root": {"path": "/bundle/rootfs"},
    "process": {"args": ["sh"], "env": ["HOME=/root"]},
    "linux": {"namespaces": [{"type": "mount"}]},
}


def _spec(namespaces: list[dict[str, str]] | None = None, **changes: Any) -> Spec:
    spec = copy.deepcopy(BASE)
    spec.update(changes)
    if namespaces is not None:
        spec["linux"]["namespaces"] = namespaces
    typed: Spec = spec  # type: ignore[assignment]
    return typed


def _plan(spec: Spec, **kw: Any) -> Any:
    return plan_init(spec, "/bundle", no_pivot=False, can_raise_rlimits=True, **kw)


def test_new_namespaces_become_unshare_flags() -> None:
    plan = _plan(_spec([{"type": t} for t in ("mount", "pid", "network", "ipc", "uts", "cgroup")]))
    assert plan.unshare_flags == (
        k.CLONE_NEWNS
        | k.CLONE_NEWPID
        | k.CLONE_NEWNET
        | k.CLONE_NEWIPC
        | k.CLONE_NEWUTS
        | k.CLONE_NEWCGROUP
    )
    assert plan.join == ()
    assert plan.new_mountns
    assert not plan.new_userns


def test_user_namespace_flag() -> None:
    plan = _plan(_spec([{"type": "mount"}, {"type": "user"}, {"type": "time"}]))
    assert plan.new_userns
    assert plan.unshare_flags == k.CLONE_NEWNS | k.CLONE_NEWUSER | k.CLONE_NEWTIME


def test_joined_namespaces_are_ordered_user_first() -> None:
    listed = [
        {"type": "mount"},
        {"type": "network", "path": "/proc/1/ns/net"},
        {"type": "pid", "path": "/proc/1/ns/pid"},
        {"type": "ipc", "path": "/proc/1/ns/ipc"},
        {"type": "user", "path": "/proc/1/ns/user"},
        {"type": "uts", "path": "/proc/1/ns/uts"},
    ]
    plan = _plan(_spec(listed))
    assert plan.join == (
        ("user", "/proc/1/ns/user"),
        ("ipc", "/proc/1/ns/ipc"),
        ("uts", "/proc/1/ns/uts"),
        ("network", "/proc/1/ns/net"),
        ("pid", "/proc/1/ns/pid"),
    )
    # Joined namespaces are not unshared, and joining a user ns is not a new one.
    assert plan.unshare_flags == k.CLONE_NEWNS
    assert not plan.new_userns


def test_a_mount_namespace_is_required() -> None:
    with pytest.raises(BadConfig, match="a mount namespace is required"):
        _plan(_spec([{"type": "pid"}]))


def test_joining_a_mount_namespace_is_enough_and_skips_devices() -> None:
    plan = _plan(_spec([{"type": "mount", "path": "/proc/1/ns/mnt"}]))
    assert plan.join == (("mount", "/proc/1/ns/mnt"),)
    assert not plan.new_mountns
    assert not plan.make_devices


def test_path_is_added_when_missing() -> None:
    assert _plan(_spec()).env == ("HOME=/root", f"PATH={DEFAULT_PATH}")


def test_path_is_kept_when_given() -> None:
    spec = _spec(process={"args": ["sh"], "env": ["PATH=/opt/bin", "A=1"]})
    assert _plan(spec).env == ("PATH=/opt/bin", "A=1")


def test_path_is_added_when_env_is_absent() -> None:
    assert _plan(_spec(process={"args": ["sh"]})).env == (f"PATH={DEFAULT_PATH}",)


def test_user_and_options_are_carried() -> None:
    spec = _spec(
        process={"args": ["sh"], "user": {"uid": 1000, "gid": 100, "additionalGids": [10, 20]}}
    )
    plan = plan_init(spec, "/bundle", no_pivot=True, can_raise_rlimits=True)
    assert (plan.uid, plan.gid, plan.additional_gids) == (1000, 100, (10, 20))
    assert plan.no_pivot
    assert plan.rootfs == "/bundle/rootfs"
    assert plan.spec is spec
    root = _plan(_spec())
    assert (root.uid, root.gid, root.additional_gids) == (0, 0, ())


def test_devices_are_planned_unless_dev_is_bound() -> None:
    plan = _plan(
        _spec(
            linux={
                "namespaces": [{"type": "mount"}],
                "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
            }
        )
    )
    assert plan.make_devices
    assert plan.devices[-1].path == "/dev/fuse"
    bound = _plan(_spec(mounts=[{"destination": "/dev/", "source": "/dev", "options": ["rbind"]}]))
    assert not bound.make_devices


def test_mounts_are_planned_with_relative_sources_under_the_bundle() -> None:
    spec = _spec(mounts=[{"destination": "/data", "source": "data", "options": ["bind", "ro"]}])
    assert _plan(spec).mounts == (
        MountOp("/data", "/bundle/data", "bind", k.MS_BIND | k.MS_RDONLY, "", ()),
    )


def test_clamped_rlimits_are_warned_about() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    spec = _spec(
        process={
            "args": ["sh"],
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": hard + 1, "hard": hard + 1}],
        }
    )
    plan = plan_init(spec, "/bundle", no_pivot=False, can_raise_rlimits=False)
    assert plan.rlimits[0].clamped
    assert plan.warnings == (
        f"rlimit RLIMIT_NOFILE lowered to the hard limit this process has ({hard})",
    )
    assert _plan(spec).warnings == ()


CGROUP_MOUNTS = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {
        "destination": "/sys/fs/cgroup",
        "type": "cgroup",
        "source": "cgroup",
        "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"},
]
LAYOUT = CgroupLayout(
    kind="hybrid", v1={"memory": "/sys/fs/cgroup/memory"}, v2="/sys/fs/cgroup/unified"
)


def test_cgroup_mount_is_expanded_in_place() -> None:
    plan = _plan(_spec(mounts=CGROUP_MOUNTS), cgroup=(LAYOUT, "/dockyard/c1"))
    assert [(m.destination, m.fstype, m.source) for m in plan.mounts] == [
        ("/proc", "proc", "proc"),
        ("/sys/fs/cgroup", "tmpfs", "tmpfs"),
        ("/sys/fs/cgroup/memory", "bind", "/sys/fs/cgroup/memory/dockyard/c1"),
        ("/sys/fs/cgroup/unified", "bind", "/sys/fs/cgroup/unified/dockyard/c1"),
        ("/sys/fs/cgroup", "tmpfs", "tmpfs"),  # the read-only remount
        ("/tmp", "tmpfs", "tmpfs"),
    ]


def test_cgroup_mount_with_cgroupns_mounts_hierarchies() -> None:
    spec = _spec([{"type": "mount"}, {"type": "cgroup"}], mounts=CGROUP_MOUNTS)
    plan = _plan(spec, cgroup=(LAYOUT, "/dockyard/c1"))
    assert [(m.destination, m.fstype, m.data) for m in plan.mounts[2:4]] == [
        ("/sys/fs/cgroup/memory", "cgroup", "memory"),
        ("/sys/fs/cgroup/unified", "cgroup2", ""),
    ]


def test_cgroup_mount_is_left_alone_without_a_layout() -> None:
    plan = _plan(_spec(mounts=CGROUP_MOUNTS))
    assert [m.fstype for m in plan.mounts] == ["proc", "cgroup", "tmpfs"]


# resolve_executable


def _exe(path: Path, mode: int = 0o755) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return str(path)


def test_path_search_takes_the_first_executable(tmp_path: Path) -> None:
    _exe(tmp_path / "a" / "tool", 0o644)  # not executable: skipped
    (tmp_path / "b" / "tool").mkdir(parents=True)  # a directory: skipped
    want = _exe(tmp_path / "c" / "tool")
    _exe(tmp_path / "d" / "tool")
    env = ("X=1", f"PATH={tmp_path}/a:{tmp_path}/b:{tmp_path}/c:{tmp_path}/d")
    assert resolve_executable("tool", env, "/") == want


def test_not_found_in_path(tmp_path: Path) -> None:
    with pytest.raises(
        ExecutableNotFound, match=r"exec 'tool': executable file not found in \$PATH"
    ):
        resolve_executable("tool", (f"PATH={tmp_path}",), "/")
    assert issubclass(ExecutableNotFound, NotFound)


def test_only_a_non_executable_match_is_permission_denied(tmp_path: Path) -> None:
    _exe(tmp_path / "tool", 0o644)
    with pytest.raises(ExecutableNotRunnable, match="exec 'tool': permission denied"):
        resolve_executable("tool", (f"PATH={tmp_path}",), "/")
    assert issubclass(ExecutableNotRunnable, InvalidArgument)


def test_a_path_with_a_slash_is_relative_to_cwd(tmp_path: Path) -> None:
    want = _exe(tmp_path / "bin" / "tool")
    assert resolve_executable("bin/tool", (), str(tmp_path)) == want
    assert resolve_executable(want, (), "/elsewhere") == want


def test_a_path_with_a_slash_is_not_searched(tmp_path: Path) -> None:
    _exe(tmp_path / "x" / "tool")
    env = (f"PATH={tmp_path}/x",)
    with pytest.raises(ExecutableNotFound, match=r"exec '\./tool': no such file or directory"):
        resolve_executable("./tool", env, str(tmp_path))


def test_a_non_executable_path_is_permission_denied(tmp_path: Path) -> None:
    path = _exe(tmp_path / "tool", 0o600)
    with pytest.raises(ExecutableNotRunnable, match="permission denied"):
        resolve_executable(path, (), "/")


def test_empty_path_entry_means_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _exe(tmp_path / "tool")
    monkeypatch.chdir(tmp_path)
    assert resolve_executable("tool", ("PATH=/nonexistent::",), "/") == "./tool"


def test_default_path_is_searched_without_a_path_variable() -> None:
    found = resolve_executable("sh", ("HOME=/",), "/")
    assert os.path.dirname(found) in DEFAULT_PATH.split(":")
