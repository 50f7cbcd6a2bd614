"""`RecordingSyscall`: a `Syscall` that records every call instead of making it.

Unit tests assert on `calls` (the exact order and arguments) and make chosen calls fail with
`fail_on`, to test how plans react to kernel errors without root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dockyard.kernel.syscall import Syscall


@dataclass(frozen=True)
class Call:
    """One recorded call: the `Syscall` method name and its positional arguments."""

    name: str
    args: tuple[object, ...]


@dataclass(frozen=True)
class _Failure:
    name: str
    errno: int
    args_prefix: tuple[object, ...] | None


@dataclass
class RecordingSyscall:
    """Records calls in `calls`; `capget` answers `caps` (effective, permitted, inheritable)."""

    calls: list[Call] = field(default_factory=list)
    caps: tuple[int, int, int] = (0, 0, 0)
    _failures: list[_Failure] = field(default_factory=list, init=False, repr=False)

    def fail_on(self, name: str, errno: int, args_prefix: tuple[object, ...] | None = None) -> None:
        """Make calls of `name` (whose args start with `args_prefix`, if given) raise OSError."""
        self._failures.append(_Failure(name, errno, args_prefix))

    def names(self) -> list[str]:
        """The names of the recorded calls, in order."""
        return [c.name for c in self.calls]

    def _record(self, name: str, *args: object) -> None:
        self.calls.append(Call(name, args))
        for failure in self._failures:
            prefix = failure.args_prefix
            if failure.name == name and (prefix is None or args[: len(prefix)] == prefix):
                raise OSError(failure.errno, f"{name}: {os.strerror(failure.errno)} (injected)")

    def unshare(self, flags: int) -> None:
        self._record("unshare", flags)

    def setns(self, fd: int, nstype: int) -> None:
        self._record("setns", fd, nstype)

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        self._record("mount", source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int) -> None:
        self._record("umount2", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._record("pivot_root", new_root, put_old)

    def sethostname(self, name: str) -> None:
        self._record("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._record("setdomainname", name)

    def mknod(self, path: str, mode: int, device: int) -> None:
        self._record("mknod", path, mode, device)

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._record("chown", path, uid, gid)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0) -> int:
        self._record("prctl", option, arg2, arg3)
        return 0

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._record("capset", effective, permitted, inheritable)
        self.caps = (effective, permitted, inheritable)

    def capget(self) -> tuple[int, int, int]:
        self._record("capget")
        return self.caps


def _conforms(fake: RecordingSyscall) -> Syscall:
    # mypy proves here that the fake implements the whole protocol.
    return fake
