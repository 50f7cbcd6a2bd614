"""Named netns create/remove against the recording syscall (no root, no namespaces made)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from dockyard.errors import KernelError
from dockyard.kernel.constants import CLONE_NEWNET, MNT_DETACH, MS_BIND
from dockyard.network.netns import create_netns, remove_netns
from dockyard.testing.syscall import Call, RecordingSyscall


def test_create_unshares_and_binds_in_a_thread(tmp_path: Path) -> None:
    sys = RecordingSyscall()
    path = tmp_path / "netns" / "c1"
    create_netns(path, sys)
    assert path.exists()
    assert sys.names() == ["unshare", "mount"]
    assert sys.calls[0] == Call("unshare", (CLONE_NEWNET,))
    source, target, _, flags, _ = sys.calls[1].args
    assert str(source).startswith("/proc/self/task/") and str(source).endswith("/ns/net")
    assert (target, flags) == (str(path), MS_BIND)


def test_create_failure_leaves_no_file(tmp_path: Path) -> None:
    sys = RecordingSyscall()
    sys.fail_on("unshare", errno.EPERM)
    path = tmp_path / "c1"
    with pytest.raises(KernelError) as info:
        create_netns(path, sys)
    assert info.value.errno == errno.EPERM
    assert not path.exists()


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "c1"
    path.touch()
    with pytest.raises(KernelError, match="remove it first"):
        create_netns(path, RecordingSyscall())


def test_remove_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "c1"
    path.touch()
    sys = RecordingSyscall()
    remove_netns(path, sys)
    assert not path.exists()
    sys.fail_on("umount2", errno.ENOENT)
    remove_netns(path, sys)
    assert sys.calls[0] == Call("umount2", (str(path), MNT_DETACH))


def test_remove_tolerates_an_unmounted_file_but_not_other_errors(tmp_path: Path) -> None:
    path = tmp_path / "c1"
    path.touch()
    sys = RecordingSyscall()
    sys.fail_on("umount2", errno.EINVAL)
    remove_netns(path, sys)
    assert not path.exists()
    path.touch()
    busy = RecordingSyscall()
    busy.fail_on("umount2", errno.EPERM)
    with pytest.raises(KernelError):
        remove_netns(path, busy)
    assert path.exists()
