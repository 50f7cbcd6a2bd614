"""Typed ctypes wrappers over the host's libseccomp.so.2 (the 2.5 API).

The library is loaded only when a `Libseccomp` is constructed, so importing this module costs
nothing on hosts or containers without seccomp. libseccomp returns `-errno`; every failure here
is an `OSError` carrying that errno.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from dockyard.errors import Unavailable

LIBSECCOMP = "libseccomp.so.2"

# Filter actions (seccomp.h). SCMP_ACT_KILL is the thread-killing action of old.
SCMP_ACT_KILL_PROCESS = 0x80000000
SCMP_ACT_KILL_THREAD = 0x00000000
SCMP_ACT_KILL = SCMP_ACT_KILL_THREAD
SCMP_ACT_TRAP = 0x00030000
SCMP_ACT_NOTIFY = 0x7FC00000
SCMP_ACT_LOG = 0x7FFC0000
SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_ERRNO = 0x00050000
_SCMP_ACT_TRACE = 0x7FF00000

# seccomp_syscall_resolve_name() answer for a name no architecture knows.
_NR_SCMP_ERROR = -1

# The kernel passes at most six arguments to a system call.
MAX_SYSCALL_ARGS = 6


def act_errno(errno_ret: int) -> int:
    """SCMP_ACT_ERRNO(x): fail the call with errno `errno_ret`."""
    return _SCMP_ACT_ERRNO | (errno_ret & 0xFFFF)


def act_trace(msg: int) -> int:
    """SCMP_ACT_TRACE(x): notify a ptrace tracer with event message `msg`."""
    return _SCMP_ACT_TRACE | (msg & 0xFFFF)


class Compare(enum.IntEnum):
    """enum scmp_compare: how a rule compares one system call argument."""

    NE = 1
    LT = 2
    LE = 3
    EQ = 4
    GE = 5
    GT = 6
    MASKED_EQ = 7


class FilterAttr(enum.IntEnum):
    """enum scmp_filter_attr: the filter attributes seccomp_attr_set() can change."""

    ACT_DEFAULT = 1
    ACT_BADARCH = 2
    CTL_NNP = 3
    CTL_TSYNC = 4
    API_TSKIP = 5
    CTL_LOG = 6
    CTL_SSB = 7
    CTL_OPTIMIZE = 8
    API_SYSRAWRC = 9


@dataclass(frozen=True)
class ArgCmp:
    """One argument comparison; for MASKED_EQ `datum_a` is the mask and `datum_b` the value."""

    arg: int
    op: Compare
    datum_a: int
    datum_b: int = 0


class _ScmpArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _check(ret: int, op: str) -> int:
    if ret < 0:
        raise OSError(-ret, f"{op}: {os.strerror(-ret)}")
    return ret


class Libseccomp:
    """The loaded library; construct one only when a container actually has a seccomp profile."""

    def __init__(self, name: str = LIBSECCOMP) -> None:
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            raise Unavailable(
                f"cannot load {name}: install libseccomp2, and load it before pivot_root"
            ) from exc
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        lib.seccomp_release.restype = None
        lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.seccomp_arch_add.restype = ctypes.c_int
        lib.seccomp_arch_native.argtypes = []
        lib.seccomp_arch_native.restype = ctypes.c_uint32
        lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
        lib.seccomp_rule_add_array.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ScmpArgCmp),
        ]
        lib.seccomp_rule_add_array.restype = ctypes.c_int
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        lib.seccomp_attr_set.restype = ctypes.c_int
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_load.restype = ctypes.c_int
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.seccomp_export_bpf.restype = ctypes.c_int
        self._lib = lib

    def arch_native(self) -> int:
        """The audit architecture token of this process (SCMP_ARCH_NATIVE resolved)."""
        return int(self._lib.seccomp_arch_native())

    def arch_resolve_name(self, name: str) -> int | None:
        """Token of a libseccomp architecture name ("x86_64", "x32", "aarch64"), or None."""
        token = int(self._lib.seccomp_arch_resolve_name(name.encode()))
        return token or None

    def syscall_resolve_name(self, name: str) -> int | None:
        """Number of a system call on the native architecture, or None if libseccomp lacks it.

        Calls that exist only on another architecture resolve to a negative pseudo-number that
        rules accept and translate per architecture of the filter.
        """
        nr = int(self._lib.seccomp_syscall_resolve_name(name.encode()))
        return None if nr == _NR_SCMP_ERROR else nr

    def new_filter(self, default_action: int) -> SeccompFilter:
        """seccomp_init(): a filter for the native architecture with `default_action`."""
        ctx = self._lib.seccomp_init(default_action)
        if not ctx:
            # seccomp_init() only fails on a bad action or no memory, and reports neither.
            raise OSError(errno.EINVAL, f"seccomp_init: bad default action {default_action:#x}")
        return SeccompFilter(self._lib, ctx)


class SeccompFilter:
    """A libseccomp filter context; a context manager that releases it on exit."""

    def __init__(self, lib: ctypes.CDLL, ctx: int) -> None:
        self._lib = lib
        self._ctx: int | None = ctx

    def _handle(self) -> int:
        if self._ctx is None:
            raise OSError(errno.EBADF, "seccomp filter already released")
        return self._ctx

    def arch_add(self, token: int) -> None:
        """seccomp_arch_add(); EEXIST if the filter already has the architecture."""
        _check(self._lib.seccomp_arch_add(self._handle(), token), f"seccomp_arch_add {token:#x}")

    def attr_set(self, attr: FilterAttr, value: int) -> None:
        """seccomp_attr_set()."""
        ret = self._lib.seccomp_attr_set(self._handle(), int(attr), value)
        _check(ret, f"seccomp_attr_set {attr.name}")

    def rule_add(self, action: int, syscall: int, args: Sequence[ArgCmp] = ()) -> None:
        """seccomp_rule_add_array(): `action` when `syscall` is made and all `args` match."""
        array = (_ScmpArgCmp * max(len(args), 1))()
        for i, cmp in enumerate(args):
            array[i] = _ScmpArgCmp(cmp.arg, int(cmp.op), cmp.datum_a, cmp.datum_b)
        ret = self._lib.seccomp_rule_add_array(self._handle(), action, syscall, len(args), array)
        _check(ret, f"seccomp_rule_add syscall {syscall}")

    def load(self) -> None:
        """seccomp_load(): install the filter on the calling thread (or all, with TSYNC)."""
        _check(self._lib.seccomp_load(self._handle()), "seccomp_load")

    def export_bpf(self, fd: int) -> None:
        """seccomp_export_bpf(): write the compiled BPF program to `fd`."""
        _check(self._lib.seccomp_export_bpf(self._handle(), fd), "seccomp_export_bpf")

    def release(self) -> None:
        """seccomp_release(); a loaded filter stays in the kernel."""
        if self._ctx is not None:
            self._lib.seccomp_release(self._ctx)
            self._ctx = None

    def __enter__(self) -> SeccompFilter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
