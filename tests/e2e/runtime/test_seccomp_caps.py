"""Seccomp filters and capability sets on the real kernel, each in a forked child process.

The child installs the filter or capabilities, probes the kernel, reports through a pipe and
leaves with os._exit, so the test process itself is never restricted.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.kernel import constants as k
from dockyard.kernel.syscall import LinuxSyscall
from dockyard.oci.runtime_spec import Seccomp
from dockyard.runtime.capabilities import (
    DEFAULT_CAPABILITIES,
    apply_capabilities,
    capability_names,
    parse_capabilities,
)
from dockyard.runtime.seccomp import install_seccomp, load_seccomp, prepare_seccomp
from dockyard.runtime.seccomp_profile import (
    docker_profile_to_spec,
    load_default_profile,
    native_arch,
)
from dockyard.testing.rootfs import find_busybox

pytestmark = pytest.mark.root

Probe = Callable[[], object]


def run_in_child(probe: Probe) -> object:
    """Run `probe` in a forked child and return what it returned (JSON), or raise its error."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            os.close(read_fd)
            payload = json.dumps({"ok": probe()})
        except BaseException as exc:
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
            code = 1
        try:
            os.write(write_fd, payload.encode())
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    with os.fdopen(read_fd, "rb") as reader:
        chunks.append(reader.read())
    _, status = os.waitpid(pid, 0)
    report = json.loads(b"".join(chunks) or b'{"error": "child died without a report"}')
    assert "error" not in report, report["error"]
    assert os.waitstatus_to_exitcode(status) == 0
    return report["ok"]


def errno_of(call: Callable[[], object]) -> int:
    """0 if `call` succeeds, else the errno of the OSError it raised."""
    try:
        call()
    except OSError as exc:
        return exc.errno or -1
    return 0


def test_errno_rule_blocks_mkdir_only(scratch: Path) -> None:
    profile: Seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }

    def probe() -> object:
        install_seccomp(profile)
        return {
            "mkdir": errno_of(lambda: os.mkdir(scratch / "blocked")),
            # mkdirat is a different system call: the rule does not cover it.
            "mkdirat": errno_of(lambda: os.mkdir("allowed", dir_fd=os.open(scratch, 0))),
            "write": errno_of(lambda: (scratch / "file").write_text("x")),
        }

    assert run_in_child(probe) == {"mkdir": errno.EPERM, "mkdirat": 0, "write": 0}
    assert not (scratch / "blocked").exists()
    assert (scratch / "allowed").is_dir()


def test_filter_prepared_before_chroot_loads_inside_a_rootfs_without_libseccomp(
    busybox_rootfs: Path,
) -> None:
    # The init process prepares the filter on the host and loads it after pivot_root, where
    # the container's file system usually has no libseccomp.so.2.
    profile: Seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }

    def probe() -> object:
        filt = prepare_seccomp(profile)
        os.chroot(busybox_rootfs)
        os.chdir("/")
        load_seccomp(filt)
        return {
            "libseccomp here": any(
                Path(d).is_dir() and any(Path(d).glob("libseccomp*")) for d in ("/lib", "/usr/lib")
            ),
            "mkdir": errno_of(lambda: os.mkdir("/tmp-blocked")),
        }

    assert run_in_child(probe) == {"libseccomp here": False, "mkdir": errno.EPERM}


