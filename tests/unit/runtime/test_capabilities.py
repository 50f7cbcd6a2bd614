"""Capability names, parsing of process.capabilities, and the exact kernel calls applied."""

from __future__ import annotations

import errno

import pytest

from dockyard.errors import InvalidArgument, KernelError
from dockyard.kernel import constants as k
from dockyard.runtime.capabilities import (
    CAPABILITY_NAMES,
    DEFAULT_CAPABILITIES,
    CapabilitySets,
    apply_capabilities,
    capability_names,
    capability_number,
    parse_capabilities,
)
from dockyard.testing.syscall import Call, RecordingSyscall


def test_name_table_matches_linux_capability_h() -> None:
    assert len(CAPABILITY_NAMES) == 41
    assert capability_number("CAP_CHOWN") == 0
    assert capability_number("CAP_NET_BIND_SERVICE") == 10
    assert capability_number("CAP_SYS_ADMIN") == 21
    assert capability_number("CAP_MKNOD") == 27
    assert capability_number("CAP_AUDIT_WRITE") == 29
    assert capability_number("CAP_SETFCAP") == 31
    assert capability_number("CAP_AUDIT_READ") == 37
    assert capability_number("CAP_BPF") == 39
    assert capability_number("CAP_CHECKPOINT_RESTORE") == 40
    assert len(set(CAPABILITY_NAMES)) == len(CAPABILITY_NAMES)


def test_default_capabilities_are_dockers_fourteen() -> None:
    assert len(DEFAULT_CAPABILITIES) == 14
    assert set(DEFAULT_CAPABILITIES) == {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
    }
    mask = parse_capabilities({"bounding": list(DEFAULT_CAPABILITIES)}, last_cap=40).bounding
    assert mask == 0xA80425FB  # Docker's well-known CapBnd for a default container


def test_parse_builds_five_masks() -> None:
    sets = parse_capabilities(
        {
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "inheritable": ["CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_NET_BIND_SERVICE"],
        },
        last_cap=40,
    )
    assert sets == CapabilitySets(
        bounding=1 | 1 << 5 | 1 << 10,
        effective=1 << 5,
        permitted=1 << 5 | 1 << 10,
        inheritable=1 << 10,
        ambient=1 << 10,
        last_cap=40,
    )
    assert capability_names(sets.bounding) == ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def test_missing_sets_are_empty() -> None:
    assert parse_capabilities(None, last_cap=40) == CapabilitySets(last_cap=40)
    assert parse_capabilities({}, last_cap=40) == CapabilitySets(last_cap=40)


def test_unknown_name_is_an_error_naming_it() -> None:
    with pytest.raises(InvalidArgument, match="CAP_FLY"):
        parse_capabilities({"effective": ["CAP_CHOWN", "CAP_FLY"]}, last_cap=40)


def test_a_string_instead_of_a_list_is_an_error() -> None:
    with pytest.raises(InvalidArgument, match=r"capabilities\.bounding"):
        parse_capabilities({"bounding": "CAP_CHOWN"}, last_cap=40)  # type: ignore[arg-type]


def test_caps_newer_than_the_kernel_are_skipped() -> None:
    # A 5.4 kernel knows caps up to CAP_AUDIT_READ (37): PERFMON, BPF and
    # CHECKPOINT_RESTORE are silently dropped, as runc does.
    sets = parse_capabilities(
        {"bounding": ["CAP_CHOWN", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]},
        last_cap=37,
    )
    assert sets.bounding == 1
    assert sets.last_cap == 37


def test_parse_reads_last_cap_from_the_kernel() -> None:
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    assert parse_capabilities({}).last_cap == last


def test_apply_order_bounding_then_capset_then_ambient() -> None:
    sys = RecordingSyscall()
    caps = CapabilitySets(
        bounding=1 << 0 | 1 << 10,
        effective=1 << 0,
        permitted=1 << 0 | 1 << 10,
        inheritable=1 << 10,
        ambient=1 << 10,
        last_cap=12,
    )
    apply_capabilities(sys, caps)
    drops = [Call("prctl", (k.PR_CAPBSET_DROP, n, 0)) for n in range(13) if n not in (0, 10)]
    assert sys.calls == [
        Call("capget", ()),
        *drops,
        Call("capset", (1, 1 | 1 << 10, 1 << 10)),
        Call("prctl", (k.PR_CAP_AMBIENT, k.PR_CAP_AMBIENT_CLEAR_ALL, 0)),
        Call("prctl", (k.PR_CAP_AMBIENT, k.PR_CAP_AMBIENT_RAISE, 10)),
    ]


