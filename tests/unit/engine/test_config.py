"""ContainerConfig: Docker's inspect shapes, the JSON round trip, and merging the image."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.engine.config import (
    ContainerConfig,
    Healthcheck,
    HostConfig,
    ImageConfigView,
    LogConfig,
    merge_image,
    process_args,
)
from dockyard.engine.options import (
    DeviceMapping,
    MountSpec,
    PortBinding,
    RestartPolicy,
    Ulimit,
)
from dockyard.errors import InvalidArgument

_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-./=: ", max_size=12)
_name = st.from_regex(r"[a-z][a-z0-9_.-]{1,8}", fullmatch=True)
_path = st.from_regex(r"/[a-z0-9]{1,6}(/[a-z0-9]{1,6}){0,2}", fullmatch=True)
_strs = st.lists(_text, max_size=3).map(tuple)
_opt_strs = st.none() | _strs
_mapping = st.dictionaries(_name, _text, max_size=3)
_size = st.integers(min_value=0, max_value=1 << 40)

_mounts = st.one_of(
    st.builds(
        MountSpec,
        type=st.just("bind"),
        source=_path,
        target=_path,
        readonly=st.booleans(),
        propagation=st.sampled_from(["", "rprivate", "rshared"]),
    ),
    st.builds(
        MountSpec,
        type=st.just("volume"),
        source=st.just("") | _name,
        target=_path,
        readonly=st.booleans(),
        nocopy=st.booleans(),
        volume_options=st.lists(st.tuples(_name, _text), max_size=2, unique_by=lambda t: t[0]).map(
            tuple
        ),
    ),
    st.builds(
        MountSpec,
        type=st.just("tmpfs"),
        source=st.just(""),
        target=_path,
        readonly=st.booleans(),
        tmpfs_size=_size,
        tmpfs_mode=st.integers(0, 0o7777),
    ),
)
_bindings = st.lists(
    st.builds(
        PortBinding,
        host_ip=st.sampled_from(["", "127.0.0.1", "::1"]),
        host_port=st.integers(0, 65535),
        container_port=st.integers(1, 65535),
        proto=st.sampled_from(["tcp", "udp", "sctp"]),
    ),
    max_size=4,
).map(lambda b: tuple(sorted(b, key=lambda p: (p.container_port, p.proto))))

_host = st.builds(
    HostConfig,
    binds=_strs,
    mounts=st.lists(_mounts, max_size=3).map(tuple),
    tmpfs=st.dictionaries(_path, _text, max_size=2),
    network_mode=st.sampled_from(["default", "none", "host", "container:web", "backend"]),
    port_bindings=_bindings,
    publish_all_ports=st.booleans(),
    restart_policy=st.sampled_from(
        [RestartPolicy(), RestartPolicy("always"), RestartPolicy("on-failure", 3)]
    ),
    auto_remove=st.booleans(),
    privileged=st.booleans(),
    readonly_rootfs=st.booleans(),
    cap_add=st.sampled_from([(), ("CAP_NET_ADMIN",), ("ALL",)]),
    cap_drop=st.sampled_from([(), ("CAP_CHOWN", "CAP_KILL"), ("ALL",)]),
    security_opt=st.sampled_from([(), ("no-new-privileges=true", "seccomp=unconfined")]),
    memory=_size,
    memory_swap=st.integers(-1, 1 << 40),
    memory_reservation=_size,
    nano_cpus=st.integers(0, 64 * 10**9),
    cpu_shares=st.integers(0, 1 << 18),
    cpu_period=st.integers(0, 10**6),
    cpu_quota=st.integers(0, 10**6),
    cpuset_cpus=st.sampled_from(["", "0", "0-1,3"]),
    pids_limit=st.none() | st.integers(-1, 1 << 20),
    ulimits=st.lists(
        st.builds(
            Ulimit, st.sampled_from(["nofile", "nproc"]), st.integers(-1, 9), st.integers(-1, 9)
        ),
        max_size=2,
    ).map(tuple),
    devices=st.lists(
        st.builds(DeviceMapping, _path, _path, st.sampled_from(["rwm", "r"])), max_size=2
    ).map(tuple),
    dns=_strs,
    dns_search=_strs,
    dns_options=_strs,
    extra_hosts=st.sampled_from([(), ("db:10.0.0.2", "gw:host-gateway")]),
    init=st.none() | st.booleans(),
    log_config=st.builds(
        LogConfig, st.just("json-file"), st.dictionaries(_name, _text, max_size=2)
    ),
    shm_size=st.integers(1, 1 << 34),
    oom_score_adj=st.integers(-1000, 1000),
    sysctls=st.dictionaries(st.sampled_from(["net.ipv4.ip_forward", "kernel.msgmax"]), _text),
    group_add=_strs,
)
_health = st.none() | st.builds(
    Healthcheck,
    test=st.sampled_from([("NONE",), ("CMD-SHELL", "true"), ("CMD", "/bin/check", "-q")]),
    interval=_size,
    timeout=_size,
    start_period=_size,
    retries=st.integers(0, 10),
)
_configs = st.builds(
    ContainerConfig,
    image=st.sampled_from(
        ["busybox", "docker.io/library/alpine:3.19", "localhost:5000/x@sha256:" + "a" * 64]
    ),
    cmd=_opt_strs,
    entrypoint=_opt_strs,
    env=st.lists(st.builds(lambda k, v: f"{k}={v}", _name, _text), max_size=3).map(tuple),
    working_dir=st.just("") | _path,
    user=st.sampled_from(["", "nobody", "1000:1000"]),
    labels=_mapping,
    hostname=st.just("") | _name,
    domainname=st.just("") | _name,
    tty=st.booleans(),
    open_stdin=st.booleans(),
    stdin_once=st.booleans(),
    attach_stdin=st.booleans(),
    attach_stdout=st.booleans(),
    attach_stderr=st.booleans(),
    stop_signal=st.sampled_from(["", "SIGTERM", "SIGQUIT"]),
    stop_timeout=st.none() | st.integers(0, 600),
    healthcheck=_health,
    exposed_ports=st.lists(st.sampled_from(["80/tcp", "53/udp", "443/tcp"]), unique=True).map(
        tuple
    ),
    volumes=st.lists(_path, unique=True, max_size=2).map(tuple),
    host=_host,
)


@given(_configs)
def test_docker_json_round_trip(cfg: ContainerConfig) -> None:
    doc = json.loads(json.dumps(cfg.to_docker_json()))
    assert ContainerConfig.from_docker_json(doc) == cfg


def test_docker_shapes() -> None:
    cfg = ContainerConfig(
        image="busybox",
        cmd=("sh",),
        env=("A=1",),
        exposed_ports=("80/tcp",),
        volumes=("/data",),
        healthcheck=Healthcheck(("CMD-SHELL", "true"), 30 * 10**9, 5 * 10**9, 0, 3),
        host=HostConfig(
            port_bindings=(PortBinding("", 8080, 80), PortBinding("127.0.0.1", 0, 80)),
            restart_policy=RestartPolicy("on-failure", 3),
            ulimits=(Ulimit("nofile", 1024, 2048),),
            devices=(DeviceMapping("/dev/fuse", "/dev/fuse", "rwm"),),
            mounts=(MountSpec("bind", "/h", "/c", readonly=True, propagation="rslave"),),
        ),
    )
    doc = cfg.to_docker_json()
    c, h = doc["Config"], doc["HostConfig"]
    assert c["Cmd"] == ["sh"] and c["Entrypoint"] is None and c["Image"] == "busybox"
    assert c["ExposedPorts"] == {"80/tcp": {}} and c["Volumes"] == {"/data": {}}
    assert c["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 30_000_000_000,
        "Timeout": 5_000_000_000,
        "StartPeriod": 0,
        "Retries": 3,
        "StartInterval": 0,
    }
    assert h["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "127.0.0.1", "HostPort": ""}]
    }
    assert h["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert h["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
    assert h["ShmSize"] == 64 << 20
    assert h["NetworkMode"] == "default"
    assert h["Ulimits"] == [{"Name": "nofile", "Hard": 2048, "Soft": 1024}]
    assert h["Devices"] == [
        {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}
    ]
    assert h["Mounts"] == [
        {
            "Type": "bind",
            "Source": "/h",
            "Target": "/c",
            "ReadOnly": True,
            "BindOptions": {"Propagation": "rslave"},
        }
    ]


def test_from_docker_json_rejects_garbage() -> None:
    with pytest.raises(InvalidArgument, match="container config is malformed"):
        ContainerConfig.from_docker_json(
            {"HostConfig": {"Mounts": [{"Type": "nfs", "Target": "/"}]}}
        )
    with pytest.raises(InvalidArgument, match="container config is malformed"):
        ContainerConfig.from_docker_json({"HostConfig": {"RestartPolicy": {"Name": "often"}}})


def test_image_view_from_oci() -> None:
    view = ImageConfigView.from_oci(
        {
            "Env": ["PATH=/bin"],
            "Cmd": ["sh"],
            "WorkingDir": "/srv",
            "ExposedPorts": {"80/tcp": {}},
            "Volumes": {"/data": {}},
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 10},
            "Labels": {"a": "b"},
        }
    )
    assert view.cmd == ("sh",) and view.entrypoint is None
    assert view.exposed_ports == ("80/tcp",) and view.volumes == ("/data",)
    assert view.healthcheck == Healthcheck(("CMD", "true"), 10)
    assert ImageConfigView.from_oci(None) == ImageConfigView()


# Docker's "Understand how CMD and ENTRYPOINT interact" table, plus the run-time overrides.
_IMAGE_CASES = [
    # image entrypoint, image cmd, run entrypoint, run cmd, expected args
    (None, ("sh",), None, None, ["sh"]),
    (None, ("sh",), None, ("echo", "hi"), ["echo", "hi"]),
    (("/ep",), None, None, None, ["/ep"]),
    (("/ep",), ("a",), None, None, ["/ep", "a"]),
    (("/ep",), ("a",), None, ("b",), ["/ep", "b"]),
    (("/ep",), ("a",), ("/other",), None, ["/other"]),  # --entrypoint resets the image's Cmd
    (("/ep",), ("a",), ("/other",), ("b",), ["/other", "b"]),
    (("/ep",), ("a",), (), ("b",), ["b"]),  # --entrypoint ""
    (None, ("sh",), ("/other",), None, ["/other"]),
    (("sh", "-c"), ("echo a",), None, None, ["sh", "-c", "echo a"]),
]


@pytest.mark.parametrize(("img_ep", "img_cmd", "ep", "cmd", "args"), _IMAGE_CASES)
def test_entrypoint_and_cmd(
    img_ep: tuple[str, ...] | None,
    img_cmd: tuple[str, ...] | None,
    ep: tuple[str, ...] | None,
    cmd: tuple[str, ...] | None,
    args: list[str],
) -> None:
    image = ImageConfigView(cmd=img_cmd, entrypoint=img_ep)
    cfg = ContainerConfig(image="img", cmd=cmd, entrypoint=ep)
    assert process_args(cfg, image) == args
    # merging is idempotent: a stored (merged) config gives the same command again
    assert process_args(merge_image(cfg, image), image) == args


@pytest.mark.parametrize(
    ("img_ep", "img_cmd", "ep", "cmd"),
    [(None, None, None, None), (("/ep",), ("a",), (), None), (None, (), None, ())],
)
def test_no_command(
    img_ep: tuple[str, ...] | None,
    img_cmd: tuple[str, ...] | None,
    ep: tuple[str, ...] | None,
    cmd: tuple[str, ...] | None,
) -> None:
    image = ImageConfigView(cmd=img_cmd, entrypoint=img_ep)
    with pytest.raises(InvalidArgument) as e:
        process_args(ContainerConfig(image="scratchy", cmd=cmd, entrypoint=ep), image)
    assert str(e.value).startswith("no command specified for image scratchy")


def test_merge_image() -> None:
    image = ImageConfigView(
        env=("PATH=/img/bin", "LANG=C"),
        working_dir="/srv",
        user="app",
        exposed_ports=("80/tcp",),
        volumes=("/data",),
        stop_signal="SIGQUIT",
        healthcheck=Healthcheck(("CMD", "check"), 10, 20, 30, 4),
        labels={"a": "image", "b": "image"},
    )
    cfg = ContainerConfig(
        image="img",
        env=("LANG=de_DE", "X=1"),
        labels={"b": "run"},
        exposed_ports=("53/udp",),
        healthcheck=Healthcheck((), 99),
    )
    merged = merge_image(cfg, image)
    assert merged.env == ("LANG=de_DE", "X=1", "PATH=/img/bin")
    assert merged.working_dir == "/srv" and merged.user == "app"
    assert merged.labels == {"a": "image", "b": "run"}
    assert merged.exposed_ports == ("53/udp", "80/tcp") and merged.volumes == ("/data",)
    assert merged.stop_signal == "SIGQUIT"
    assert merged.healthcheck == Healthcheck(("CMD", "check"), 99, 20, 30, 4)
    assert merge_image(ContainerConfig(image="img", user="root"), image).user == "root"
