"""Mount option parsing and the mount plan (pure, no root)."""

from __future__ import annotations

import pytest

from dockyard.kernel import constants as k
from dockyard.oci.runtime_spec import Mount
from dockyard.runtime.errors import BadConfig
from dockyard.runtime.mounts import MountOp, parse_options, plan_mounts

# option → (bits it sets, bits it clears), as runc's table; each is checked from both states.
FLAG_OPTIONS = [
    ("async", 0, k.MS_SYNCHRONOUS),
    ("atime", 0, k.MS_NOATIME),
    ("bind", k.MS_BIND, 0),
    ("defaults", 0, 0),
    ("dev", 0, k.MS_NODEV),
    ("diratime", 0, k.MS_NODIRATIME),
    ("dirsync", k.MS_DIRSYNC, 0),
    ("exec", 0, k.MS_NOEXEC),
    ("mand", k.MS_MANDLOCK, 0),
    ("noatime", k.MS_NOATIME, 0),
    ("nodev", k.MS_NODEV, 0),
    ("nodiratime", k.MS_NODIRATIME, 0),
    ("noexec", k.MS_NOEXEC, 0),
    ("nomand", 0, k.MS_MANDLOCK),
    ("norelatime", 0, k.MS_RELATIME),
    ("nostrictatime", 0, k.MS_STRICTATIME),
    ("nosuid", k.MS_NOSUID, 0),
    ("nosymfollow", k.MS_NOSYMFOLLOW, 0),
    ("rbind", k.MS_BIND | k.MS_REC, 0),
    ("relatime", k.MS_RELATIME, 0),
    ("remount", k.MS_REMOUNT, 0),
    ("ro", k.MS_RDONLY, 0),
    ("rw", 0, k.MS_RDONLY),
    ("strictatime", k.MS_STRICTATIME, 0),
    ("suid", 0, k.MS_NOSUID),
    ("sync", k.MS_SYNCHRONOUS, 0),
]

PROPAGATION_OPTIONS = [
    ("private", k.MS_PRIVATE),
    ("rprivate", k.MS_PRIVATE | k.MS_REC),
    ("shared", k.MS_SHARED),
    ("rshared", k.MS_SHARED | k.MS_REC),
    ("slave", k.MS_SLAVE),
    ("rslave", k.MS_SLAVE | k.MS_REC),
    ("unbindable", k.MS_UNBINDABLE),
    ("runbindable", k.MS_UNBINDABLE | k.MS_REC),
]


@pytest.mark.parametrize(("option", "sets", "clears"), FLAG_OPTIONS)
def test_flag_option(option: str, sets: int, clears: int) -> None:
    assert parse_options([option]) == (sets, "", ())
    # Starting from the cleared bits set, the option clears them (and sets its own).
    if clears:
        opposite = next(o for o, s, _ in FLAG_OPTIONS if s == clears)
        assert parse_options([opposite, option]) == (sets, "", ())


@pytest.mark.parametrize(("option", "flag"), PROPAGATION_OPTIONS)
def test_propagation_option(option: str, flag: int) -> None:
    assert parse_options([option]) == (0, "", (flag,))


def test_later_option_wins() -> None:
    assert parse_options(["ro", "rw"])[0] == 0
    assert parse_options(["rw", "ro"])[0] == k.MS_RDONLY
    assert parse_options(["noexec", "exec", "nosuid"])[0] == k.MS_NOSUID


def test_options_combine_and_data_keeps_order() -> None:
    flags, data, propagation = parse_options(
        ["nosuid", "mode=755", "rprivate", "size=65536k", "ro", "slave"]
    )
    assert flags == k.MS_NOSUID | k.MS_RDONLY
    assert data == "mode=755,size=65536k"
    assert propagation == (k.MS_PRIVATE | k.MS_REC, k.MS_SLAVE)


@pytest.mark.parametrize("option", ["idmap", "ridmap", "tmpcopyup", "rro", "rrw"])
def test_unsupported_options_are_refused(option: str) -> None:
    with pytest.raises(BadConfig, match=f"mount option '{option}' is not supported"):
        parse_options([option])


def test_plan_keeps_order_and_fields() -> None:
    mounts: list[Mount] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
    ]
    assert plan_mounts(mounts, "/bundle") == [
        MountOp("/proc", "proc", "proc", 0, "", ()),
        MountOp(
            "/dev", "tmpfs", "tmpfs", k.MS_NOSUID | k.MS_STRICTATIME, "mode=755,size=65536k", ()
        ),
    ]


def test_relative_bind_source_is_under_the_bundle() -> None:
    mounts: list[Mount] = [
        {"destination": "/a", "type": "bind", "source": "data/x", "options": ["ro"]},
        {"destination": "/b", "source": "./y/../z", "options": ["rbind"]},
    ]
    a, b = plan_mounts(mounts, "/srv/bundle")
    assert a.source == "/srv/bundle/data/x"
    assert b.source == "/srv/bundle/z"


def test_absolute_bind_source_is_kept() -> None:
    [op] = plan_mounts([{"destination": "/a", "source": "/host/dir", "options": ["bind"]}], "/b")
    assert op.source == "/host/dir"


def test_relative_source_of_a_non_bind_is_kept() -> None:
    [op] = plan_mounts([{"destination": "/a", "type": "tmpfs", "source": "shm"}], "/b")
    assert op.source == "shm"


def test_bind_type_implies_bind_flag_and_options_imply_bind_type() -> None:
    [by_type] = plan_mounts([{"destination": "/a", "type": "bind", "source": "/s"}], "/b")
    assert by_type.fstype == "bind"
    assert by_type.is_bind
    [by_option] = plan_mounts([{"destination": "/a", "source": "/s", "options": ["rbind"]}], "/b")
    assert by_option.fstype == "bind"
    assert by_option.flags == k.MS_BIND | k.MS_REC


def test_missing_source_defaults_to_the_type() -> None:
    [op] = plan_mounts([{"destination": "/sys", "type": "sysfs"}], "/b")
    assert op.source == "sysfs"


def test_mount_without_type_is_refused() -> None:
    with pytest.raises(BadConfig, match="mount '/x' has no type"):
        plan_mounts([{"destination": "/x", "source": "/s"}], "/b")


def test_remount_flags_drop_bind_rec_and_remount() -> None:
    [op] = plan_mounts(
        [{"destination": "/a", "source": "/s", "options": ["rbind", "ro", "nosuid", "remount"]}],
        "/b",
    )
    assert op.remount_flags == k.MS_RDONLY | k.MS_NOSUID
    [plain] = plan_mounts([{"destination": "/a", "source": "/s", "options": ["bind", "rw"]}], "/b")
    assert plain.remount_flags == 0