def test_apply_full_bounding_drops_nothing() -> None:
    sys = RecordingSyscall()
    everything = (1 << 41) - 1
    apply_capabilities(sys, CapabilitySets(bounding=everything, effective=everything))
    assert sys.names() == ["capget", "capset", "prctl"]


def test_apply_after_setresuid_regains_effective_before_dropping() -> None:
    # Under PR_SET_KEEPCAPS, setresuid(1000) keeps permitted but empties effective: without
    # CAP_SETPCAP in effective, PR_CAPBSET_DROP would fail with EPERM.
    full = (1 << 41) - 1
    sys = RecordingSyscall(caps=(0, full, 0))
    apply_capabilities(sys, CapabilitySets(bounding=full & ~(1 << 21), effective=1, last_cap=40))
    assert sys.calls[:3] == [
        Call("capget", ()),
        Call("capset", (full, full, 0)),
        Call("prctl", (k.PR_CAPBSET_DROP, 21, 0)),
    ]
    assert sys.calls[3] == Call("capset", (1, 0, 0))


def test_apply_reports_which_cap_failed_to_drop() -> None:
    sys = RecordingSyscall()
    sys.fail_on("prctl", errno.EPERM, (k.PR_CAPBSET_DROP, 21))
    with pytest.raises(KernelError, match="CAP_SYS_ADMIN") as info:
        apply_capabilities(sys, CapabilitySets(last_cap=40))
    assert info.value.errno == errno.EPERM
    # Nothing after the failing call was attempted.
    assert sys.calls[-1] == Call("prctl", (k.PR_CAPBSET_DROP, 21, 0))


def test_apply_reports_an_ambient_cap_not_permitted() -> None:
    sys = RecordingSyscall()
    sys.fail_on("prctl", errno.EPERM, (k.PR_CAP_AMBIENT, k.PR_CAP_AMBIENT_RAISE))
    with pytest.raises(KernelError, match="CAP_NET_RAW") as info:
        apply_capabilities(sys, CapabilitySets(ambient=1 << 13, last_cap=40))
    assert info.value.op == "raise ambient"


def test_apply_capset_failure_is_a_kernel_error() -> None:
    sys = RecordingSyscall()
    sys.fail_on("capset", errno.EPERM)
    with pytest.raises(KernelError) as info:
        apply_capabilities(sys, CapabilitySets(bounding=(1 << 41) - 1, effective=1))
    assert info.value.op == "capset"
    assert info.value.errno == errno.EPERM


def test_recording_fake_records_every_protocol_call() -> None:
    sys = RecordingSyscall(caps=(1, 2, 3))
    sys.unshare(k.CLONE_NEWNS)
    sys.setns(5, k.CLONE_NEWNET)
    sys.mount("proc", "/proc", "proc", k.MS_NOSUID, None)
    sys.umount2("/old", k.MNT_DETACH)
    sys.pivot_root(".", ".")
    sys.sethostname("box")
    sys.setdomainname("example")
    sys.mknod("/dev/null", 0o20666, 0x103)
    sys.chown("/x", 1, 2)
    assert sys.capget() == (1, 2, 3)
    assert sys.prctl(k.PR_SET_KEEPCAPS, 1) == 0
    assert sys.names() == [
        "unshare",
        "setns",
        "mount",
        "umount2",
        "pivot_root",
        "sethostname",
        "setdomainname",
        "mknod",
        "chown",
        "capget",
        "prctl",
    ]
    assert sys.calls[2] == Call("mount", ("proc", "/proc", "proc", k.MS_NOSUID, None))


def test_recording_fake_injects_errors_by_name() -> None:
    sys = RecordingSyscall()
    sys.fail_on("mount", errno.EBUSY)
    with pytest.raises(OSError) as info:
        sys.mount(None, "/x", None, k.MS_REMOUNT, None)
    assert info.value.errno == errno.EBUSY
    sys.umount2("/x", 0)  # other calls are unaffected
    assert sys.names() == ["mount", "umount2"]
