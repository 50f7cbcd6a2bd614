"""The container's cgroup as the lifecycle verbs use it, over `dockyard.runtime.cgroups`."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.runtime.cgroups import CgroupManager, detect_layout, resolve_path

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import DeviceCgroup, Resources, Spec


# Devices every container may use whatever its spec's device rules say, appended after them as
# runc's specconv does: mknod of anything, the default nodes, the console and its ptys.
DEFAULT_DEVICE_RULES: tuple[DeviceCgroup, ...] = (
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},
)


def device_rules(spec: Spec) -> list[DeviceCgroup]:
    """The spec's device rules, then the defaults, then one allowing each of the spec's nodes."""
    linux = spec.get("linux", {})
    rules = list(linux.get("resources", {}).get("devices", []))
    rules.extend(DEFAULT_DEVICE_RULES)
    for dev in linux.get("devices", []):
        kind = "c" if dev.get("type") == "u" else dev.get("type", "c")
        if kind in ("c", "b"):
            rules.append(
                {
                    "allow": True,
                    "type": kind,
                    "major": dev.get("major", 0),
                    "minor": dev.get("minor", 0),
                    "access": "rwm",
                }
            )
    return rules


@dataclass
class ContainerCgroup:
    """One container's cgroup: its path in every hierarchy and the limits to apply."""

    path: str
    resources: Resources | None
    _manager: CgroupManager | None = None

    @classmethod
    def plan(cls, spec: Spec, container_id: str) -> ContainerCgroup:
        linux = spec.get("linux", {})
        resources: Resources = dict(linux.get("resources", {}))  # type: ignore[assignment]
        resources["devices"] = device_rules(spec)
        return cls(resolve_path(linux.get("cgroupsPath"), container_id), resources)

    @classmethod
    def existing(cls, path: str) -> ContainerCgroup:
        return cls(path, None)

    @property
    def manager(self) -> CgroupManager:
        if self._manager is None:
            self._manager = CgroupManager(detect_layout(), self.path)
        return self._manager

    def create(self) -> None:
        self.manager.create(self.resources)

    def add_process(self, pid: int) -> None:
        self.manager.add_process(pid)

    def pids(self) -> list[int]:
        try:
            return self.manager.pids()
        except FileNotFoundError:
            return []

    def kill_all(self, sig: int) -> None:
        self.manager.kill_all(sig)

    def wait_empty(self, timeout: float = 10.0) -> bool:
        """Wait until no process is left in the cgroup (zombies reaped where they are ours)."""
        deadline = time.monotonic() + timeout
        while self.pids():
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def destroy(self) -> None:
        self.manager.destroy()

    def oom_kill_count(self) -> int:
        try:
            return self.manager.oom_kill_count()
        except FileNotFoundError:
            return 0
