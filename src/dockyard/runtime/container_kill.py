"""`kill`: send a signal to a container's init (or, with `all`, to every process in it)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime.state import ContainerDir


def parse_signal(text: str) -> int:
    """`TERM`, `SIGTERM`, `term` or `15` → 15; anything else is an `InvalidArgument`."""
    if text.isascii() and text.isdigit():
        number = int(text)
        if 0 < number < signal.NSIG:
            return number
    else:
        name = text.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        sig = getattr(signal.Signals, name, None)
        if sig is not None:
            return int(sig)
    raise InvalidArgument(f"unknown signal {text!r}: use a name like TERM or a number like 15")


def kill_container(root: Path, container_id: str, sig: int, all_processes: bool = False) -> None:
    """Signal a created or running container."""
    cdir = ContainerDir(root, container_id)
    record = cdir.load()
    status = cdir.status(record)
    if status == "stopped":
        raise Conflict(f"cannot kill container {container_id!r}: it is not running")
    if all_processes:
        from dockyard.runtime.cgroup_setup import ContainerCgroup

        ContainerCgroup.existing(record.cgroup_path).kill_all(sig)
        return
    pidfd = os.pidfd_open(record.pid)
    try:
        signal.pidfd_send_signal(pidfd, sig)
    finally:
        os.close(pidfd)
