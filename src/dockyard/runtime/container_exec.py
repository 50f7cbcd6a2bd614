"""`exec`: run another process inside a running container."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.errors import Conflict
from dockyard.runtime.cgroup_setup import ContainerCgroup
from dockyard.runtime.channel import Channel
from dockyard.runtime.container_create import _can_raise_rlimits, _raise_child_error
from dockyard.runtime.errors import InitFailed
from dockyard.runtime.foreground import (
    become_subreaper,
    console_pair,
    forwarding_signals,
    proxy_terminal,
    wait_for,
)
from dockyard.runtime.plan import plan_init
from dockyard.runtime.seccomp import prepare_seccomp
from dockyard.runtime.state import ContainerDir
from dockyard.runtime.tenant import run_tenant_intermediate, tenant_plan

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Process


@dataclass(frozen=True)
class ExecOptions:
    """`exec`'s options; `process` replaces the container's process entirely when given."""

    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    cwd: str | None = None
    uid: int | None = None
    gid: int | None = None
    tty: bool = False
    detach: bool = False
    process: Process | None = None
    pid_file: Path | None = None
    console_socket: str | None = None
    no_new_privs: bool = False


def exec_process(root: Path, container_id: str, opts: ExecOptions) -> int:
    """Start the process; return its exit code (foreground) or 0 once it runs (detached)."""
    from dockyard.runtime.console import connect, receive_master

    cdir = ContainerDir(root, container_id)
    record = cdir.load()
    if cdir.status(record) != "running":
        raise Conflict(f"cannot exec in container {container_id!r}: it is not running")
    spec = record.config
    process = _exec_process(spec["process"], opts)
    base = plan_init(
        spec,  # type: ignore[arg-type]
        record.bundle,
        no_pivot=False,
        can_raise_rlimits=_can_raise_rlimits(),
    )
    tp = tenant_plan(spec, process, record.pid, base)  # type: ignore[arg-type]
    console = ours = None
    if process.get("terminal"):
        if opts.console_socket:
            console = connect(opts.console_socket)
        elif not opts.detach:
            ours, console = console_pair()
    if not opts.detach:
        become_subreaper()
    parent, child = Channel.pair()
    profile = spec.get("linux", {}).get("seccomp")
    seccomp = prepare_seccomp(profile) if profile else None
    try:
        pid_a = os.fork()
        if pid_a == 0:
            parent.close()
            run_tenant_intermediate(tp, child, console, seccomp)
    finally:
        if seccomp is not None:
            seccomp.release()
    child.close()
    if console is not None:
        console.close()
    pid = 0
    try:
        ContainerCgroup.existing(record.cgroup_path).add_process(pid_a)
        parent.send(stage="go")
        while True:
            msg = parent.recv()
            if msg.get("stage") == "forked":
                pid = int(msg["pid"])
                os.waitpid(pid_a, 0)
            elif msg.get("stage") == "error":
                _raise_child_error(msg)
            elif msg.get("stage") == "exec":
                continue
            else:
                break  # EOF: the process has called execve
        if not pid:
            raise InitFailed("the exec'd process died during setup")
    except BaseException:
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid_a, 0)
        raise
    finally:
        parent.close()
    if opts.pid_file:
        opts.pid_file.write_text(str(pid))
    if opts.detach:
        return 0
    holder = [pid]
    with forwarding_signals(holder):
        if ours is not None:
            master = receive_master(ours)
            ours.close()
            proxy_terminal(master)
            os.close(master)
        return wait_for(pid)


def _exec_process(base: Process, opts: ExecOptions) -> Process:
    if opts.process is not None:
        return opts.process
    process: Process = dict(base)  # type: ignore[assignment]
    process["args"] = list(opts.args)
    process["env"] = list(base.get("env", [])) + list(opts.env)
    process["terminal"] = opts.tty
    if opts.cwd:
        process["cwd"] = opts.cwd
    if opts.uid is not None:
        user = dict(process.get("user", {}))
        user["uid"] = opts.uid
        user["gid"] = opts.gid if opts.gid is not None else opts.uid
        process["user"] = user  # type: ignore[typeddict-item]
    if opts.no_new_privs:
        process["noNewPrivileges"] = True
    return process
