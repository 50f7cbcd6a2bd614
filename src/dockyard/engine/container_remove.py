"""`rm`: remove a container and everything it holds (snapshot, files, row)."""

from __future__ import annotations

import contextlib
import shutil
import signal

from dockyard.engine.monitor import client
from dockyard.engine.service import Engine
from dockyard.errors import Conflict, NotFound


def remove_container(
    engine: Engine, text: str, *, force: bool = False, volumes: bool = False
) -> str:
    """Remove the container `text` names; a running one needs `force` (it is killed first).

    With `volumes`, its anonymous volumes go too (named ones stay, as Docker's `rm -v`).
    """
    row = engine.containers.find(text)
    if row.running:
        from dockyard.engine.container_pause import thaw_for_signal

        thaw_for_signal(engine, row)
        if not force:
            raise Conflict(
                f"You cannot remove a running container {row.id}. Stop the container before "
                "attempting removal or force remove"
            )
        conn = client.MonitorConnection(engine.paths)
        try:
            conn.request(op="stop", id=row.id, signal=int(signal.SIGKILL), timeout=0)
        finally:
            conn.close()
    from dockyard.engine.monitor.supervisor import release

    release(engine, row.id)
    with contextlib.suppress(NotFound):
        engine.snapshots.remove(row.id)
    shutil.rmtree(engine.paths.container(row.id), ignore_errors=True)
    engine.containers.delete(row.id)
    if volumes:
        for mount in row.config.get("Mounts") or []:
            name = mount.get("Name")
            if mount.get("Type") != "volume" or not name:
                continue
            with contextlib.suppress(NotFound, Conflict):
                volume = engine.volumes.get(name)
                if volume.anonymous:
                    engine.volumes.remove(name, engine.volume_users(name))
    return row.id
