"""What a process sees from inside a container: namespaces, /proc, caps, limits, mounts, users."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def run(runtime: Runtime, bundle: Bundle, name: str = "iso") -> tuple[int, str, str]:
    bundle.write()
    proc = runtime("run", "--bundle", str(bundle.path), name, timeout=60)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_pid_1_is_the_user_process_and_hostname_is_set(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    # The trailing `true` keeps sh from exec'ing cat in its place.
    bundle = make_bundle("sh", "-c", "echo $$; hostname; cat /proc/1/comm; true")
    bundle.config["hostname"] = "box"
    code, out, _ = run(runtime, bundle)
    assert code == 0
    assert out.split() == ["1", "box", "sh"]


def test_capabilities_are_exactly_the_configured_sets_with_no_new_privs(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("grep", "-E", "^(Cap|NoNewPrivs)", "/proc/self/status")
    caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]  # bits 0, 5, 10
    bundle.config["process"]["capabilities"] = {
        "bounding": caps,
        "effective": caps,
        "permitted": caps,
        "inheritable": [],
        "ambient": [],
    }
    bundle.config["process"]["noNewPrivileges"] = True
    code, out, err = run(runtime, bundle)
    assert code == 0, err
    fields = dict(line.split(":\t") for line in out.strip().splitlines())
    want = f"{(1 << 0) | (1 << 5) | (1 << 10):016x}"
    assert fields["CapEff"] == fields["CapPrm"] == fields["CapBnd"] == want
    assert fields["CapInh"] == fields["CapAmb"] == "0" * 16
    assert fields["NoNewPrivs"] == "1"


def test_masked_and_readonly_proc_paths(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    # /proc/kcore exists only on kernels built with it; /proc/keys exists everywhere here.
    masked = "/proc/kcore" if os.path.exists("/proc/kcore") else "/proc/keys"
    bundle = make_bundle(
        "sh",
        "-c",
        f"wc -c < {masked}; ls /sys/firmware | wc -l; "
        "echo 1 > /proc/sys/kernel/domainname && echo wrote || echo refused",
    )
    bundle.config["linux"]["maskedPaths"].append("/proc/keys")
    code, out, _ = run(runtime, bundle)
    assert code == 0
    assert out.split() == ["0", "0", "refused"]


def test_readonly_root_and_readonly_bind_mount(
    runtime: Runtime, make_bundle: Callable[..., Bundle], scratch: Path
) -> None:
    shared = scratch / "shared"
    shared.mkdir()
    (shared / "f").write_text("host data\n")
    bundle = make_bundle(
        "sh",
        "-c",
        "cat /data/f; (echo x > /data/g) 2>/dev/null && echo data-rw || echo data-ro; "
        "(echo x > /x) 2>/dev/null && echo root-rw || echo root-ro",
    )
    bundle.config["root"]["readonly"] = True
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": str(shared), "options": ["rbind", "ro"]}
    )
    code, out, _ = run(runtime, bundle)
    assert code == 0
    assert out.split("\n")[:3] == ["host data", "data-ro", "root-ro"]
    assert not (shared / "g").exists()


def test_symlinked_mount_destination_stays_inside_the_rootfs(
    runtime: Runtime, make_bundle: Callable[..., Bundle], scratch: Path
) -> None:
    outside = scratch / "outside"
    outside.mkdir()
    src = scratch / "src"
    src.mkdir()
    (src / "marker").write_text("mounted\n")
    bundle = make_bundle("cat", "/escape/marker")
    # /escape in the image points at a host path: the mount must land inside the rootfs.
    (bundle.rootfs / "escape").symlink_to(str(outside))
    bundle.config["mounts"].append(
        {"destination": "/escape", "type": "bind", "source": str(src), "options": ["rbind"]}
    )
    code, out, _ = run(runtime, bundle)
    assert code == 0 and out == "mounted\n"
    assert list(outside.iterdir()) == []
    assert (bundle.rootfs / str(outside).lstrip("/")).is_dir()


def test_uid_and_gid_mappings_apply(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map")
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    os.chown(bundle.rootfs, 100000, 100000)
    # The namespace's root is uid 100000 on the host: it must be able to reach the rootfs.
    for parent in bundle.rootfs.parents:
        if str(parent).startswith("/tmp/"):
            parent.chmod(0o755)
    code, out, err = run(runtime, bundle)
    assert code == 0, err
    lines = [line.split() for line in out.strip().splitlines()]
    assert lines[0] == ["0"] and lines[1] == ["0"]
    assert lines[2] == ["0", "100000", "65536"] and lines[3] == ["0", "100000", "65536"]


def test_user_and_additional_groups_and_cwd(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sh", "-c", "id; pwd; umask")
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [100]}
    bundle.config["process"]["cwd"] = "/home/user"
    bundle.config["process"]["user"]["umask"] = 0o027
    code, out, err = run(runtime, bundle)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "uid=1000(user) gid=1000(user) groups=100(users)"
    assert lines[1:] == ["/home/user", "0027"]


def test_seccomp_rule_makes_a_syscall_fail_with_the_configured_errno(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sh", "-c", "mkdir /tmp/d 2>&1; echo survived")
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }
    code, out, _ = run(runtime, bundle)
    assert code == 0
    assert "Permission denied" in out and out.endswith("survived\n")


def test_rlimits_are_applied_and_clamped_to_our_hard_limit(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    bundle = make_bundle("sh", "-c", "ulimit -n; ulimit -Hn; ulimit -s")
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": hard * 4},
        {"type": "RLIMIT_STACK", "soft": 4096 * 1024, "hard": 4096 * 1024},
    ]
    code, out, err = run(runtime, bundle)
    assert code == 0
    assert out.split() == ["512", str(hard), "4096"]
    assert "lowered" in err


def test_environment_and_sysctl(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sh", "-c", 'echo "$GREETING"; cat /proc/sys/net/ipv4/ip_forward')
    bundle.config["process"]["env"].append("GREETING=héllo wörld")
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    code, out, err = run(runtime, bundle)
    assert code == 0, err
    assert out == "héllo wörld\n1\n"


def test_cgroup_mount_shows_the_containers_own_cgroup(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle(
        "sh",
        "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
        "cat /sys/fs/cgroup/memory.max; cat /proc/self/cgroup | grep -c ':/$'; "
        "touch /sys/fs/cgroup/x 2>/dev/null && echo rw || echo ro",
    )
    bundle.config["linux"]["resources"]["memory"] = {"limit": 48 * 1024 * 1024}
    bundle.config["mounts"].append(
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["ro", "nosuid", "noexec", "nodev"],
        }
    )
    code, out, err = run(runtime, bundle)
    assert code == 0, err
    limit, at_root, mode = out.split()
    assert limit == str(48 * 1024 * 1024)
    # In its cgroup namespace every hierarchy shows the container at "/".
    with open("/proc/self/cgroup") as f:
        assert int(at_root) == len(f.read().splitlines())
    assert mode == "ro"
