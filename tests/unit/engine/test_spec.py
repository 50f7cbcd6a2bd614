"""build_spec: Docker's defaults and each run option's effect on the OCI runtime spec."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dockyard.engine.config import ContainerConfig, HostConfig, ImageConfigView
from dockyard.engine.options import Ulimit
from dockyard.engine.spec import (
    MASKED_PATHS,
    NETWORK_SYSCTLS,
    READONLY_PATHS,
    ResolvedDevice,
    ResolvedMount,
    build_spec,
    host_device,
)
from dockyard.errors import InvalidArgument
from dockyard.image.users import ResolvedUser
from dockyard.oci.runtime_spec import Mount, Spec
from dockyard.runtime.capabilities import CAPABILITY_NAMES, DEFAULT_CAPABILITIES
from dockyard.runtime.config import validate_spec
from dockyard.runtime.seccomp_profile import load_default_profile

CID = "c" * 64
IMAGE = ImageConfigView(env=("PATH=/usr/bin:/bin", "LANG=C.UTF-8"), cmd=("sh",))


def _build(tmp_path: Path, host: HostConfig | None = None, **kw: object) -> Spec:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir(exist_ok=True)
    cfg = kw.pop("cfg", None) or ContainerConfig(image="busybox", host=host or HostConfig())
    image = kw.pop("image", IMAGE)
    args: dict[str, object] = {"hostname": "abc123", **kw}
    spec = build_spec(cfg, image, container_id=CID, rootfs=str(rootfs), **args)  # type: ignore[arg-type]
    validate_spec(spec, tmp_path)
    return spec


def _mount(spec: Spec, destination: str) -> Mount:
    (found,) = [m for m in spec["mounts"] if m["destination"] == destination]
    return found


def test_docker_defaults(tmp_path: Path) -> None:
    spec = _build(tmp_path, seccomp_profile=load_default_profile())
    process = spec["process"]
    assert process["args"] == ["sh"]
    assert process["env"] == ["PATH=/usr/bin:/bin", "HOSTNAME=abc123", "LANG=C.UTF-8"]
    assert process["cwd"] == "/"
    assert process["terminal"] is False
    assert process["user"] == {"uid": 0, "gid": 0}
    assert process["noNewPrivileges"] is False
    assert "rlimits" not in process
    caps = process["capabilities"]
    assert len(DEFAULT_CAPABILITIES) == 14
    for kind in ("bounding", "effective", "permitted"):
        assert caps[kind] == list(DEFAULT_CAPABILITIES)
    assert "inheritable" not in caps and "ambient" not in caps  # CVE-2022-24769
    assert spec["hostname"] == "abc123"
    assert spec["root"] == {"path": str(tmp_path / "rootfs"), "readonly": False}
    assert [m["destination"] for m in spec["mounts"]] == [
        "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
    ]  # fmt: skip
    assert _mount(spec, "/sys")["options"][-1] == "ro"
    assert _mount(spec, "/sys/fs/cgroup")["type"] == "cgroup"
    assert "ro" in _mount(spec, "/sys/fs/cgroup")["options"]
    assert "size=67108864" in _mount(spec, "/dev/shm")["options"]
    linux = spec["linux"]
    assert [ns["type"] for ns in linux["namespaces"]] == ["mount", "network", "uts", "pid", "ipc"]
    assert linux["cgroupsPath"] == f"/dockyard/{CID}"
    assert linux["maskedPaths"] == list(MASKED_PATHS)
    assert "/proc/kcore" in linux["maskedPaths"] and "/sys/firmware" in linux["maskedPaths"]
    assert linux["readonlyPaths"] == list(READONLY_PATHS)
    assert linux["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    rules = linux["resources"]["devices"]
    assert rules[0] == {"allow": False, "access": "rwm"}
    assert {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"} in rules
    assert "memory" not in linux["resources"] and "cpu" not in linux["resources"]


def test_cgroup_namespace_and_parent(tmp_path: Path) -> None:
    spec = _build(tmp_path, cgroupns=True, cgroup_parent="/custom/")
    assert spec["linux"]["namespaces"][-1] == {"type": "cgroup"}
    assert spec["linux"]["cgroupsPath"] == f"/custom/{CID}"


def test_env_rules(tmp_path: Path) -> None:
    cfg = ContainerConfig(image="x", env=("LANG=de_DE.UTF-8", "EXTRA=1"), tty=True)
    spec = _build(tmp_path, cfg=cfg)
    assert spec["process"]["env"] == [
        "PATH=/usr/bin:/bin",
        "HOSTNAME=abc123",
        "TERM=xterm",
        "LANG=de_DE.UTF-8",
        "EXTRA=1",
    ]
    assert spec["process"]["terminal"] is True
    bare = _build(tmp_path, image=ImageConfigView(cmd=("sh",)))
    assert bare["process"]["env"][0] == (
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    )


def test_working_dir_and_user(tmp_path: Path) -> None:
    image = replace(IMAGE, working_dir="/srv")
    spec = _build(tmp_path, image=image, user=ResolvedUser(1000, 100, (10, 20)))
    assert spec["process"]["cwd"] == "/srv"
    assert spec["process"]["user"] == {"uid": 1000, "gid": 100, "additionalGids": [10, 20]}
    cfg = ContainerConfig(image="x", working_dir="/tmp")
    assert _build(tmp_path, cfg=cfg, image=image)["process"]["cwd"] == "/tmp"


def test_entrypoint_and_command(tmp_path: Path) -> None:
    image = ImageConfigView(entrypoint=("/ep",), cmd=("default",))
    assert _build(tmp_path, image=image)["process"]["args"] == ["/ep", "default"]
    cfg = ContainerConfig(image="x", entrypoint=("/bin/echo",))
    assert _build(tmp_path, cfg=cfg, image=image)["process"]["args"] == ["/bin/echo"]
    with pytest.raises(InvalidArgument, match=r"^no command specified for image x"):
        _build(tmp_path, cfg=ContainerConfig(image="x"), image=ImageConfigView())


@pytest.mark.parametrize(
    ("cap_add", "cap_drop", "expected"),
    [
        (("CAP_NET_ADMIN",), (), [*DEFAULT_CAPABILITIES, "CAP_NET_ADMIN"]),
        (
            (),
            ("CAP_CHOWN", "CAP_KILL"),
            [c for c in DEFAULT_CAPABILITIES if c not in ("CAP_CHOWN", "CAP_KILL")],
        ),
        (("CAP_CHOWN",), (), list(DEFAULT_CAPABILITIES)),
        (("ALL",), (), list(CAPABILITY_NAMES)),
        (("ALL",), ("CAP_SYS_ADMIN",), [c for c in CAPABILITY_NAMES if c != "CAP_SYS_ADMIN"]),
        (("CAP_NET_BIND_SERVICE",), ("ALL",), ["CAP_NET_BIND_SERVICE"]),
        ((), ("ALL",), []),
    ],
)
def test_capabilities(
    tmp_path: Path, cap_add: tuple[str, ...], cap_drop: tuple[str, ...], expected: list[str]
) -> None:
    spec = _build(tmp_path, HostConfig(cap_add=cap_add, cap_drop=cap_drop))
    assert spec["process"]["capabilities"]["bounding"] == expected
    assert spec["process"]["capabilities"]["effective"] == expected


def test_seccomp_follows_capabilities_and_unconfined(tmp_path: Path) -> None:
    profile = load_default_profile()
    plain = _build(tmp_path, seccomp_profile=profile)["linux"]["seccomp"]
    admin = _build(tmp_path, HostConfig(cap_add=("CAP_SYS_ADMIN",)), seccomp_profile=profile)
    names = {n for rule in admin["linux"]["seccomp"]["syscalls"] for n in rule["names"]}
    plain_names = {n for rule in plain["syscalls"] for n in rule["names"]}
    assert "mount" in names and "mount" not in plain_names
    off = _build(
        tmp_path, HostConfig(security_opt=("seccomp=unconfined",)), seccomp_profile=profile
    )
    assert "seccomp" not in off["linux"]
    assert "seccomp" not in _build(tmp_path)["linux"]


def test_no_new_privileges(tmp_path: Path) -> None:
    spec = _build(tmp_path, HostConfig(security_opt=("no-new-privileges=true",)))
    assert spec["process"]["noNewPrivileges"] is True


def test_privileged(tmp_path: Path) -> None:
    null = ResolvedDevice("/dev/null", "c", 1, 3)
    spec = _build(
        tmp_path,
        HostConfig(privileged=True, cap_drop=("CAP_CHOWN",)),
        seccomp_profile=load_default_profile(),
        devices=[null],
    )
    assert spec["process"]["capabilities"]["bounding"] == list(CAPABILITY_NAMES)
    linux = spec["linux"]
    assert "maskedPaths" not in linux and "readonlyPaths" not in linux and "seccomp" not in linux
    assert linux["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert linux["devices"][0]["path"] == "/dev/null"
    assert "ro" not in _mount(spec, "/sys")["options"]
    assert "ro" not in _mount(spec, "/sys/fs/cgroup")["options"]


def test_read_only_root(tmp_path: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    spec = _build(
        tmp_path,
        HostConfig(readonly_rootfs=True),
        hosts=str(files / "hosts"),
        resolv_conf=str(files / "resolv.conf"),
        hostname_file=str(files / "hostname"),
        mounts=[ResolvedMount("bind", "/srv/data", "/data")],
    )
    assert spec["root"]["readonly"] is True
    for dest in ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname"):
        assert _mount(spec, dest)["options"] == ["rbind", "rprivate", "ro"]
    assert "ro" not in _mount(spec, "/data")["options"]  # volumes stay writable
    for dest in ("/dev", "/dev/shm", "/dev/pts", "/dev/mqueue", "/proc"):
        assert "ro" not in _mount(spec, dest)["options"]
    writable = _build(tmp_path, hosts=str(files / "hosts"))
    assert _mount(writable, "/etc/hosts")["options"] == ["rbind", "rprivate"]


@pytest.mark.parametrize(
    ("memory", "swap", "expected"),
    [
        (20 << 20, 0, {"limit": 20 << 20, "swap": 40 << 20}),
        (20 << 20, -1, {"limit": 20 << 20, "swap": -1}),
        (20 << 20, 30 << 20, {"limit": 20 << 20, "swap": 30 << 20}),
        (20 << 20, 20 << 20, {"limit": 20 << 20, "swap": 20 << 20}),
    ],
)
def test_memory_swap(tmp_path: Path, memory: int, swap: int, expected: dict[str, int]) -> None:
    spec = _build(tmp_path, HostConfig(memory=memory, memory_swap=swap))
    assert spec["linux"]["resources"]["memory"] == expected


@pytest.mark.parametrize(
    ("memory", "swap", "why"),
    [(20 << 20, 10 << 20, "at least --memory"), (0, 10 << 20, "needs --memory")],
)
def test_memory_swap_errors(tmp_path: Path, memory: int, swap: int, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why):
        _build(tmp_path, HostConfig(memory=memory, memory_swap=swap))


def test_cpu_and_pids(tmp_path: Path) -> None:
    host = HostConfig(
        nano_cpus=1_500_000_000, cpu_shares=512, cpuset_cpus="0-1", pids_limit=100,
        memory_reservation=10 << 20,
    )  # fmt: skip
    res = _build(tmp_path, host)["linux"]["resources"]
    assert res["cpu"] == {"shares": 512, "period": 100_000, "quota": 150_000, "cpus": "0-1"}
    assert res["pids"] == {"limit": 100}
    assert res["memory"] == {"reservation": 10 << 20}
    quota = _build(tmp_path, HostConfig(cpu_period=50_000, cpu_quota=25_000))["linux"]
    assert quota["resources"]["cpu"] == {"period": 50_000, "quota": 25_000}
    assert "pids" not in _build(tmp_path, HostConfig(pids_limit=-1))["linux"]["resources"]
    with pytest.raises(InvalidArgument, match="--cpus conflicts"):
        _build(tmp_path, HostConfig(nano_cpus=10**9, cpu_quota=1000))


def test_rlimits_sysctls_oom_score(tmp_path: Path) -> None:
    host = HostConfig(
        ulimits=(Ulimit("nofile", 1024, 2048), Ulimit("core", -1, -1)),
        sysctls={"net.core.somaxconn": "1024"},
        oom_score_adj=500,
        shm_size=128 << 20,
    )
    spec = _build(tmp_path, host)
    assert spec["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048},
        {"type": "RLIMIT_CORE", "soft": -1, "hard": -1},
    ]
    assert spec["linux"]["sysctl"] == {**NETWORK_SYSCTLS, "net.core.somaxconn": "1024"}
    assert spec["process"]["oomScoreAdj"] == 500
    assert f"size={128 << 20}" in _mount(spec, "/dev/shm")["options"]


def test_devices(tmp_path: Path) -> None:
    fuse = ResolvedDevice("/dev/fuse", "c", 10, 229, 0o666, 0, 0, "rw")
    spec = _build(tmp_path, devices=[fuse])
    assert spec["linux"]["devices"] == [
        {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 0o666,
         "uid": 0, "gid": 0}
    ]  # fmt: skip
    rules = spec["linux"]["resources"]["devices"]
    assert rules[-1] == {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"}


def test_host_device() -> None:
    null = host_device("/dev/null", "/dev/mynull", "rw")
    assert (null.path, null.type, null.major, null.minor, null.permissions) == (
        "/dev/mynull", "c", 1, 3, "rw",
    )  # fmt: skip
    with pytest.raises(InvalidArgument, match="no such device"):
        host_device("/dev/does-not-exist", "/dev/x")
    with pytest.raises(InvalidArgument, match="not a device node"):
        host_device("/etc/hostname", "/dev/x")


def test_init(tmp_path: Path) -> None:
    spec = _build(tmp_path, init_path="/usr/bin/tini-static")
    assert spec["process"]["args"] == ["/dev/init", "--", "sh"]
    assert spec["mounts"][-1] == {
        "destination": "/dev/init",
        "type": "bind",
        "source": "/usr/bin/tini-static",
        "options": ["bind", "ro"],
    }


def test_network_modes(tmp_path: Path) -> None:
    on_host = _build(tmp_path, HostConfig(network_mode="host"))["linux"]
    assert "network" not in [ns["type"] for ns in on_host["namespaces"]]
    assert "sysctl" not in on_host  # the host's own network settings are not touched
    assert _build(tmp_path)["linux"]["sysctl"] == NETWORK_SYSCTLS
    mine = _build(tmp_path, HostConfig(sysctls={"net.ipv4.ip_unprivileged_port_start": "80"}))
    assert mine["linux"]["sysctl"]["net.ipv4.ip_unprivileged_port_start"] == "80"
    none_ns = _build(tmp_path, HostConfig(network_mode="none"))["linux"]["namespaces"]
    assert {"type": "network"} in none_ns
    joined = _build(
        tmp_path, HostConfig(network_mode="container:web"), network_ns_path="/proc/self/ns/net"
    )
    assert {"type": "network", "path": "/proc/self/ns/net"} in joined["linux"]["namespaces"]
    assert "sysctl" not in joined["linux"]
    with pytest.raises(InvalidArgument, match="--network container:web"):
        _build(tmp_path, HostConfig(network_mode="container:web"))


def test_mount_order_and_overrides(tmp_path: Path) -> None:
    mounts = [
        ResolvedMount("bind", "/h/abc", "/a/b/c", readonly=True),
        ResolvedMount("volume", "/vols/a/_data", "/a"),
        ResolvedMount("bind", "/h/ab", "/a/b", options=("rshared",)),
        ResolvedMount("tmpfs", "tmpfs", "/dev/shm", options=("size=1m",)),
        ResolvedMount("tmpfs", "tmpfs", "/run", options=("rw", "exec", "size=64m", "size=32m")),
    ]
    spec = _build(tmp_path, mounts=mounts)
    dests = [m["destination"] for m in spec["mounts"]]
    assert dests == [
        "/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
        "/a", "/run", "/a/b", "/dev/shm", "/a/b/c",
    ]  # fmt: skip
    assert _mount(spec, "/a/b/c") == {
        "destination": "/a/b/c", "type": "bind", "source": "/h/abc",
        "options": ["rbind", "rprivate", "ro"],
    }  # fmt: skip
    assert _mount(spec, "/a/b")["options"] == ["rbind", "rshared"]
    assert _mount(spec, "/a")["source"] == "/vols/a/_data"
    assert _mount(spec, "/dev/shm") == {
        "destination": "/dev/shm", "type": "tmpfs", "source": "tmpfs",
        "options": ["noexec", "nosuid", "nodev", "size=1m"],
    }  # fmt: skip
    assert _mount(spec, "/run")["options"] == ["nosuid", "nodev", "rw", "exec", "size=32m"]


def test_domainname(tmp_path: Path) -> None:
    spec = _build(tmp_path, cfg=ContainerConfig(image="x", domainname="example.org"))
    assert spec["domainname"] == "example.org"


@pytest.mark.parametrize(
    ("host", "why"),
    [
        (HostConfig(memory=1 << 20), "minimum memory limit allowed is 6MB"),
        (HostConfig(memory=10 << 20, memory_reservation=20 << 20), "must not exceed --memory"),
        (HostConfig(cpu_period=500), "--cpu-period must be between"),
        (HostConfig(cpu_quota=10), "--cpu-quota must be at least 1000"),
        (HostConfig(oom_score_adj=1001), "use -1000 to 1000"),
        (HostConfig(nano_cpus=3 * 10**9), "only 2 CPUs available"),
    ],
)
def test_resource_validation(tmp_path: Path, host: HostConfig, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why):
        _build(tmp_path, host, ncpus=2)


def test_cpus_within_host(tmp_path: Path) -> None:
    spec = _build(tmp_path, HostConfig(nano_cpus=2 * 10**9), ncpus=2)
    assert spec["linux"]["resources"]["cpu"]["quota"] == 200_000
