"""`CgroupManager`: one container's cgroup in every hierarchy of a `CgroupLayout`."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from typing import TYPE_CHECKING

from dockyard.errors import DockyardError, InvalidArgument, KernelError, Unavailable
from dockyard.runtime.cgroups import freezer
from dockyard.runtime.cgroups.apply import apply_plan
from dockyard.runtime.cgroups.fs import read_text, write_file, write_raw
from dockyard.runtime.cgroups.hybrid import plan_hybrid, step_controller
from dockyard.runtime.cgroups.layout import CgroupLayout
from dockyard.runtime.cgroups.path import resolve_path
from dockyard.runtime.cgroups.plan import Plan
from dockyard.runtime.cgroups.stats import CgroupStats, flat_keyed, stats_v1, stats_v2
from dockyard.runtime.cgroups.v1 import plan_v1
from dockyard.runtime.cgroups.v2 import plan_v2

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Resources


# rmdir of a cgroup whose last task just exited can briefly fail with EBUSY.
_RMDIR_DELAYS = (0.01, 0.02, 0.04, 0.08, 0.16)


class CgroupManager:
    """Creates, fills, freezes, signals and removes the cgroup at `path` (e.g. "/dockyard/id").

    On v1 the cgroup exists once per mounted hierarchy; on hybrid also in the cgroup2 mount, so
    that /proc/<pid>/cgroup and cgroup namespaces show it (as runc does); on v2 once.
    """

    def __init__(self, layout: CgroupLayout, path: str) -> None:
        if not path:
            raise InvalidArgument("cgroup path is empty; pass resolve_path(...)'s result")
        self.layout = layout
        self.path = resolve_path(path, "")

    # -- directories ---------------------------------------------------------------------

    def _under(self, mount: str) -> str:
        return os.path.join(mount, self.path.lstrip("/"))

    def _unified_dir(self) -> str | None:
        return None if self.layout.v2 is None else self._under(self.layout.v2)

    def _mounts(self) -> list[str]:
        """Every hierarchy's mount point: v1 ones, then the cgroup2 one (not on plain v1)."""
        mounts = [] if self.layout.kind == "v2" else self.layout.v1_mount_points()
        if self.layout.v2 is not None and self.layout.kind != "v1":
            mounts.append(self.layout.v2)
        return mounts

    def directories(self) -> list[str]:
        """The container's cgroup directory in every hierarchy."""
        return [self._under(m) for m in self._mounts()]

    def procs_files(self) -> list[str]:
        """Every cgroup.procs a process must be written to, e.g. by `sh -c 'echo $$ > …'`."""
        return [os.path.join(d, "cgroup.procs") for d in self.directories()]

    def _v1_dir(self, controller: str) -> str | None:
        mount = self.layout.v1.get(controller)
        return None if mount is None else self._under(mount)

    def _dir_for(self, controller: str) -> str | None:
        if self.layout.kind == "v2":
            return self._unified_dir()
        return self._v1_dir(controller) or self._unified_dir()

    def _v2_controllers(self) -> frozenset[str]:
        if self.layout.v2 is None:
            return frozenset()
        text = read_text(os.path.join(self.layout.v2, "cgroup.controllers")) or ""
        return frozenset(text.split())

    # -- create --------------------------------------------------------------------------

    def plan(self, resources: Resources | None) -> Plan:
        """The writes that `create` applies for `resources` on this layout."""
        if self.layout.kind == "v2":
            unified = self._unified_dir() or ""
            swap = os.path.exists(os.path.join(unified, "memory.swap.max"))
            return plan_v2(resources, swap_accounting=swap)
        memory = self.layout.v1.get("memory")
        swap = memory is not None and os.path.exists(
            os.path.join(memory, "memory.memsw.limit_in_bytes")
        )
        if self.layout.kind == "v1":
            return plan_v1(resources, swap_accounting=swap)
        v1 = frozenset(c for c in self.layout.v1 if not c.startswith("name="))
        return plan_hybrid(
            resources,
            v1_controllers=v1,
            v2_controllers=self._v2_controllers(),
            swap_accounting=swap,
        )

    def create(self, resources: Resources | None) -> None:
        """Make the cgroup in every hierarchy and apply `resources`; undo all of it on failure."""
        created: list[str] = []
        try:
            for mount in self._mounts():
                self._make_chain(mount, created)
            cpuset = self.layout.v1.get("cpuset")
            if cpuset is not None and self.layout.kind != "v2":
                self._fill_cpuset(cpuset)
            if self.layout.kind == "v2":
                self._enable_v2(self._v2_controllers())
            self.update(resources)
        except BaseException:
            for directory in reversed(created):
                # Best effort: the original error is the one to report.
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
            raise

    def update(self, resources: Resources | None) -> None:
        """Apply `resources` to the existing cgroup (also what `create` does after mkdir)."""
        plan = self.plan(resources)
        if self.layout.kind == "hybrid":
            served_by_v2 = {step_controller(s) for s in plan} - set(self.layout.v1)
            self._enable_v2(served_by_v2)
        apply_plan(plan, self._dir_for)

    def _make_chain(self, mount: str, created: list[str]) -> None:
        parts = self.path.strip("/").split("/")
        for _attempt in range(3):
            current = mount
            try:
                for part in parts:
                    current = os.path.join(current, part)
                    try:
                        os.mkdir(current, 0o755)
                        created.append(current)
                    except FileExistsError:
                        pass
                return
            except FileNotFoundError:
                # A concurrent destroy removed an empty shared parent between our mkdirs.
                continue
            except OSError as e:
                raise KernelError("mkdir", current, e.errno or errno.EIO) from e
        raise KernelError("mkdir", self._under(mount), errno.ENOENT, detail="parent kept vanishing")

    def _fill_cpuset(self, mount: str) -> None:
        # A new v1 cpuset cgroup starts with empty cpuset.cpus/mems and refuses tasks (ENOSPC)
        # until they are set; copy them down from the parent, level by level (runc does this).
        parent = mount
        for part in self.path.strip("/").split("/"):
            current = os.path.join(parent, part)
            for file in ("cpuset.cpus", "cpuset.mems"):
                own = (read_text(os.path.join(current, file)) or "").strip()
                if not own:
                    inherited = (read_text(os.path.join(parent, file)) or "").strip()
                    write_file(os.path.join(current, file), inherited)
            parent = current

    def _enable_v2(self, controllers: set[str] | frozenset[str]) -> None:
        # A v2 controller's files appear in a cgroup only when every ancestor lists it in
        # cgroup.subtree_control.
        if not controllers or self.layout.v2 is None:
            return
        request = " ".join(f"+{c}" for c in sorted(controllers))
        parts = self.path.strip("/").split("/")
        for depth in range(len(parts)):
            control = os.path.join(self.layout.v2, *parts[:depth], "cgroup.subtree_control")
            try:
                write_raw(control, request)
            except OSError:
                # One unavailable controller fails the whole write; enable the rest singly.
                for controller in sorted(controllers):
                    # Absent from this kernel: a setting that needs it fails later, naming it.
                    with contextlib.suppress(OSError):
                        write_raw(control, f"+{controller}")

    # -- processes -----------------------------------------------------------------------

    def add_process(self, pid: int) -> None:
        """Move process `pid` into the cgroup in every hierarchy."""
        for procs in self.procs_files():
            write_file(procs, str(pid))

    def _primary(self) -> str | None:
        if self.layout.kind == "v2":
            return self._unified_dir()
        for controller in ("pids", "memory", "freezer", "cpu"):
            directory = self._v1_dir(controller)
            if directory is not None:
                return directory
        directories = self.directories()
        return directories[0] if directories else None

    def pids(self) -> list[int]:
        """The pids in the cgroup; empty when it does not exist."""
        primary = self._primary()
        text = None if primary is None else read_text(os.path.join(primary, "cgroup.procs"))
        return [int(line) for line in (text or "").split()]

    def oom_kill_count(self) -> int:
        """How many processes the OOM killer has killed in this cgroup; 0 if unknown."""
        if self.layout.kind == "v2":
            directory, file = self._unified_dir(), "memory.events"
        else:
            directory, file = self._v1_dir("memory"), "memory.oom_control"
        if directory is None:
            return 0
        return flat_keyed(read_text(os.path.join(directory, file)) or "").get("oom_kill", 0)

    def freeze(self) -> None:
        """Freeze every process in the cgroup and wait until the kernel reports it frozen."""
        v1 = self._v1_dir("freezer") if self.layout.kind != "v2" else None
        if v1 is not None:
            try:
                freezer.set_v1_state(v1, "FROZEN")
            except BaseException:
                freezer.set_v1_state(v1, "THAWED")
                raise
        else:
            self._v2_freeze(True)

    def thaw(self) -> None:
        """Thaw the cgroup and wait until the kernel reports it thawed."""
        v1 = self._v1_dir("freezer") if self.layout.kind != "v2" else None
        if v1 is not None:
            freezer.set_v1_state(v1, "THAWED")
        else:
            self._v2_freeze(False)

    def _v2_freeze(self, frozen: bool) -> None:
        unified = self._unified_dir()
        if unified is None:
            raise Unavailable(
                f"cannot freeze {self.path}: no v1 freezer and no cgroup2 mount; mount either"
            )
        freezer.set_v2_frozen(unified, frozen)

    def kill_all(self, sig: int) -> None:
        """Send `sig` to every process in the cgroup (cgroup.kill for SIGKILL where it exists)."""
        unified = self._unified_dir() if self.layout.kind != "v1" else None
        if sig == signal.SIGKILL and unified and os.path.exists(f"{unified}/cgroup.kill"):
            # Atomic with respect to forks, unlike signalling a pid list.
            write_file(os.path.join(unified, "cgroup.kill"), "1")
            if self.layout.kind == "v2":
                return
            # Hybrid: also signal by pid below, for members that joined only v1 hierarchies.
        frozen = False
        try:
            self.freeze()  # so that no process forks between listing and signalling
            frozen = True
        except DockyardError:
            pass  # no usable freezer: signal anyway, racing with forks as kill(1) would
        try:
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    continue
        finally:
            if frozen:
                self.thaw()

    # -- destroy -------------------------------------------------------------------------

    def destroy(self) -> None:
        """Remove the cgroup in every hierarchy, then its now-empty parents; idempotent."""
        failure: KernelError | None = None
        parents = self.path.strip("/").split("/")[:-1]
        for mount in self._mounts():
            try:
                _rmdir_retrying(self._under(mount))
            except KernelError as e:
                failure = failure or e
                continue
            for depth in range(len(parents), 0, -1):
                try:
                    os.rmdir(os.path.join(mount, *parents[:depth]))
                except OSError as e:
                    # Shared parents stay while other containers (or anyone) use them.
                    if e.errno in (errno.ENOTEMPTY, errno.EBUSY, errno.ENOENT):
                        break
                    raise KernelError(
                        "rmdir", os.path.join(mount, *parents[:depth]), e.errno or errno.EIO
                    ) from e
        if failure is not None:
            raise failure

    def stats(self) -> CgroupStats:
        """Memory usage and limit, CPU time and the number of pids."""
        if self.layout.kind == "v2":
            return stats_v2(self._unified_dir() or "")
        return stats_v1(self._v1_dir("memory"), self._v1_dir("cpuacct"), self._v1_dir("pids"))


def _rmdir_retrying(directory: str) -> None:
    for delay in (*_RMDIR_DELAYS, None):
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY or delay is None:
                raise KernelError(
                    "rmdir",
                    directory,
                    e.errno or errno.EIO,
                    detail="processes still inside; kill them first",
                ) from e
            time.sleep(delay)
