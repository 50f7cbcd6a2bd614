"""Platforms (os/architecture/variant) in Go's names, and choosing an image from an index.

Normalisation follows containerd's `platforms` package: `aarch64` is `arm64` (variant v8),
`x86_64` is `amd64`, a bare `arm` is `arm/v7`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.image_spec import Descriptor, Index

# `uname -m` (and common aliases) → (GOARCH, variant).
_MACHINE_ARCH: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "amd64": ("amd64", None),
    "i386": ("386", None),
    "i486": ("386", None),
    "i586": ("386", None),
    "i686": ("386", None),
    "386": ("386", None),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv8l": ("arm", "v8"),
    "armv7l": ("arm", "v7"),
    "armhf": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armel": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
    "arm": ("arm", "v7"),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
    "mips64": ("mips64", None),
    "loongarch64": ("loong64", None),
}

# Variants a CPU of this variant can also run, best first (an armv7 runs v6 and v5 code).
_ARM_VARIANTS = ("v8", "v7", "v6", "v5")


@dataclass(frozen=True)
class Platform:
    """An os/architecture[/variant] triple in Go's names, e.g. linux/arm64/v8."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


def normalize(os_name: str, architecture: str, variant: str | None = None) -> Platform:
    """Bring aliases to Go's names (`aarch64` → `arm64/v8`, `x86_64` → `amd64`)."""
    os_name = os_name.lower()
    arch, default_variant = _MACHINE_ARCH.get(architecture.lower(), (architecture.lower(), None))
    # `armv7l` carries its variant in the machine name; an explicit variant still wins.
    variant = (variant or "").lower() or default_variant
    if arch == "arm64" and variant in ("8", None):
        variant = "v8"
    if arch == "amd64" and variant == "v1":
        variant = None
    return Platform(os_name, arch, variant)


def host_platform(machine: str | None = None) -> Platform:
    """The platform of this host (from `uname -m` unless `machine` is given)."""
    return normalize("linux", machine if machine is not None else os.uname().machine)


def parse_platform(text: str) -> Platform:
    """Parse a `--platform` value: `linux/arm64/v8`, `linux/amd64`, or `arm64` (os linux)."""
    parts = text.strip().split("/")
    if not text.strip() or len(parts) > 3 or any(not part for part in parts):
        raise InvalidArgument(
            f"invalid platform {text!r}: expected os/arch[/variant], e.g. linux/arm64/v8"
        )
    if len(parts) == 1:
        return normalize("linux", parts[0])
    return normalize(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def _rank(candidate: Platform, want: Platform) -> int | None:
    """How well `candidate` serves `want`: 0 is exact, larger is worse, None is unusable."""
    if candidate.os != want.os or candidate.architecture != want.architecture:
        return None
    if candidate.variant == want.variant:
        return 0
    if candidate.variant is None:
        return len(_ARM_VARIANTS) + 1
    if want.architecture == "arm" and want.variant in _ARM_VARIANTS:
        runnable = _ARM_VARIANTS[_ARM_VARIANTS.index(want.variant) :]
        if candidate.variant in runnable:
            return runnable.index(candidate.variant)
    return None


def select_manifest(index: Index, want: Platform) -> Descriptor:
    """The index entry that best matches `want`; NotFound lists the platforms on offer."""
    best: tuple[int, int] | None = None
    chosen: Descriptor | None = None
    offered: list[str] = []
    for position, entry in enumerate(index["manifests"]):
        spec = entry.get("platform")
        if spec is None:
            continue
        candidate = normalize(spec["os"], spec["architecture"], spec.get("variant"))
        if candidate.os == "unknown":
            continue  # buildx attestation manifests, not images
        offered.append(str(candidate))
        rank = _rank(candidate, want)
        if rank is not None and (best is None or (rank, position) < best):
            best, chosen = (rank, position), entry
    if chosen is None:
        available = ", ".join(sorted(set(offered))) or "none"
        raise NotFound(
            f"no image for platform {want} in the index (available: {available}): "
            "choose one with --platform"
        )
    return chosen
