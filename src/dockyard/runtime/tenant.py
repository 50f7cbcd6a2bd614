"""A process that `exec` adds to a running container: it joins init's namespaces and cgroup."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from dockyard.kernel.syscall import LinuxSyscall
from dockyard.runtime.channel import Channel
from dockyard.runtime.config import NAMESPACE_FLAGS, NAMESPACE_PROC_NAMES
from dockyard.runtime.console import make_controlling, open_pty, send_master, set_size
from dockyard.runtime.init import _apply_security, _report
from dockyard.runtime.plan import InitPlan, resolve_executable
from dockyard.runtime.rlimits import apply_rlimits
from dockyard.runtime.seccomp import load_seccomp

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Process, Spec


if TYPE_CHECKING:
    from dockyard.kernel.seccomp import SeccompFilter

_JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "mount", "cgroup", "time")


@dataclass(frozen=True)
class TenantPlan:
    """What the exec'd process does: join these namespaces, then become `plan.spec.process`."""

    init_pid: int
    namespaces: tuple[str, ...]
    plan: InitPlan


def tenant_plan(spec: Spec, process: Process, init_pid: int, base: InitPlan) -> TenantPlan:
    """The namespaces of the container's init to join, in setns order, and the process."""
    types = {ns["type"] for ns in spec.get("linux", {}).get("namespaces", [])}
    order = tuple(t for t in _JOIN_ORDER if t in types)
    exec_spec: Spec = dict(spec)  # type: ignore[assignment]
    exec_spec["process"] = process
    user = process.get("user", {})
    env = tuple(process.get("env", []))
    plan = InitPlan(
        spec=exec_spec,
        rootfs="/",
        unshare_flags=0,
        new_userns=False,
        join=(),
        mounts=(),
        devices=(),
        make_devices=False,
        rlimits=base.rlimits,
        env=env if any(e.startswith("PATH=") for e in env) else base.env,
        no_pivot=False,
        uid=user.get("uid", 0),
        gid=user.get("gid", 0),
        additional_gids=tuple(user.get("additionalGids", [])),
    )
    return TenantPlan(init_pid, order, plan)


def run_tenant_intermediate(
    tp: TenantPlan, chan: Channel, console: socket.socket | None, seccomp: SeccompFilter | None
) -> NoReturn:
    """Join the container's namespaces, fork the tenant (so the pid namespace applies), exit."""
    code = 1
    try:
        sys = LinuxSyscall()
        chan.recv()  # the runtime has put us in the container's cgroup
        fds = [
            (t, os.open(f"/proc/{tp.init_pid}/ns/{NAMESPACE_PROC_NAMES[t]}", os.O_RDONLY))
            for t in tp.namespaces
        ]
        for ns_type, fd in fds:
            sys.setns(fd, NAMESPACE_FLAGS[ns_type])
            os.close(fd)
        pid = os.fork()
        if pid == 0:
            _run_tenant(tp, chan, console, seccomp)
        chan.send(stage="forked", pid=pid)
        code = 0
    except BaseException as e:
        _report(chan, e)
    finally:
        os._exit(code)


def _run_tenant(
    tp: TenantPlan, chan: Channel, console: socket.socket | None, seccomp: SeccompFilter | None
) -> NoReturn:
    try:
        plan = tp.plan
        process = plan.spec["process"]
        sys = LinuxSyscall()
        os.setsid()
        slave = None
        if process.get("terminal"):
            master, slave = open_pty("/dev/pts")
            set_size(master, process.get("consoleSize"))
            if console is not None:
                send_master(console, master)
                console.close()
            os.close(master)
        apply_rlimits(list(plan.rlimits))
        if slave is not None:
            make_controlling(slave)
        _apply_security(sys, plan, seccomp)
        cwd = process.get("cwd", "/")
        os.chdir(cwd)
        args = process["args"]
        path = resolve_executable(args[0], plan.env, cwd)
        if seccomp is not None and process.get("noNewPrivileges"):
            load_seccomp(seccomp)
        chan.send(stage="exec")
        os.execve(path, args, dict(e.split("=", 1) for e in plan.env))
    except BaseException as e:
        _report(chan, e)
    finally:
        os._exit(1)
