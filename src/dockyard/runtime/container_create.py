"""`create`: build the container up to the point where only execve(2) of the program is left.

On any failure every piece made so far (processes, cgroup, FIFO, state directory) is removed,
so a failed `create` leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.runtime.capabilities import parse_capabilities
from dockyard.runtime.channel import Channel
from dockyard.runtime.config import load_bundle
from dockyard.runtime.errors import (
    ContainerExists,
    ExecutableNotFound,
    ExecutableNotRunnable,
    InitFailed,
)
from dockyard.runtime.hooks import run_hooks
from dockyard.runtime.init import run_intermediate
from dockyard.runtime.plan import InitPlan, plan_init
from dockyard.runtime.seccomp import prepare_seccomp, validate_seccomp
from dockyard.runtime.state import OCI_VERSION, ContainerDir, ContainerRecord, process_start_time

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import IDMapping, Spec, State, Status


@dataclass(frozen=True)
class CreateOptions:
    """The `create` command's options."""

    bundle: Path
    pid_file: Path | None = None
    console_socket: str | None = None
    no_pivot: bool = False
    console: socket.socket | None = None  # an already connected console socket (for `run`)
    stdio: tuple[int, int, int] | None = None  # fds to become the container's stdin/out/err


def _can_raise_rlimits() -> bool:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 24))  # CAP_SYS_RESOURCE
    return False


def _write_id_map(pid: int, name: str, mappings: list[IDMapping]) -> None:
    text = "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in mappings)
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write(text)


def _raise_child_error(message: dict[str, object]) -> None:
    text = str(message.get("message", "container init failed"))
    kind = message.get("kind")
    if kind == "enoent":
        raise ExecutableNotFound(text)
    if kind == "eacces":
        raise ExecutableNotRunnable(text)
    raise InitFailed(text)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def create_container(root: Path, container_id: str, opts: CreateOptions) -> ContainerRecord:
    """Create the container `container_id` from `opts.bundle`; returns its record."""
    from dockyard.runtime.cgroup_setup import ContainerCgroup

    cdir = ContainerDir(root, container_id)
    if cdir.path.exists():
        raise ContainerExists(container_id)
    bundle = opts.bundle.resolve()
    spec = load_bundle(bundle)
    cgroup = ContainerCgroup.plan(spec, container_id)
    plan = plan_init(
        spec,
        str(bundle),
        no_pivot=opts.no_pivot,
        can_raise_rlimits=_can_raise_rlimits(),
        cgroup=(cgroup.manager.layout, cgroup.path),
    )
    parse_capabilities(spec["process"].get("capabilities", {}))
    seccomp_profile = spec.get("linux", {}).get("seccomp")
    if seccomp_profile:
        validate_seccomp(seccomp_profile)
    cdir.create()
    init_pid = 0
    try:
        cgroup.create()
        os.mkfifo(cdir.fifo, 0o622)
        # Not subject to our umask: init opens it for writing after becoming the user.
        os.chmod(cdir.fifo, 0o622)
        init_pid = _spawn(plan, cdir, bundle, cgroup, opts)
        record = ContainerRecord(
            id=container_id,
            bundle=str(bundle),
            pid=init_pid,
            pid_start=process_start_time(init_pid) or 0,
            created=datetime.datetime.now(datetime.UTC).isoformat(),
            rootfs=plan.rootfs,
            cgroup_path=cgroup.path,
            annotations=spec.get("annotations", {}),
            config=dict(spec),
        )
        cdir.save(record)
        if opts.pid_file:
            tmp = opts.pid_file.with_name(opts.pid_file.name + ".tmp")
            tmp.write_text(str(init_pid))
            os.replace(tmp, opts.pid_file)
    except BaseException:
        if init_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(init_pid, signal.SIGKILL)
            cgroup.wait_empty()
        cgroup.destroy()
        cdir.remove()
        raise
    for warning in plan.warnings:
        os.write(2, f"dockyard-runtime: warning: {warning}\n".encode())
    return record


def _spawn(
    plan: InitPlan, cdir: ContainerDir, bundle: Path, cgroup: object, opts: CreateOptions
) -> int:
    """Fork the intermediate, drive the setup protocol, and return init's pid once `created`."""
    from dockyard.runtime.cgroup_setup import ContainerCgroup

    assert isinstance(cgroup, ContainerCgroup)
    console = opts.console
    if console is None and opts.console_socket:
        from dockyard.runtime.console import connect

        console = connect(opts.console_socket)
    parent, child = Channel.pair()
    spec = plan.spec
    # Built here, loaded in init: libseccomp comes from the host's files, gone after pivot_root.
    seccomp = (
        prepare_seccomp(spec["linux"]["seccomp"]) if spec.get("linux", {}).get("seccomp") else None
    )
    try:
        pid_a = os.fork()
        if pid_a == 0:
            parent.close()
            if opts.stdio is not None:
                for target, fd in enumerate(opts.stdio):
                    os.dup2(fd, target)
            run_intermediate(plan, child, str(cdir.fifo), console, seccomp)
    finally:
        if seccomp is not None:
            seccomp.release()
    child.close()
    if console is not None and opts.console is None:
        console.close()
    init_pid = 0
    try:
        cgroup.add_process(pid_a)
        parent.send(stage="go")
        hooks = spec.get("hooks", {})
        while True:
            msg = parent.recv()
            stage = msg.get("stage")
            if stage == "userns":
                linux = spec.get("linux", {})
                _write_id_map(pid_a, "uid_map", linux.get("uidMappings", []))
                _write_id_map(pid_a, "gid_map", linux.get("gidMappings", []))
                parent.send(stage="maps")
            elif stage == "forked":
                init_pid = int(msg["pid"])
                _reap(pid_a)
                parent.send(state=_state(cdir.id, init_pid, bundle, "creating", spec))
            elif stage == "mounted":
                state = _state(cdir.id, init_pid, bundle, "created", spec)
                run_hooks("prestart", hooks.get("prestart", []), state)
                run_hooks("createRuntime", hooks.get("createRuntime", []), state)
                parent.send(stage="continue")
            elif stage == "created":
                return init_pid
            elif stage == "error":
                _raise_child_error(msg)
            else:
                raise InitFailed("the container's init process exited during setup")
    except BaseException:
        if init_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(init_pid, signal.SIGKILL)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid_a, signal.SIGKILL)
        _reap(pid_a)
        raise
    finally:
        parent.close()


def _state(container_id: str, pid: int, bundle: Path, status: Status, spec: Spec) -> State:
    state: State = {
        "ociVersion": OCI_VERSION,
        "id": container_id,
        "status": status,
        "pid": pid,
        "bundle": str(bundle),
    }
    if spec.get("annotations"):
        state["annotations"] = spec["annotations"]
    return state
