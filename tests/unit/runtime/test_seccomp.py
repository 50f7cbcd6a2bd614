"""Validation and planning of runtime-spec seccomp objects (pure), and building a filter."""

from __future__ import annotations

import errno
import os

import pytest

from dockyard.errors import InvalidArgument
from dockyard.kernel import seccomp as scmp
from dockyard.kernel.seccomp import ArgCmp, Compare, FilterAttr
from dockyard.oci.runtime_spec import Seccomp
from dockyard.runtime.capabilities import DEFAULT_CAPABILITIES
from dockyard.runtime.seccomp import (
    SeccompRule,
    build_filter,
    plan_seccomp,
    validate_seccomp,
)
from dockyard.runtime.seccomp_profile import (
    docker_profile_to_spec,
    kernel_version,
    load_default_profile,
    native_arch,
)


def _bad(profile: object, field: str) -> None:
    with pytest.raises(InvalidArgument, match=field):
        validate_seccomp(profile)  # type: ignore[arg-type]


def test_a_complete_profile_is_valid() -> None:
    validate_seccomp(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {
                    "names": ["personality"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
                },
            ],
        }
    )


def test_validation_names_the_bad_field() -> None:
    _bad([], "linux.seccomp")
    _bad({}, "defaultAction")
    _bad({"defaultAction": "SCMP_ACT_BOGUS"}, "defaultAction 'SCMP_ACT_BOGUS' is unknown")
    _bad({"defaultAction": "SCMP_ACT_NOTIFY"}, "SCMP_ACT_NOTIFY")
    _bad({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}, "defaultErrnoRet")
    _bad({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x.sock"}, "listenerPath")
    _bad({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["amd64"]}, "architectures")
    _bad({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_X"]}, "flags")
    _bad({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}, "syscalls")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"action": "SCMP_ACT_ERRNO"}, r"syscalls\[1\]\.names"),
        ({"names": [], "action": "SCMP_ACT_ERRNO"}, r"syscalls\[1\]\.names is empty"),
        ({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}, r"syscalls\[1\]\.action"),
        ({"names": ["mkdir"], "action": "ERRNO"}, r"syscalls\[1\]\.action"),
        ({"names": ["mkdir"], "action": "SCMP_ACT_KILL", "errnoRet": 1}, r"\.errnoRet"),
        ({"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}, r"\.errnoRet"),
        (
            {
                "names": ["mkdir"],
                "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 6, "op": "SCMP_CMP_EQ"}],
            },
            r"syscalls\[1\]\.args\[0\]\.index",
        ),
        (
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "EQ"}]},
            r"args\[0\]\.op",
        ),
        (
            {
                "names": ["mkdir"],
                "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}],
            },
            r"args\[0\]\.value",
        ),
    ],
)
def test_validation_names_the_bad_syscall_field(call: dict[str, object], field: str) -> None:
    ok = {"names": ["read"], "action": "SCMP_ACT_ALLOW"}
    _bad({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [ok, call]}, field)


def test_plan_translates_actions_and_errno_defaults() -> None:
    plan = plan_seccomp(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
            "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
                {"names": ["uname"], "action": "SCMP_ACT_LOG"},
                {"names": ["tkill"], "action": "SCMP_ACT_KILL"},
            ],
        }
    )
    assert plan.default_action == 0x00050000 | 38
    assert plan.architectures == ("x86_64", "x32")
    assert plan.attributes == ((FilterAttr.CTL_NNP, 0), (FilterAttr.CTL_TSYNC, 1))
    assert plan.rules == (
        SeccompRule("read", scmp.SCMP_ACT_ALLOW),
        SeccompRule("write", scmp.SCMP_ACT_ALLOW),
        SeccompRule("mkdir", 0x00050000 | errno.EPERM),
        SeccompRule("kill", 0x80000000),
        SeccompRule("ptrace", 0x7FF00000 | 7),
        SeccompRule("uname", 0x7FFC0000),
        SeccompRule("tkill", 0),
    )


