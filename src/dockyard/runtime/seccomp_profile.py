"""Docker-format seccomp profiles (moby `profiles/seccomp`) → plain runtime-spec seccomp objects.

Docker's profile has conditional rules (`includes`/`excludes` on capabilities, architectures and
kernel versions) and an `archMap`; `docker_profile_to_spec` resolves them for one container, as
moby's `setupSeccomp` does, so the runtime only ever sees the runtime-spec shape.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Set
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

from dockyard.errors import InvalidArgument

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Seccomp, SeccompArg, SeccompSyscall


DEFAULT_PROFILE = "seccomp-default.json"

# Docker's architecture names (Go's GOARCH spelled as libseccomp does) → SCMP_ARCH_*.
DOCKER_ARCHES: Mapping[str, str] = {
    "x86": "SCMP_ARCH_X86",
    "amd64": "SCMP_ARCH_X86_64",
    "x32": "SCMP_ARCH_X32",
    "arm": "SCMP_ARCH_ARM",
    "arm64": "SCMP_ARCH_AARCH64",
    "mips64": "SCMP_ARCH_MIPS64",
    "mips64n32": "SCMP_ARCH_MIPS64N32",
    "mipsel64": "SCMP_ARCH_MIPSEL64",
    "mipsel64n32": "SCMP_ARCH_MIPSEL64N32",
    "mipsel": "SCMP_ARCH_MIPSEL",
    "ppc": "SCMP_ARCH_PPC",
    "ppc64": "SCMP_ARCH_PPC64",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390": "SCMP_ARCH_S390",
    "s390x": "SCMP_ARCH_S390X",
    "riscv64": "SCMP_ARCH_RISCV64",
}

# uname(2) machine → Docker's architecture name.
_MACHINES: Mapping[str, str] = {
    "x86_64": "amd64",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "mips64": "mips64",
}

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def native_arch() -> str:
    """This machine's architecture in Docker's spelling ("amd64", "arm64", …)."""
    machine = os.uname().machine
    return _MACHINES.get(machine, machine)


def kernel_version(release: str | None = None) -> tuple[int, int, int]:
    """(major, minor, patch) of a kernel release string, by default the running kernel's."""
    release = release or os.uname().release
    match = _VERSION.match(release)
    if match is None:
        raise InvalidArgument(f"kernel version {release!r} is not MAJOR.MINOR[.PATCH]: fix it")
    major, minor, patch = match.groups()
    return (int(major), int(minor), int(patch or 0))


def load_default_profile() -> dict[str, Any]:
    """Docker's default seccomp profile, as shipped in `dockyard/runtime/profiles/`."""
    text = resources.files("dockyard.runtime").joinpath("profiles", DEFAULT_PROFILE).read_text()
    return cast(dict[str, Any], json.loads(text))


def _strings(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"seccomp profile {field} is not a list of strings: fix the profile")
    return value


def _filter(block: object, field: str) -> tuple[list[str], list[str], str]:
    if block is None:
        return [], [], ""
    if not isinstance(block, dict):
        raise InvalidArgument(f"seccomp profile {field} is not an object: fix the profile")
    min_kernel = block.get("minKernel") or ""
    if not isinstance(min_kernel, str):
        raise InvalidArgument(f"seccomp profile {field}.minKernel is not a string: fix the profile")
    return (
        _strings(block.get("caps"), f"{field}.caps"),
        _strings(block.get("arches"), f"{field}.arches"),
        min_kernel,
    )


def _selected(
    call: Mapping[str, Any], field: str, caps: Set[str], arch: str, kernel: tuple[int, int, int]
) -> bool:
    """Whether a Docker rule applies, as moby's setupSeccomp decides."""
    ex_caps, ex_arches, ex_kernel = _filter(call.get("excludes"), f"{field}.excludes")
    in_caps, in_arches, in_kernel = _filter(call.get("includes"), f"{field}.includes")
    if arch in ex_arches or any(c in caps for c in ex_caps):
        return False
    if ex_kernel and kernel >= kernel_version(ex_kernel):
        return False
    if in_arches and arch not in in_arches:
        return False
    # Every included capability must be held, not just one.
    if not all(c in caps for c in in_caps):
        return False
    return not (in_kernel and kernel < kernel_version(in_kernel))


def _syscall(call: Mapping[str, Any], field: str) -> SeccompSyscall:
    name, names = call.get("name"), call.get("names")
    if name and names:
        raise InvalidArgument(f"seccomp profile {field} has both 'name' and 'names': keep one")
    out: SeccompSyscall = {
        "names": [name] if name else _strings(names, f"{field}.names"),
        "action": call.get("action", ""),
    }
    if call.get("errnoRet") is not None:
        out["errnoRet"] = call["errnoRet"]
    if call.get("args"):
        args: list[SeccompArg] = []
        for arg in call["args"]:
            converted: SeccompArg = {"index": arg.get("index", 0), "value": arg.get("value", 0)}
            converted["valueTwo"] = arg.get("valueTwo", 0)
            converted["op"] = arg.get("op", "")
            args.append(converted)
        out["args"] = args
    return out


def docker_profile_to_spec(
    profile: Mapping[str, Any],
    capabilities: Set[str],
    arch: str,
    kernel: tuple[int, int, int] | None = None,
) -> Seccomp:
    """Resolve a Docker seccomp profile for a container with bounding set `capabilities`.

    `arch` is Docker's name of the native architecture ("amd64"); `kernel` defaults to the
    running kernel's version. The result still needs `validate_seccomp`.
    """
    if not isinstance(profile, Mapping):
        raise InvalidArgument("seccomp profile is not a JSON object: fix the profile")
    kernel = kernel or kernel_version()
    architectures = _strings(profile.get("architectures"), "architectures")
    arch_map = profile.get("archMap") or []
    if architectures and arch_map:
        raise InvalidArgument(
            "seccomp profile has both 'architectures' and 'archMap': use one of them"
        )
    spec: Seccomp = {"defaultAction": profile.get("defaultAction", "")}
    if profile.get("defaultErrnoRet") is not None:
        spec["defaultErrnoRet"] = profile["defaultErrnoRet"]
    native = DOCKER_ARCHES.get(arch)
    for entry in arch_map:
        if native is not None and entry.get("architecture") == native:
            architectures = [native, *_strings(entry.get("subArchitectures"), "archMap")]
            break
    if architectures:
        spec["architectures"] = architectures
    flags = _strings(profile.get("flags"), "flags")
    if flags:
        spec["flags"] = flags
    if profile.get("listenerPath"):
        spec["listenerPath"] = profile["listenerPath"]
    syscalls = []
    for i, call in enumerate(profile.get("syscalls") or []):
        field = f"syscalls[{i}]"
        if not isinstance(call, Mapping):
            raise InvalidArgument(f"seccomp profile {field} is not an object: fix the profile")
        if _selected(call, field, capabilities, arch, kernel):
            syscalls.append(_syscall(call, field))
    spec["syscalls"] = syscalls
    return spec
