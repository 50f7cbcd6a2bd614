"""Linux capabilities of the container process: the name table, parsing, and applying them.

`parse_capabilities` turns runtime-spec `process.capabilities` into five bitmasks (pure);
`apply_capabilities` makes the init process hold exactly those (through the `Syscall` seam).
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument, KernelError, Unavailable
from dockyard.kernel import constants as k
from dockyard.kernel.syscall import Syscall

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Capabilities


# linux/capability.h, in number order: CAPABILITY_NAMES[n] is capability n.
CAPABILITY_NAMES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

CAP_LAST_KNOWN = len(CAPABILITY_NAMES) - 1
_CAP_SETPCAP = 8

# Docker's default capability set (moby oci/caps/defaults.go), in Docker's order.
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

CAP_LAST_CAP_PATH = Path("/proc/sys/kernel/cap_last_cap")

_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def capability_number(name: str) -> int:
    """The number of capability `name` ("CAP_KILL" → 5); InvalidArgument if unknown."""
    try:
        return CAPABILITY_NAMES.index(name)
    except ValueError:
        raise InvalidArgument(
            f"unknown capability {name!r}: use a CAP_* name from capabilities(7), e.g. CAP_CHOWN"
        ) from None


def capability_names(mask: int) -> list[str]:
    """The names of the capabilities set in `mask`, in number order."""
    return [name for n, name in enumerate(CAPABILITY_NAMES) if mask >> n & 1]


def read_last_cap(path: Path = CAP_LAST_CAP_PATH) -> int:
    """The highest capability number the running kernel knows."""
    try:
        return int(path.read_text().strip())
    except FileNotFoundError:
        raise Unavailable(f"{path} is missing: mount procfs at /proc") from None


@dataclass(frozen=True)
class CapabilitySets:
    """The five capability sets as bitmasks, and the kernel's highest capability number."""

    bounding: int = 0
    effective: int = 0
    inheritable: int = 0
    permitted: int = 0
    ambient: int = 0
    last_cap: int = CAP_LAST_KNOWN


def _mask(names: object, field: str, last_cap: int) -> int:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidArgument(f"process.capabilities.{field} must be a list of CAP_* names")
    mask = 0
    for name in names:
        number = capability_number(name)
        # runc skips capabilities the running kernel does not know instead of failing.
        if number <= last_cap:
            mask |= 1 << number
    return mask


def parse_capabilities(caps: Capabilities | None, last_cap: int | None = None) -> CapabilitySets:
    """Runtime-spec `process.capabilities` → bitmasks; unknown names raise InvalidArgument.

    Known names above the kernel's `last_cap` (read from procfs when None) are skipped.
    """
    if last_cap is None:
        last_cap = read_last_cap()
    raw: Mapping[str, object] = caps or {}
    masks = {field: _mask(raw.get(field, []), field, last_cap) for field in _SETS}
    return CapabilitySets(
        bounding=masks["bounding"],
        effective=masks["effective"],
        inheritable=masks["inheritable"],
        permitted=masks["permitted"],
        ambient=masks["ambient"],
        last_cap=last_cap,
    )


def apply_capabilities(sys: Syscall, caps: CapabilitySets) -> None:
    """Make the calling process hold exactly `caps`.

    Call it in the container's init after setresuid/setresgid done under PR_SET_KEEPCAPS:
    bounding drops first (they need CAP_SETPCAP, which capset may then remove), then capset,
    then the ambient set (each ambient cap must already be permitted and inheritable).
    """
    try:
        effective, permitted, inheritable = sys.capget()
        # setresuid() to a non-zero uid clears the effective set even under PR_SET_KEEPCAPS;
        # raise it back from the kept permitted set so the bounding drops may use CAP_SETPCAP.
        if not effective >> _CAP_SETPCAP & 1 and permitted >> _CAP_SETPCAP & 1:
            sys.capset(permitted, permitted, inheritable)
    except OSError as exc:
        raise _kernel_error("regain effective capabilities", "process", exc) from exc
    for number in range(caps.last_cap + 1):
        if caps.bounding >> number & 1:
            continue
        try:
            sys.prctl(k.PR_CAPBSET_DROP, number)
        except OSError as exc:
            raise _kernel_error("drop from bounding set", _name(number), exc) from exc
    try:
        sys.capset(caps.effective, caps.permitted, caps.inheritable)
    except OSError as exc:
        raise _kernel_error("capset", "process capabilities", exc) from exc
    try:
        sys.prctl(k.PR_CAP_AMBIENT, k.PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError as exc:
        raise _kernel_error("clear ambient set", "process capabilities", exc) from exc
    for number in range(caps.last_cap + 1):
        if not caps.ambient >> number & 1:
            continue
        try:
            sys.prctl(k.PR_CAP_AMBIENT, k.PR_CAP_AMBIENT_RAISE, number)
        except OSError as exc:
            raise _kernel_error(
                "raise ambient", _name(number), exc, "it must be permitted and inheritable"
            ) from exc


def _name(number: int) -> str:
    return CAPABILITY_NAMES[number] if number <= CAP_LAST_KNOWN else f"capability {number}"


def _kernel_error(op: str, what: str, exc: OSError, detail: str = "") -> KernelError:
    return KernelError(op, what, exc.errno or errno.EIO, detail)
