"""`start`: release a created container's init into the user's program."""

from __future__ import annotations

import os
import select
from pathlib import Path

from dockyard.errors import Conflict
from dockyard.runtime.hooks import warn_hooks
from dockyard.runtime.state import ContainerDir, process_start_time


def start_container(root: Path, container_id: str) -> None:
    """Open the exec FIFO (unblocking init), confirm it, then run the poststart hooks."""
    cdir = ContainerDir(root, container_id)
    record = cdir.load()
    status = cdir.status(record)
    if status != "created":
        raise Conflict(f"cannot start container {container_id!r}: it is {status}, not created")
    # Non-blocking open: a reader never waits, and init's blocked writer open returns.
    fd = os.open(cdir.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll(100):
            if process_start_time(record.pid) != record.pid_start:
                raise Conflict(f"container {container_id!r} exited before it could start")
        if os.read(fd, 1) != b"0":
            raise Conflict(f"container {container_id!r} exited before it could start")
    finally:
        os.close(fd)
        cdir.fifo.unlink(missing_ok=True)
    state = cdir.oci_state(record)
    warn_hooks("poststart", record.config.get("hooks", {}).get("poststart", []), state)
