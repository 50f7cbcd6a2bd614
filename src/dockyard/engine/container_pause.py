"""`pause`/`unpause`: freeze and thaw every process of a running container (cgroup freezer).

The row's status is `paused` while frozen. A frozen process does not act on any signal, SIGKILL
included, until thawed: whoever stops or kills a paused container calls `thaw_for_signal` first.
"""

from __future__ import annotations

from dockyard.engine.service import Engine
from dockyard.engine.store import ContainerRow
from dockyard.errors import Conflict
from dockyard.runtime.cgroup_setup import ContainerCgroup


def cgroup_of(engine: Engine, row: ContainerRow) -> ContainerCgroup:
    """The cgroup of a running container, from the runtime's record of it."""
    from dockyard.runtime.errors import ContainerNotFound
    from dockyard.runtime.state import ContainerDir

    try:
        record = ContainerDir(engine.paths.runtime_root, row.id).load()
    except ContainerNotFound:
        raise Conflict(f"Container {row.id} is not running") from None
    return ContainerCgroup.existing(record.cgroup_path)


def pause_container(engine: Engine, text: str) -> str:
    """Freeze a running container; its id."""
    row = engine.containers.find(text)
    if row.status == "paused":
        raise Conflict(f"Container {row.id} is already paused")
    if row.status != "running":
        raise Conflict(f"Container {row.id} is not running")
    cgroup_of(engine, row).manager.freeze()
    engine.containers.update(row.id, "pause", status="paused")
    return row.id


def unpause_container(engine: Engine, text: str) -> str:
    """Thaw a paused container; its id."""
    row = engine.containers.find(text)
    if row.status != "paused":
        raise Conflict(f"Container {row.id} is not paused")
    cgroup_of(engine, row).manager.thaw()
    engine.containers.update(row.id, "unpause", status="running")
    return row.id


def thaw_for_signal(engine: Engine, row: ContainerRow) -> None:
    """Thaw a paused container before it is signalled, so the signal takes effect (as Docker)."""
    if row.status != "paused":
        return
    cgroup_of(engine, row).manager.thaw()
    current = engine.containers.get(row.id)
    if current.status == "paused":
        engine.containers.update(row.id, "unpause", status="running")