def test_plan_drops_rules_equal_to_the_default() -> None:
    # libseccomp refuses them with EACCES; runc skips them.
    plan = plan_seccomp(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2},
            ],
        }
    )
    assert plan.rules == (SeccompRule("rmdir", 0x00050000 | 2),)


def test_plan_keeps_distinct_arg_indexes_in_one_rule() -> None:
    plan = plan_seccomp(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {
                    "names": ["clone"],
                    "action": "SCMP_ACT_ERRNO",
                    "args": [
                        {"index": 0, "value": 0x7E020000, "op": "SCMP_CMP_MASKED_EQ"},
                        {"index": 2, "value": 5, "valueTwo": 0, "op": "SCMP_CMP_GT"},
                    ],
                }
            ],
        }
    )
    assert plan.rules == (
        SeccompRule(
            "clone",
            0x00050001,
            (ArgCmp(0, Compare.MASKED_EQ, 0x7E020000, 0), ArgCmp(2, Compare.GT, 5, 0)),
        ),
    )


def test_plan_splits_repeated_arg_indexes_into_rules_as_runc() -> None:
    plan = plan_seccomp(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {
                    "names": ["personality", "ioctl"],
                    "action": "SCMP_ACT_ERRNO",
                    "args": [
                        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                        {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                        {"index": 1, "value": 3, "op": "SCMP_CMP_NE"},
                    ],
                }
            ],
        }
    )
    eperm = 0x00050001
    one, two, three = ArgCmp(0, Compare.EQ, 1), ArgCmp(0, Compare.EQ, 2), ArgCmp(1, Compare.NE, 3)
    assert plan.rules == (
        SeccompRule("personality", eperm, (one,)),
        SeccompRule("ioctl", eperm, (one,)),
        SeccompRule("personality", eperm, (two,)),
        SeccompRule("ioctl", eperm, (two,)),
        SeccompRule("personality", eperm, (three,)),
        SeccompRule("ioctl", eperm, (three,)),
    )


def test_build_filter_skips_unknown_syscalls_and_exports_bpf() -> None:
    profile: Seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [
            {"names": ["mkdir", "no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO"},
            {
                "names": ["personality"],
                "action": "SCMP_ACT_ERRNO",
                "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                ],
            },
        ],
    }
    validate_seccomp(profile)
    lib = scmp.Libseccomp()
    read_fd, write_fd = os.pipe()
    try:
        with build_filter(lib, plan_seccomp(profile)) as filt:
            filt.export_bpf(write_fd)
        os.close(write_fd)
        write_fd = -1
        bpf = os.read(read_fd, 1 << 16)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
    # A classic BPF program is a whole number of 8-byte instructions.
    assert bpf
    assert len(bpf) % 8 == 0


def test_libseccomp_resolves_names_and_arches() -> None:
    lib = scmp.Libseccomp()
    assert lib.syscall_resolve_name("no_such_syscall_anywhere") is None
    if os.uname().machine == "x86_64":
        assert lib.syscall_resolve_name("mkdir") == 83
        assert lib.arch_native() == lib.arch_resolve_name("x86_64") == 0xC000003E
    assert lib.arch_resolve_name("not-an-arch") is None


def test_released_filter_refuses_use() -> None:
    lib = scmp.Libseccomp()
    filt = lib.new_filter(scmp.SCMP_ACT_ALLOW)
    filt.release()
    filt.release()  # idempotent
    with pytest.raises(OSError) as info:
        filt.load()
    assert info.value.errno == errno.EBADF


# Docker's profile format → runtime-spec (moby's setupSeccomp semantics).

KERNEL = (6, 1, 0)


def _docker(caps: set[str], arch: str = "amd64", kernel: tuple[int, int, int] = KERNEL) -> Seccomp:
    return docker_profile_to_spec(load_default_profile(), caps, arch, kernel)


def _allowed(spec: Seccomp) -> set[str]:
    return {
        name
        for call in spec.get("syscalls", [])
        if call["action"] == "SCMP_ACT_ALLOW" and not call.get("args")
        for name in call["names"]
    }


