"""Durations, sizes, ports and volume syntax."""

from __future__ import annotations

import pytest

from dockyard.compose.model import MountType, PortMapping, PortRange, Protocol, VolumeMount
from dockyard.compose.ports import parse_port
from dockyard.compose.units import parse_duration, parse_size
from dockyard.compose.volumes import parse_volume


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1m30s", 90.0),
        ("10s", 10.0),
        ("1h", 3600.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("2h45m", 9900.0),
        ("100us", 1e-4),
        ("0", 0.0),
        (30, 30.0),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "1x", "m", "1m30", "s10"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 << 20),
        ("1g", 1 << 30),
        ("1gb", 1 << 30),
        ("1GB", 1 << 30),
        ("100k", 100 << 10),
        ("1024", 1024),
        ("10b", 10),
        ("1.5g", 3 << 29),
        (2048, 2048),
    ],
)
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "m", "1x", "-1g", "1 gigabyte"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


def pm(target: int, published: tuple[int, int] | None = None, **kw: object) -> PortMapping:
    return PortMapping(target, None if published is None else PortRange(*published), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # The Compose spec's short-syntax examples (services.ports).
        ("3000", [pm(3000)]),
        ("3000-3002", [pm(3000), pm(3001), pm(3002)]),
        ("8000:8000", [pm(8000, (8000, 8000))]),
        ("9090-9091:8080-8081", [pm(8080, (9090, 9090)), pm(8081, (9091, 9091))]),
        ("49100:22", [pm(22, (49100, 49100))]),
        ("8000-9000:80", [pm(80, (8000, 9000))]),
        ("127.0.0.1:8001:8001", [pm(8001, (8001, 8001), host_ip="127.0.0.1")]),
        ("127.0.0.1::5000", [pm(5000, host_ip="127.0.0.1")]),
        ("6060:6060/udp", [pm(6060, (6060, 6060), protocol=Protocol.UDP)]),
        ("::1:6000:6000", [pm(6000, (6000, 6000), host_ip="::1")]),
        ("[::1]:6001:6001", [pm(6001, (6001, 6001), host_ip="::1")]),
        (80, [pm(80)]),
        (
            {"target": 80, "host_ip": "127.0.0.1", "published": "8080", "protocol": "tcp"},
            [pm(80, (8080, 8080), host_ip="127.0.0.1")],
        ),
        (
            {"target": 53, "published": "5353-5360", "protocol": "udp"},
            [pm(53, (5353, 5360), protocol=Protocol.UDP)],
        ),
    ],
)
def test_ports(spec: object, expected: list[PortMapping]) -> None:
    assert parse_port(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("99999:80", 'invalid port "99999:80": ports are 1-65535'),
        ("80:0", 'invalid port "80:0": ports are 1-65535'),
        ("http:80", "is not a port number"),
        ("80/icmp", "protocol must be tcp, udp or sctp"),
        ("1-3:1-2", "ranges differ in length"),
        ("5-1", "ends before it starts"),
        ({"published": 80}, "target is required"),
        (True, "write HOST:CONTAINER"),
    ],
)
def test_bad_ports(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_port(spec)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/data", VolumeMount(MountType.VOLUME, "/data")),
        ("db:/var/lib/db", VolumeMount(MountType.VOLUME, "/var/lib/db", "db")),
        ("db:/var/lib/db:ro", VolumeMount(MountType.VOLUME, "/var/lib/db", "db", True)),
        ("./cache:/cache", VolumeMount(MountType.BIND, "/cache", "/project/cache")),
        ("../up:/up:rw", VolumeMount(MountType.BIND, "/up", "/up")),
        ("/abs:/abs:ro,rshared", VolumeMount(MountType.BIND, "/abs", "/abs", True, "rshared")),
        (
            {"type": "bind", "source": "./static", "target": "/opt/static", "read_only": True},
            VolumeMount(MountType.BIND, "/opt/static", "/project/static", True),
        ),
        (
            {"type": "volume", "source": "db", "target": "/d", "volume": {"nocopy": True}},
            VolumeMount(MountType.VOLUME, "/d", "db", nocopy=True),
        ),
        (
            {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "64m", "mode": 1777}},
            VolumeMount(MountType.TMPFS, "/t", tmpfs_size=64 << 20, tmpfs_mode=0o1777),
        ),
    ],
)
def test_volumes(spec: object, expected: VolumeMount) -> None:
    assert parse_volume(spec, "/project") == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("db:relative", "container path must be absolute"),
        ("a:/b:c:d", "write \\[SOURCE:\\]TARGET"),
        ("db:/x:bogus", "unknown mode 'bogus'"),
        ({"type": "bind", "target": "/x"}, "needs a source"),
        ({"type": "nfs", "target": "/x"}, "use bind, volume or tmpfs"),
        ({"type": "tmpfs", "source": "x", "target": "/x"}, "takes no source"),
    ],
)
def test_bad_volumes(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_volume(spec, "/project")
