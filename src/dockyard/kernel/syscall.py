"""The `Syscall` seam: every kernel call the runtime makes, behind one protocol.

`LinuxSyscall` is the real implementation; `dockyard.testing.RecordingSyscall` records calls for
unit tests of plans. Every failure is an `OSError` carrying the errno and the path acted on.
"""

from __future__ import annotations

import ctypes
import os
import struct
from typing import Protocol

from dockyard.kernel import constants as k

_libc = ctypes.CDLL(None, use_errno=True)

# x86_64 and aarch64 share these numbers for the newer generic syscalls.
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_SYS_CAPGET = {"x86_64": 125, "aarch64": 90}
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
_SYS_OPENAT2 = 437


def _arch() -> str:
    return os.uname().machine


def _check(ret: int, op: str, path: str = "") -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{op}: {os.strerror(err)}", path or None)
    return ret


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


class Syscall(Protocol):
    """The kernel calls the runtime needs; implementations raise `OSError(errno, msg, path)`."""

    def unshare(self, flags: int) -> None: ...
    def setns(self, fd: int, nstype: int) -> None: ...
    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None: ...
    def umount2(self, target: str, flags: int) -> None: ...
    def pivot_root(self, new_root: str, put_old: str) -> None: ...
    def sethostname(self, name: str) -> None: ...
    def setdomainname(self, name: str) -> None: ...
    def mknod(self, path: str, mode: int, device: int) -> None: ...
    def chown(self, path: str, uid: int, gid: int) -> None: ...
    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int: ...
    def capset(self, effective: int, permitted: int, inheritable: int) -> None: ...
    def capget(self) -> tuple[int, int, int]: ...


class LinuxSyscall:
    """The real kernel."""

    def unshare(self, flags: int) -> None:
        _check(_libc.unshare(ctypes.c_int(flags)), "unshare", hex(flags))

    def setns(self, fd: int, nstype: int) -> None:
        _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns", f"fd {fd}")

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        ret = _libc.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data))
        _check(ret, f"mount {source or fstype or ''}".rstrip(), target)

    def umount2(self, target: str, flags: int) -> None:
        _check(_libc.umount2(_b(target), ctypes.c_int(flags)), "umount", target)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        nr = _SYS_PIVOT_ROOT[_arch()]
        _check(_libc.syscall(ctypes.c_long(nr), _b(new_root), _b(put_old)), "pivot_root", new_root)

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        _check(_libc.sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname", name)

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        _check(_libc.setdomainname(raw, ctypes.c_size_t(len(raw))), "setdomainname", name)

    def mknod(self, path: str, mode: int, device: int) -> None:
        os.mknod(path, mode, device)

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid, follow_symlinks=False)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        ret = _libc.prctl(
            ctypes.c_int(option),
            ctypes.c_ulong(arg2),
            ctypes.c_ulong(arg3),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        )
        return _check(ret, f"prctl({option})")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        header = struct.pack("Ii", k.LINUX_CAPABILITY_VERSION_3, 0)
        data = struct.pack(
            "IIIIII",
            effective & 0xFFFFFFFF,
            permitted & 0xFFFFFFFF,
            inheritable & 0xFFFFFFFF,
            effective >> 32,
            permitted >> 32,
            inheritable >> 32,
        )
        ret = _libc.syscall(ctypes.c_long(_SYS_CAPSET[_arch()]), header, data)
        _check(ret, "capset")

    def capget(self) -> tuple[int, int, int]:
        header = ctypes.create_string_buffer(struct.pack("Ii", k.LINUX_CAPABILITY_VERSION_3, 0))
        data = ctypes.create_string_buffer(24)
        _check(_libc.syscall(ctypes.c_long(_SYS_CAPGET[_arch()]), header, data), "capget")
        e0, p0, i0, e1, p1, i1 = struct.unpack("IIIIII", data.raw)
        return (e1 << 32 | e0, p1 << 32 | p0, i1 << 32 | i0)


def openat2(dirfd: int, path: str, flags: int, mode: int, resolve: int) -> int:
    """openat2(2): open `path` under `dirfd` with RESOLVE_* containment; returns the fd."""
    how = struct.pack("QQQ", flags, mode, resolve)
    ret = _libc.syscall(
        ctypes.c_long(_SYS_OPENAT2), ctypes.c_int(dirfd), _b(path), how, ctypes.c_size_t(len(how))
    )
    return _check(ret, "openat2", path)
