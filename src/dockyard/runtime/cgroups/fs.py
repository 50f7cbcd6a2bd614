"""Reading and writing cgroupfs interface files, with errors translated to dockyard's tree."""

from __future__ import annotations

import errno
import os

from dockyard.errors import InvalidArgument, KernelError, NotFound, Unavailable


def read_text(path: str) -> str | None:
    """The file's content, or None when it does not exist (controller or cgroup absent)."""
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise KernelError("read", path, e.errno or errno.EIO) from e


def write_raw(path: str, value: str) -> None:
    """One write(2) of `value`: cgroupfs parses each write as one request, so never split it."""
    # No O_CREAT: a missing interface file means a missing feature, never a file to make.
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def translate(e: OSError, path: str, value: str) -> Exception:
    """The dockyard error for a failed write of `value` to `path`."""
    if e.errno in (errno.EINVAL, errno.ERANGE):
        return InvalidArgument(
            f"{path} rejected {value!r}; fix the matching linux.resources setting"
        )
    if e.errno == errno.ENOENT:
        return Unavailable(
            f"{path} does not exist; this kernel lacks the feature, remove the setting"
        )
    if e.errno == errno.ESRCH:
        return NotFound(f"process {value} does not exist; start it before adding it to {path}")
    return KernelError("write", path, e.errno or errno.EIO, detail=repr(value))


def write_file(path: str, value: str) -> None:
    """Write `value` to the interface file, raising dockyard errors that name the file."""
    try:
        write_raw(path, value)
    except OSError as e:
        raise translate(e, path, value) from e
