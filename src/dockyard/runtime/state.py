"""The runtime's record of one container: `<root>/<id>/state.json`, replaced atomically.

The status is never stored: it is derived from the init process (alive, and the same process by
its start time) and the exec FIFO (present until `start`), as runc does.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard.runtime.config import validate_id
from dockyard.runtime.errors import ContainerExists, ContainerNotFound

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import State, Status


OCI_VERSION = "1.2.0"
EXEC_FIFO = "exec.fifo"


@dataclass
class ContainerRecord:
    """What the runtime remembers of a container between commands."""

    id: str
    bundle: str
    pid: int
    pid_start: int
    created: str
    rootfs: str
    cgroup_path: str
    annotations: dict[str, str] = field(default_factory=dict)
    owner: str = "root"
    config: dict[str, Any] = field(default_factory=dict)


def process_start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live, non-zombie process, else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces and parentheses: fields start after the last ')'
    fields = stat[stat.rfind(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class ContainerDir:
    """One container's state directory."""

    def __init__(self, root: Path, container_id: str) -> None:
        validate_id(container_id)
        self.id = container_id
        self.path = root / container_id

    @property
    def fifo(self) -> Path:
        return self.path / EXEC_FIFO

    def create(self) -> None:
        """Make the directory; an existing one means the id is taken (atomic under races)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
        try:
            self.path.mkdir(mode=0o711)
        except FileExistsError:
            raise ContainerExists(self.id) from None

    def exists(self) -> bool:
        return (self.path / "state.json").exists()

    def save(self, record: ContainerRecord) -> None:
        tmp = self.path / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(record)))
        os.replace(tmp, self.path / "state.json")

    def load(self) -> ContainerRecord:
        try:
            data = json.loads((self.path / "state.json").read_text())
        except FileNotFoundError:
            raise ContainerNotFound(self.id) from None
        return ContainerRecord(**data)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def status(self, record: ContainerRecord) -> Status:
        if process_start_time(record.pid) != record.pid_start:
            return "stopped"
        return "created" if self.fifo.exists() else "running"

    def oci_state(self, record: ContainerRecord) -> State:
        status = self.status(record)
        state: State = {
            "ociVersion": OCI_VERSION,
            "id": record.id,
            "status": status,
            "pid": record.pid if status != "stopped" else 0,
            "bundle": record.bundle,
        }
        if record.annotations:
            state["annotations"] = record.annotations
        return state


def list_containers(root: Path) -> list[str]:
    """Ids of every container recorded under `root`, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "state.json").exists())