def test_shipped_profile_is_mobys_default() -> None:
    profile = load_default_profile()
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert profile["defaultErrnoRet"] == 1
    assert "mkdir" in profile["syscalls"][0]["names"]
    assert len(profile["syscalls"][0]["names"]) == 349


def test_default_caps_conversion_is_a_valid_spec_without_mount() -> None:
    spec = _docker(set(DEFAULT_CAPABILITIES))
    validate_seccomp(spec)
    assert spec["defaultAction"] == "SCMP_ACT_ERRNO"
    assert spec["defaultErrnoRet"] == 1
    assert spec["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    allowed = _allowed(spec)
    assert {"read", "execve", "arch_prctl", "modify_ldt", "chroot", "ptrace"} <= allowed
    assert not {"mount", "unshare", "setns", "keyctl", "reboot", "bpf"} & allowed
    assert "set_tls" not in allowed  # arm only
    names = [call["names"] for call in spec["syscalls"]]
    # Without CAP_SYS_ADMIN clone is allowed only without namespace flags, clone3 gets ENOSYS.
    clone = spec["syscalls"][names.index(["clone"])]
    assert clone["args"] == [
        {"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
    ]
    assert spec["syscalls"][names.index(["clone3"])]["errnoRet"] == errno.ENOSYS


def test_sys_admin_allows_mount_and_drops_the_clone_restrictions() -> None:
    spec = _docker({*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"})
    validate_seccomp(spec)
    allowed = _allowed(spec)
    assert {"mount", "umount2", "unshare", "setns", "clone", "clone3"} <= allowed
    assert not any(call["names"] == ["clone3"] for call in spec["syscalls"])


def test_a_cap_include_needs_the_cap() -> None:
    assert "chroot" not in _allowed(_docker(set()))
    assert "reboot" in _allowed(_docker({"CAP_SYS_BOOT"}))


def test_arch_selects_archmap_and_arch_rules() -> None:
    spec = _docker(set(DEFAULT_CAPABILITIES), arch="arm64")
    assert spec["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    allowed = _allowed(spec)
    assert "set_tls" in allowed
    assert "arch_prctl" not in allowed
    # An architecture the archMap does not list leaves the choice to libseccomp (native only).
    assert "architectures" not in _docker(set(), arch="ppc64le")


def test_min_kernel_include_and_exclude() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["b"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
        ],
    }
    new = docker_profile_to_spec(profile, set(), "amd64", (6, 1, 0))
    old = docker_profile_to_spec(profile, set(), "amd64", (4, 4, 0))
    assert [c["names"] for c in new["syscalls"]] == [["a"]]
    assert [c["names"] for c in old["syscalls"]] == [["b"]]
    assert "ptrace" not in _allowed(_docker(set(), kernel=(4, 4, 0)))


def test_profile_errors_name_the_field() -> None:
    with pytest.raises(InvalidArgument, match="archMap"):
        docker_profile_to_spec(
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "architectures": ["SCMP_ARCH_X86"],
                "archMap": [{}],
            },
            set(),
            "amd64",
            KERNEL,
        )
    with pytest.raises(InvalidArgument, match=r"syscalls\[0\]"):
        docker_profile_to_spec(
            {"syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]},
            set(),
            "amd64",
            KERNEL,
        )
    spec = docker_profile_to_spec(
        {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "action": "SCMP_ACT_LOG"}]},
        set(),
        "amd64",
        KERNEL,
    )
    assert spec["syscalls"] == [{"names": ["a"], "action": "SCMP_ACT_LOG"}]


def test_kernel_version_parsing() -> None:
    assert kernel_version("6.18.44-fc-v509") == (6, 18, 44)
    assert kernel_version("4.8") == (4, 8, 0)
    with pytest.raises(InvalidArgument):
        kernel_version("unknown")
    assert native_arch() in {"amd64", "arm64"} or native_arch() == os.uname().machine
