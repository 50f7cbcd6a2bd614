"""RUN --mount specifications, as BuildKit's runmount parser accepts and refuses them."""

from __future__ import annotations

import pytest

from dockyard.build.dockerfile import DockerfileError, Run, parse
from dockyard.build.dockerfile.mounts import MountError, MountType, RunMount, Sharing, parse_mount


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("target=/src", RunMount(target="/src")),
        ("type=bind,source=.,target=/src,rw", RunMount(source=".", target="/src", readonly=False)),
        ("from=build,src=/out,dst=/in", RunMount(from_="build", source="/out", target="/in")),
        (
            "type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1000,gid=1000",
            RunMount(
                type=MountType.CACHE,
                target="/root/.cache",
                readonly=False,
                id="pip",
                sharing=Sharing.LOCKED,
                mode=0o755,
                uid=1000,
                gid=1000,
            ),
        ),
        ("type=cache,target=/c,ro", RunMount(type=MountType.CACHE, target="/c", readonly=True)),
        (
            "type=tmpfs,target=/tmp,size=64m",
            RunMount(type=MountType.TMPFS, target="/tmp", readonly=False, size=64 << 20),
        ),
        (
            "type=secret,id=aws,target=/aws,required",
            RunMount(type=MountType.SECRET, id="aws", target="/aws", required=True),
        ),
        ("type=ssh", RunMount(type=MountType.SSH)),
        ('"source=a,b",target=/a', RunMount(source="a,b", target="/a")),
        ("TYPE=CACHE,Target=/x", RunMount(type=MountType.CACHE, target="/x", readonly=False)),
    ],
)
def test_parse(spec: str, expected: RunMount) -> None:
    assert parse_mount(spec) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("type=volume,target=/x", "unsupported mount type 'volume'"),
        ("type=cache,target=/x,sharing=maybe", "unsupported sharing value"),
        ("target=/x,color=red", "unexpected key 'color'"),
        ("target=/x,required", "must be a key=value pair"),
        ("target=/x,size=1g", "unexpected key 'size' for mount type 'bind'"),
        ("target=/x,mode=0644", "mode not allowed for 'bind'"),
        ("type=cache,target=/x,mode=9", "invalid value 9 for mode"),
        ("type=cache,target=/x,uid=-1", "invalid value -1 for uid"),
        ("target=/x,ro=perhaps", "invalid value for ro"),
        ("type=secret", "give one of id, source or target"),
        ("type=secret,id=a,src=b", "source or id, not both"),
        ("type=secret,id=a,from=b", "should not have a from"),
        ("type=bind,target=/x,sharing=shared", "sharing is only for cache mounts"),
        ("type=cache", "needs target=PATH"),
        ("", "failed to parse mount"),
    ],
)
def test_errors(spec: str, fragment: str) -> None:
    with pytest.raises(MountError, match=fragment):
        parse_mount(spec)


def test_values_are_substituted_when_env_is_given() -> None:
    mount = parse_mount("type=cache,target=$HOME/.cache,id=${ID:-x}", {"HOME": "/root"})
    assert (mount.target, mount.id) == ("/root/.cache", "x")


def test_parser_checks_mounts_without_variables() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: unsupported mount type"):
        parse("FROM a\nRUN --mount=type=nfs,target=/x make\n")
    run = parse("FROM a\nRUN --mount=type=$T,target=/x make\n").instructions[1]
    assert isinstance(run, Run) and run.mounts == ("type=$T,target=/x",)


@pytest.mark.parametrize("size", ["1.2.3", "9" * 400, "big", ""])
def test_bad_tmpfs_size(size: str) -> None:
    with pytest.raises(MountError, match="invalid value for size"):
        parse_mount(f"type=tmpfs,target=/t,size={size}")