def test_arg_conditioned_rules() -> None:
    # socket(AF_UNIX) fails with EACCES and socket(AF_INET6) too (two conditions on the same
    # argument become two rules); socket(AF_INET) still works.
    profile: Seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {
                "names": ["socket"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EACCES,
                "args": [
                    {"index": 0, "value": socket.AF_UNIX, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": socket.AF_INET6, "op": "SCMP_CMP_EQ"},
                ],
            },
            {
                # openat with O_CREAT in its flags (argument 2) is refused.
                "names": ["openat"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EROFS,
                "args": [
                    {
                        "index": 2,
                        "value": os.O_CREAT,
                        "valueTwo": os.O_CREAT,
                        "op": "SCMP_CMP_MASKED_EQ",
                    }
                ],
            },
        ],
    }

    def probe() -> object:
        install_seccomp(profile)
        return {
            "unix": errno_of(lambda: socket.socket(socket.AF_UNIX).close()),
            "inet6": errno_of(lambda: socket.socket(socket.AF_INET6).close()),
            "inet": errno_of(lambda: socket.socket(socket.AF_INET).close()),
            "create": errno_of(lambda: os.close(os.open("/tmp/x-never", os.O_CREAT | os.O_RDWR))),
            "read": errno_of(lambda: os.close(os.open("/proc/self/status", os.O_RDONLY))),
        }

    assert run_in_child(probe) == {
        "unix": errno.EACCES,
        "inet6": errno.EACCES,
        "inet": 0,
        "create": errno.EROFS,
        "read": 0,
    }


def _status(lines: str) -> dict[str, int]:
    fields = {}
    for line in lines.splitlines():
        key, _, value = line.partition(":")
        if key.startswith("Cap"):
            fields[key] = int(value.strip(), 16)
    return fields


def test_default_capabilities_are_exactly_held() -> None:
    names = list(DEFAULT_CAPABILITIES)
    caps = parse_capabilities(
        {"bounding": names, "effective": names, "permitted": names, "inheritable": []}
    )

    def probe() -> object:
        apply_capabilities(LinuxSyscall(), caps)
        return _status(Path("/proc/self/status").read_text())

    status = run_in_child(probe)
    assert isinstance(status, dict)
    assert status["CapBnd"] == status["CapEff"] == status["CapPrm"] == 0xA80425FB
    assert set(capability_names(status["CapEff"])) == set(DEFAULT_CAPABILITIES)
    assert status["CapInh"] == status["CapAmb"] == 0


def test_ambient_capability_survives_exec_as_non_root() -> None:
    # The init process's sequence: keep caps across setresuid, then apply the sets; a non-root
    # program exec'd afterwards holds exactly the ambient set.
    names = list(DEFAULT_CAPABILITIES)
    caps = parse_capabilities(
        {
            "bounding": names,
            "effective": names,
            "permitted": names,
            "inheritable": ["CAP_NET_BIND_SERVICE"],
            "ambient": ["CAP_NET_BIND_SERVICE"],
        }
    )
    busybox = str(find_busybox())
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read_fd)
            sys = LinuxSyscall()
            sys.prctl(k.PR_SET_KEEPCAPS, 1)
            os.setgroups([])
            os.setresgid(1000, 1000, 1000)
            os.setresuid(1000, 1000, 1000)
            apply_capabilities(sys, caps)
            os.dup2(write_fd, 1)
            os.execv(busybox, [busybox, "cat", "/proc/self/status"])
        finally:
            os._exit(127)
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        out = reader.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    fields = _status(out)
    assert fields["CapAmb"] == fields["CapEff"] == fields["CapPrm"] == 1 << 10
    assert fields["CapInh"] == 1 << 10
    assert fields["CapBnd"] == 0xA80425FB


def test_docker_default_profile_allows_exec_and_blocks_namespaces() -> None:
    spec = docker_profile_to_spec(load_default_profile(), set(DEFAULT_CAPABILITIES), native_arch())
    busybox = str(find_busybox())
    libc = ctypes.CDLL(None, use_errno=True)
    keyctl_nr = {"x86_64": 250, "aarch64": 219}[os.uname().machine]

    def libc_errno(ret: int) -> int:
        return ctypes.get_errno() if ret == -1 else 0

    def probe() -> object:
        install_seccomp(spec)
        true = subprocess.run([busybox, "true"], check=False)
        unshare_cmd = subprocess.run(
            [busybox, "unshare", "-u", "true"], check=False, stderr=subprocess.DEVNULL
        )
        return {
            "exec": true.returncode,
            "busybox unshare": unshare_cmd.returncode,
            "unshare": libc_errno(libc.unshare(k.CLONE_NEWUTS)),
            # KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3).
            "keyctl": libc_errno(libc.syscall(keyctl_nr, 0, -3, 0)),
            "getpid": errno_of(os.getpid),
        }

    report = run_in_child(probe)
    assert isinstance(report, dict)
    assert report["exec"] == 0
    assert report["busybox unshare"] != 0
    assert report["unshare"] == errno.EPERM
    assert report["keyctl"] == errno.EPERM
    assert report["getpid"] == 0


def test_docker_default_profile_with_sys_admin_allows_unshare() -> None:
    caps = {*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"}
    spec = docker_profile_to_spec(load_default_profile(), caps, native_arch())
    libc = ctypes.CDLL(None, use_errno=True)

    def probe() -> object:
        install_seccomp(spec)
        ret = libc.unshare(k.CLONE_NEWUTS)
        return 0 if ret == 0 else ctypes.get_errno()

    assert run_in_child(probe) == 0


def test_filter_flags_are_accepted_by_the_kernel(scratch: Path) -> None:
    profile: Seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": [
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        ],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES}],
    }

    def probe() -> object:
        install_seccomp(profile)
        return errno_of(lambda: os.mkdir(scratch / "blocked"))

    assert run_in_child(probe) == errno.EACCES


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_TRAP"])
def test_kill_and_trap_actions_end_the_process_with_sigsys(action: str) -> None:
    profile: Seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getppid"], "action": action}],
    }
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            # No core dump: SIGSYS would otherwise write one and slow the test down.
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            install_seccomp(profile)
            os.getppid()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGSYS
