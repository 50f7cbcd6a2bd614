"""`delete`: remove a stopped (or, with force, any) container and everything it held."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from dockyard.errors import Conflict
from dockyard.runtime.cgroup_setup import ContainerCgroup
from dockyard.runtime.errors import ContainerNotFound
from dockyard.runtime.hooks import warn_hooks
from dockyard.runtime.state import ContainerDir


def delete_container(root: Path, container_id: str, force: bool = False) -> None:
    """Delete the container; a running one needs `force` (then it is killed first)."""
    cdir = ContainerDir(root, container_id)
    try:
        record = cdir.load()
    except ContainerNotFound:
        if force:
            cdir.remove()
            return
        raise
    status = cdir.status(record)
    if status == "running" and not force:
        raise Conflict(
            f"cannot delete container {container_id!r} that is not stopped: running "
            "(stop it first or use --force)"
        )
    cgroup = ContainerCgroup.existing(record.cgroup_path)
    if status != "stopped":
        # A created container is deleted by killing it, as runc does.
        cgroup.kill_all(signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, signal.SIGKILL)
    if not cgroup.wait_empty():
        raise Conflict(f"container {container_id!r}: processes did not exit after SIGKILL")
    cgroup.destroy()
    state = cdir.oci_state(record)
    state["status"] = "stopped"
    cdir.remove()
    warn_hooks("poststop", record.config.get("hooks", {}).get("poststop", []), state)
