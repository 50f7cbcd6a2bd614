"""The `dockyard run` flag parsers, good and bad values, with Docker's meanings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.engine.options import (
    DeviceMapping,
    MountSpec,
    NetworkMode,
    PortBinding,
    RestartPolicy,
    SecurityOpt,
    Ulimit,
    UserSpec,
    normalize_capabilities,
    parse_add_host,
    parse_bytes,
    parse_cpus,
    parse_cpuset,
    parse_device,
    parse_duration,
    parse_expose,
    parse_int,
    parse_label,
    parse_mount,
    parse_network,
    parse_publish,
    parse_restart,
    parse_security_opt,
    parse_signal,
    parse_sysctl,
    parse_tmpfs,
    parse_ulimit,
    parse_user,
    parse_volume,
    read_label_file,
    security_settings,
)
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", 100),
        ("100b", 100),
        ("1k", 1024),
        ("1K", 1024),
        ("512m", 512 << 20),
        ("20M", 20 << 20),
        ("1g", 1 << 30),
        ("1G", 1 << 30),
        ("1gb", 1 << 30),
        ("1GiB", 1 << 30),
        ("1.5g", 3 << 29),
        ("2 m", 2 << 20),
        ("1t", 1 << 40),
    ],
)
def test_parse_bytes(text: str, expected: int) -> None:
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["abc", "", "-1", "1x", "m", "1.2.3g", "1 gg"])
def test_parse_bytes_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_bytes(text)
    assert str(e.value) == (
        f'invalid --memory "{text}": use a number with an optional unit b, k, m or g'
    )


def test_parse_bytes_unlimited_only_where_allowed() -> None:
    assert parse_bytes("-1", "--memory-swap", allow_unlimited=True) == -1
    with pytest.raises(InvalidArgument, match=r'^invalid --shm-size "-1"'):
        parse_bytes("-1", "--shm-size")


@given(st.integers(min_value=0, max_value=1 << 40), st.sampled_from(["", "k", "m", "g"]))
def test_parse_bytes_property(n: int, unit: str) -> None:
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]
    assert parse_bytes(f"{n}{unit}") == n * scale
    assert parse_bytes(f"{n}{unit.upper()}") == n * scale


@pytest.mark.parametrize(
    ("text", "nano"),
    [("1", 10**9), ("1.5", 1_500_000_000), ("0.01", 10**7), ("2.000000001", 2_000_000_001)],
)
def test_parse_cpus(text: str, nano: int) -> None:
    assert parse_cpus(text) == nano


@pytest.mark.parametrize("text", ["0", "-1", "0.0"])
def test_parse_cpus_must_be_positive(text: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_cpus(text)
    assert str(e.value) == "--cpus must be greater than 0"


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "0.0000000001"])
def test_parse_cpus_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument, match=rf'^invalid --cpus "{text}"'):
        parse_cpus(text)


def test_parse_ulimit() -> None:
    assert parse_ulimit("nofile=1024") == Ulimit("nofile", 1024, 1024)
    assert parse_ulimit("nofile=1024:2048") == Ulimit("nofile", 1024, 2048)
    assert parse_ulimit("core=-1") == Ulimit("core", -1, -1)
    assert parse_ulimit("nproc=10:-1") == Ulimit("nproc", 10, -1)
    assert parse_ulimit("nofile=1").rlimit_type == "RLIMIT_NOFILE"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("nofile", "use NAME=SOFT"),
        ("bogus=1", "unknown limit 'bogus'"),
        ("nofile=1:2:3", "at most two limits"),
        ("nofile=a", "whole numbers"),
        ("nofile=2048:1024", "soft limit must not exceed the hard limit"),
    ],
)
def test_parse_ulimit_rejects(text: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match=rf'^invalid --ulimit "{text}": .*{why}'):
        parse_ulimit(text)


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("no", RestartPolicy("no", 0)),
        ("always", RestartPolicy("always", 0)),
        ("unless-stopped", RestartPolicy("unless-stopped", 0)),
        ("on-failure", RestartPolicy("on-failure", 0)),
        ("on-failure:3", RestartPolicy("on-failure", 3)),
    ],
)
def test_parse_restart(text: str, policy: RestartPolicy) -> None:
    assert parse_restart(text) == policy


@pytest.mark.parametrize("text", ["sometimes", "always:3", "on-failure:-1", "on-failure:x", ""])
def test_parse_restart_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument, match=rf'^invalid --restart "{text}"'):
        parse_restart(text)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("30s", 30 * 10**9),
        ("1m30s", 90 * 10**9),
        ("500ms", 500 * 10**6),
        ("1h", 3600 * 10**9),
        ("1.5s", 1_500_000_000),
        ("0", 0),
        ("10us", 10_000),
        ("2h45m", (2 * 3600 + 45 * 60) * 10**9),
    ],
)
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["30", "abc", "", "1d", "s", "1s2"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_duration(text, "--health-timeout")
    assert str(e.value) == (
        f'invalid --health-timeout "{text}": use a duration with a unit, e.g. 30s, 1m30s, 500ms '
        "or 1h"
    )


def test_parse_duration_negative() -> None:
    with pytest.raises(InvalidArgument, match="cannot be negative"):
        parse_duration("-1s")


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_parse_duration_property(h: int, m: int, s: int, ms: int) -> None:
    expected = ((h * 60 + m) * 60 + s) * 10**9 + ms * 10**6
    assert parse_duration(f"{h}h{m}m{s}s{ms}ms") == expected


def test_parse_signal() -> None:
    assert parse_signal("SIGTERM") == 15
    assert parse_signal("term") == 15
    assert parse_signal("KILL") == 9
    assert parse_signal("10") == 10
    for bad in ("SIGFOO", "0", "999", ""):
        with pytest.raises(InvalidArgument, match=rf'^invalid --stop-signal "{bad}"'):
            parse_signal(bad)


def test_parse_cpuset() -> None:
    assert parse_cpuset("0-3,5") == "0-3,5"
    assert parse_cpuset("1") == "1"
    for bad in ("a", "3-1", "1,,2", "-1"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --cpuset-cpus "{bad}"'):
            parse_cpuset(bad)


def test_parse_user() -> None:
    assert parse_user("nobody") == UserSpec("nobody")
    assert parse_user("1000:1000") == UserSpec("1000", "1000")
    assert str(parse_user("www-data:adm")) == "www-data:adm"
    for bad in ("", ":1", "a:", "a b", "a:b:c"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --user "{bad}"'):
            parse_user(bad)


def test_security_opts() -> None:
    assert parse_security_opt("no-new-privileges") == SecurityOpt("no-new-privileges", "true")
    assert parse_security_opt("no-new-privileges:false").value == "false"
    assert parse_security_opt("no-new-privileges=true").value == "true"
    assert parse_security_opt("seccomp=unconfined") == SecurityOpt("seccomp", "unconfined")
    settings = security_settings(
        parse_security_opt(t) for t in ("no-new-privileges", "seccomp=/etc/p.json", "label=disable")
    )
    assert settings.no_new_privileges
    assert settings.seccomp == "/etc/p.json"
    assert len(settings.warnings) == 1 and "label=disable" in settings.warnings[0]
    for bad in ("bogus", "seccomp", "no-new-privileges=maybe"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --security-opt "{bad}"'):
            parse_security_opt(bad)


def test_normalize_capabilities() -> None:
    assert normalize_capabilities(["NET_ADMIN", "net_raw", "CAP_SYS_ADMIN", "cap_net_admin"]) == (
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_SYS_ADMIN",
    )
    assert normalize_capabilities(["all"]) == ("ALL",)
    with pytest.raises(InvalidArgument) as e:
        normalize_capabilities(["FLY"], "--cap-drop")
    assert str(e.value).startswith('invalid --cap-drop "FLY": unknown capability')


def test_parse_network() -> None:
    assert parse_network("none") == NetworkMode("none")
    assert parse_network("host") == NetworkMode("host")
    assert parse_network("default") == NetworkMode("bridge")
    assert parse_network("container:web") == NetworkMode("container", "web")
    assert str(parse_network("container:web")) == "container:web"
    assert parse_network("backend") == NetworkMode("network", "backend")
    for bad in ("container:", "a b", "-x"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --network "{bad}"'):
            parse_network(bad)


def test_labels(tmp_path: Path) -> None:
    assert parse_label("a=b=c") == ("a", "b=c")
    assert parse_label("flag") == ("flag", "")
    with pytest.raises(InvalidArgument, match="needs a name"):
        parse_label("=x")
    path = tmp_path / "labels"
    path.write_text("# comment\n\ncom.example=1\n  spaced=yes\nempty\n", encoding="utf-8")
    assert read_label_file(path) == [("com.example", "1"), ("spaced", "yes"), ("empty", "")]
    with pytest.raises(InvalidArgument, match="no such file"):
        read_label_file(tmp_path / "missing")


def test_parse_add_host() -> None:
    assert parse_add_host("db:10.0.0.2") == ("db", "10.0.0.2")
    assert parse_add_host("db=10.0.0.2") == ("db", "10.0.0.2")
    assert parse_add_host("v6:::1") == ("v6", "::1")
    assert parse_add_host("v6=[::1]") == ("v6", "::1")
    assert parse_add_host("gw:host-gateway") == ("gw", "host-gateway")
    for bad in ("db", "db:notanip", ":1.2.3.4"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --add-host "{bad}"'):
            parse_add_host(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080:80", [PortBinding("", 8080, 80)]),
        ("127.0.0.1:8080:80", [PortBinding("127.0.0.1", 8080, 80)]),
        ("8080:80/udp", [PortBinding("", 8080, 80, "udp")]),
        ("80", [PortBinding("", 0, 80)]),
        ("127.0.0.1::80", [PortBinding("127.0.0.1", 0, 80)]),
        ("[::1]:80:80", [PortBinding("::1", 80, 80)]),
        (
            "8000-8002:9000-9002",
            [PortBinding("", 8000 + i, 9000 + i) for i in range(3)],
        ),
        ("7000-7001", [PortBinding("", 0, 7000), PortBinding("", 0, 7001)]),
    ],
)
def test_parse_publish(text: str, expected: list[PortBinding]) -> None:
    assert parse_publish(text) == expected


@pytest.mark.parametrize(
    "text", ["99999:80", "a:b", "8000-8002:80-81", "80/icmp", "1:2:3:4", "x.y:80:80", "0", "80-70"]
)
def test_parse_publish_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument, match=rf'^invalid -p "{text}"'):
        parse_publish(text)


def test_parse_expose() -> None:
    assert parse_expose("80") == ["80/tcp"]
    assert parse_expose("53/udp") == ["53/udp"]
    assert parse_expose("80-81") == ["80/tcp", "81/tcp"]


def test_parse_volume() -> None:
    assert parse_volume("/host:/ctr") == MountSpec("bind", "/host", "/ctr")
    assert parse_volume("/host:/ctr:ro") == MountSpec("bind", "/host", "/ctr", readonly=True)
    assert parse_volume("/h:/c:ro,rshared,Z") == MountSpec(
        "bind", "/h", "/c", readonly=True, propagation="rshared", selinux_relabel="Z"
    )
    assert parse_volume("data:/var/lib/data") == MountSpec("volume", "data", "/var/lib/data")
    assert parse_volume("data:/d:nocopy").nocopy
    assert parse_volume("/anon") == MountSpec("volume", "", "/anon")


def test_parse_volume_relative_host_path() -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_volume("./x:/y")
    assert str(e.value) == 'invalid -v "./x:/y": the host path must be absolute (or a volume name)'


@pytest.mark.parametrize(
    "text", ["rel", "/h:rel", "/h:/", "/h:/c:ro,rw", "/h:/c:bogus", "a:/c", "/h:/c:nocopy", ":/c"]
)
def test_parse_volume_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument, match=rf'^invalid -v "{text}"'):
        parse_volume(text)


def test_parse_mount() -> None:
    assert parse_mount("type=bind,source=/h,target=/c,readonly") == MountSpec(
        "bind", "/h", "/c", readonly=True
    )
    assert parse_mount("type=bind,src=/h,dst=/c,ro=false,bind-propagation=rslave") == MountSpec(
        "bind", "/h", "/c", propagation="rslave"
    )
    assert parse_mount("source=vol,destination=/data,volume-opt=type=tmpfs") == MountSpec(
        "volume", "vol", "/data", volume_options=(("type", "tmpfs"),)
    )
    assert parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770") == MountSpec(
        "tmpfs", "", "/t", tmpfs_size=64 << 20, tmpfs_mode=0o1770
    )


@pytest.mark.parametrize(
    "text",
    [
        "type=bind,target=/c",
        "type=bind,source=rel,target=/c",
        "type=nfs,target=/c",
        "type=volume,source=/abs,target=/c",
        "type=tmpfs,source=x,target=/c",
        "type=volume,target=rel",
        "type=bind,source=/h",
        "type=volume,target=/c,tmpfs-size=1m",
        "type=bind,source=/h,target=/c,readonly=maybe",
        "type=bind,source=/h,target=/c,colour=blue",
        "type=tmpfs,target=/c,tmpfs-mode=9",
    ],
)
def test_parse_mount_rejects(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r'^invalid --mount "'):
        parse_mount(text)


def test_parse_tmpfs() -> None:
    assert parse_tmpfs("/run") == ("/run", "")
    assert parse_tmpfs("/run:rw,size=64m,mode=1777,noexec") == (
        "/run",
        "rw,size=64m,mode=1777,noexec",
    )
    for bad in ("run", "/run:size=abc", "/run:bogus", "/run:mode=999"):
        with pytest.raises(InvalidArgument):
            parse_tmpfs(bad)


def test_parse_device() -> None:
    assert parse_device("/dev/fuse") == DeviceMapping("/dev/fuse", "/dev/fuse", "rwm")
    assert parse_device("/dev/sda:/dev/xvda") == DeviceMapping("/dev/sda", "/dev/xvda", "rwm")
    assert parse_device("/dev/sda:r") == DeviceMapping("/dev/sda", "/dev/sda", "r")
    assert parse_device("/dev/sda:/dev/x:rw") == DeviceMapping("/dev/sda", "/dev/x", "rw")
    for bad in ("dev/x", "/dev/x:/dev/y:rwx", "/dev/x:rel", "/a:/b:r:w"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --device "{bad}"'):
            parse_device(bad)


def test_parse_int() -> None:
    assert parse_int("512", "--cpu-shares") == 512
    assert parse_int("-1", "--pids-limit") == -1
    for bad in ("1_000", " 5", "٣", "1.5", "", "x"):
        with pytest.raises(InvalidArgument) as e:
            parse_int(bad, "--cpu-shares")
        assert str(e.value) == f'invalid --cpu-shares "{bad}": use a whole number'
    with pytest.raises(InvalidArgument, match="at least 0"):
        parse_int("-5", "--cpu-shares", minimum=0)


def test_parse_sysctl() -> None:
    assert parse_sysctl("net.core.somaxconn=1024") == ("net.core.somaxconn", "1024")
    assert parse_sysctl("kernel.msgmax=") == ("kernel.msgmax", "")
    for bad in ("net", "net.core.somaxconn", "../x=1", "net..x=1"):
        with pytest.raises(InvalidArgument, match=rf'^invalid --sysctl "{re.escape(bad)}"'):
            parse_sysctl(bad)


@pytest.mark.parametrize("text", ["٣", "1_000", "²"])
def test_only_ascii_digits(text: str) -> None:
    for parse in (parse_cpus, parse_signal, parse_cpuset, parse_restart, parse_duration):
        with pytest.raises(InvalidArgument):
            parse(text if parse is not parse_restart else f"on-failure:{text}")
    with pytest.raises(InvalidArgument):
        parse_ulimit(f"nofile={text}")
