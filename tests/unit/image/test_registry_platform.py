"""Platforms: host detection from `uname -m`, `--platform` parsing, choosing from an index."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image.platform import Platform, host_platform, parse_platform, select_manifest
from dockyard.oci.image_spec import OCI_MANIFEST, Descriptor, Index


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("x86_64", "linux/amd64"),
        ("aarch64", "linux/arm64/v8"),
        ("armv7l", "linux/arm/v7"),
        ("armv6l", "linux/arm/v6"),
        ("i686", "linux/386"),
        ("ppc64le", "linux/ppc64le"),
        ("s390x", "linux/s390x"),
        ("riscv64", "linux/riscv64"),
    ],
)
def test_host_platform(machine: str, expected: str) -> None:
    assert str(host_platform(machine)) == expected


def test_host_platform_of_this_machine() -> None:
    assert host_platform().os == "linux"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
        ("linux/arm64", Platform("linux", "arm64", "v8")),
        ("linux/amd64", Platform("linux", "amd64")),
        ("linux/amd64/v1", Platform("linux", "amd64")),
        ("linux/amd64/v3", Platform("linux", "amd64", "v3")),
        ("Linux/x86_64", Platform("linux", "amd64")),
        ("linux/arm", Platform("linux", "arm", "v7")),
        ("linux/arm/v6", Platform("linux", "arm", "v6")),
        ("arm64", Platform("linux", "arm64", "v8")),
    ],
)
def test_parse_platform(text: str, expected: Platform) -> None:
    assert parse_platform(text) == expected


@pytest.mark.parametrize("text", ["", "linux/", "/amd64", "a/b/c/d", "linux//v7"])
def test_parse_platform_errors(text: str) -> None:
    with pytest.raises(InvalidArgument, match="expected os/arch"):
        parse_platform(text)


def _entry(n: int, os: str, arch: str, variant: str | None = None) -> Descriptor:
    platform = {"os": os, "architecture": arch} | ({"variant": variant} if variant else {})
    return {
        "mediaType": OCI_MANIFEST,
        "digest": f"sha256:{n:064x}",
        "size": 1,
        "platform": platform,  # type: ignore[typeddict-item]
    }


INDEX: Index = {
    "schemaVersion": 2,
    "manifests": [
        _entry(1, "linux", "amd64"),
        _entry(2, "linux", "arm", "v6"),
        _entry(3, "linux", "arm", "v7"),
        _entry(4, "linux", "arm64", "v8"),
        _entry(5, "unknown", "unknown"),
        _entry(6, "windows", "amd64"),
    ],
}


@pytest.mark.parametrize(
    ("want", "chosen"),
    [
        ("linux/amd64", 1),
        ("linux/arm64", 4),
        ("linux/arm/v7", 3),
        ("linux/arm/v6", 2),
        ("linux/arm/v8", 3),  # an armv8 in 32-bit mode runs v7 code, the best on offer
        ("windows/amd64", 6),
    ],
)
def test_select_manifest(want: str, chosen: int) -> None:
    assert select_manifest(INDEX, parse_platform(want))["digest"] == f"sha256:{chosen:064x}"


def test_select_prefers_exact_variant_and_accepts_missing_variant() -> None:
    index: Index = {
        "schemaVersion": 2,
        "manifests": [_entry(1, "linux", "amd64"), _entry(2, "linux", "amd64", "v3")],
    }
    assert select_manifest(index, parse_platform("linux/amd64/v3"))["digest"].endswith("2")
    index["manifests"].pop()
    assert select_manifest(index, parse_platform("linux/amd64/v3"))["digest"].endswith("1")
    # arm64 without a variant is arm64/v8 (containerd's normalisation): the first one wins.
    index = {
        "schemaVersion": 2,
        "manifests": [_entry(3, "linux", "arm64"), _entry(4, "linux", "arm64", "v8")],
    }
    assert select_manifest(index, parse_platform("linux/arm64"))["digest"].endswith("3")


def test_select_names_what_is_available() -> None:
    with pytest.raises(NotFound, match=r"linux/s390x.*available: linux/amd64, linux/arm/v6"):
        select_manifest(INDEX, parse_platform("linux/s390x"))
    with pytest.raises(NotFound, match="linux/arm/v5"):
        select_manifest(INDEX, parse_platform("linux/arm/v5"))
