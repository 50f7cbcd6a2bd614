"""The container's own processes: the intermediate (joins and unshares namespaces) and init.

The runtime forks the intermediate, which enters or creates the namespaces and forks init (PID 1
of a new pid namespace), then exits. Init builds the root, drops privileges, reports `created`,
and blocks on the exec FIFO until `start`; then it becomes the user's program with execve(2).
Both talk to the runtime over a `Channel`; any failure is reported there and ends the process.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from typing import TYPE_CHECKING, NoReturn

from dockyard.errors import DockyardError
from dockyard.kernel import constants as k
from dockyard.kernel.syscall import LinuxSyscall, Syscall
from dockyard.runtime import rootfs
from dockyard.runtime.capabilities import apply_capabilities, parse_capabilities
from dockyard.runtime.channel import Channel
from dockyard.runtime.config import NAMESPACE_FLAGS
from dockyard.runtime.console import make_controlling, open_pty, send_master, set_size
from dockyard.runtime.errors import ExecutableNotFound, ExecutableNotRunnable
from dockyard.runtime.hooks import run_hooks
from dockyard.runtime.plan import InitPlan, resolve_executable
from dockyard.runtime.rlimits import apply_rlimits
from dockyard.runtime.seccomp import load_seccomp

if TYPE_CHECKING:
    from dockyard.kernel.seccomp import SeccompFilter

# Everything init runs after pivot_root must be imported before it: the host's files (and this
# package) are gone from its view by then.


def _report(chan: Channel, exc: BaseException) -> None:
    kind = "error"
    if isinstance(exc, ExecutableNotFound):
        kind = "enoent"
    elif isinstance(exc, ExecutableNotRunnable):
        kind = "eacces"
    if isinstance(exc, OSError) and exc.filename:
        msg = f"{exc.strerror}: {exc.filename}"
    else:
        msg = str(exc) or type(exc).__name__
    if os.environ.get("DOCKYARD_DEBUG"):
        import traceback

        msg += "\n" + "".join(traceback.format_exception(exc))
    with contextlib.suppress(OSError):
        chan.send(stage="error", kind=kind, message=msg)


def run_intermediate(
    plan: InitPlan,
    chan: Channel,
    fifo: str,
    console: socket.socket | None,
    seccomp: SeccompFilter | None,
) -> NoReturn:
    """Stage one: join and create namespaces, fork init, hand its pid to the runtime, exit."""
    code = 1
    try:
        sys = LinuxSyscall()
        chan.recv()  # the runtime has put us in the cgroup
        for ns_type, path in plan.join:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                sys.setns(fd, NAMESPACE_FLAGS[ns_type])
            finally:
                os.close(fd)
        if plan.new_userns:
            sys.unshare(k.CLONE_NEWUSER)
            chan.send(stage="userns")
            chan.recv()  # the runtime wrote our uid/gid maps
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        sys.unshare(plan.unshare_flags & ~k.CLONE_NEWUSER)
        offsets = plan.spec.get("linux", {}).get("timeOffsets")
        if offsets:
            with open("/proc/self/timens_offsets", "w") as f:
                for clock, off in offsets.items():
                    f.write(f"{clock} {off.get('secs', 0)} {off.get('nanosecs', 0)}\n")
        pid = os.fork()
        if pid == 0:
            run_init(plan, chan, fifo, console, seccomp)
        chan.send(stage="forked", pid=pid)
        code = 0
    except BaseException as e:
        _report(chan, e)
    finally:
        os._exit(code)


def _switch_user(sys: Syscall, plan: InitPlan) -> None:
    """setgroups/setresgid/setresuid keeping the permitted capabilities (PR_SET_KEEPCAPS)."""
    sys.prctl(k.PR_SET_KEEPCAPS, 1)
    if plan.additional_gids or not plan.new_userns:
        os.setgroups(list(plan.additional_gids))
    os.setresgid(plan.gid, plan.gid, plan.gid)
    os.setresuid(plan.uid, plan.uid, plan.uid)
    sys.prctl(k.PR_SET_KEEPCAPS, 0)
    # A uid change cleared the effective set; raise it back to permitted so that the bounding
    # set can still be dropped (that needs CAP_SETPCAP) before the final sets are applied.
    _, permitted, _ = sys.capget()
    sys.capset(permitted, permitted, 0)


def _apply_security(sys: Syscall, plan: InitPlan, seccomp: SeccompFilter | None) -> None:
    """User, capabilities and no_new_privs; without no_new_privs also the seccomp filter."""
    process = plan.spec["process"]
    if seccomp is not None and not process.get("noNewPrivileges"):
        # Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before dropping.
        load_seccomp(seccomp)
    _switch_user(sys, plan)
    apply_capabilities(sys, parse_capabilities(process.get("capabilities", {})))
    if process.get("noNewPrivileges"):
        sys.prctl(k.PR_SET_NO_NEW_PRIVS, 1)


def run_init(
    plan: InitPlan,
    chan: Channel,
    fifo: str,
    console: socket.socket | None,
    seccomp: SeccompFilter | None,
) -> NoReturn:
    """Stage two, the container's PID 1 until execve(2)."""
    code = 1
    try:
        _init(LinuxSyscall(), plan, chan=chan, fifo=fifo, console=console, seccomp=seccomp)
    except BaseException as e:
        _report(chan, e)
    finally:
        os._exit(code)


def _init(
    sys: Syscall,
    plan: InitPlan,
    *,
    chan: Channel,
    fifo: str,
    console: socket.socket | None,
    seccomp: SeccompFilter | None,
) -> NoReturn:
    spec = plan.spec
    linux = spec.get("linux", {})
    process = spec["process"]
    state = chan.recv()["state"]
    os.setsid()
    root = plan.rootfs
    slave = None
    if plan.new_mountns:
        rootfs.prepare_root(sys, root, linux.get("rootfsPropagation"))
        rootfs.mount_all(sys, root, list(plan.mounts))
        if plan.make_devices:
            rootfs.populate_dev(sys, root, list(plan.devices), plan.new_userns)
        if process.get("terminal"):
            master, slave_host = open_pty(os.path.join(root, "dev/pts"))
            set_size(master, process.get("consoleSize"))
            if console is not None:
                send_master(console, master)
                console.close()
            os.close(master)
            rootfs.bind_console(sys, root, slave_host)
            slave = "/dev/pts/" + os.path.basename(slave_host)
    chan.send(stage="mounted")
    chan.recv()  # prestart and createRuntime hooks have run
    hooks = spec.get("hooks", {})
    run_hooks("createContainer", hooks.get("createContainer", []), state)
    fifo_fd = os.open(fifo, os.O_PATH | os.O_CLOEXEC)
    if plan.new_mountns:
        if plan.no_pivot:
            rootfs.move_root(sys, root)
        else:
            rootfs.pivot_root(sys, root)
    if spec.get("hostname"):
        sys.sethostname(spec["hostname"])
    if spec.get("domainname"):
        sys.setdomainname(spec["domainname"])
    for key, value in (linux.get("sysctl") or {}).items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)
    rootfs.readonly_paths(sys, linux.get("readonlyPaths", []))
    rootfs.mask_paths(sys, linux.get("maskedPaths", []))
    if spec.get("root", {}).get("readonly"):
        rootfs.readonly_root(sys)
    if "oomScoreAdj" in process:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(process["oomScoreAdj"]))
    apply_rlimits(list(plan.rlimits))
    if slave is not None:
        make_controlling(slave)
    _apply_security(sys, plan, seccomp)
    os.umask(process.get("user", {}).get("umask", 0o022))
    cwd = process.get("cwd", "/")
    try:
        os.chdir(cwd)
    except OSError as e:
        raise OSError(e.errno, f"process.cwd {cwd}: {e.strerror}") from None
    args = process["args"]
    path = resolve_executable(args[0], plan.env, cwd)
    chan.send(stage="created")
    chan.close()
    # Blocks until `start` opens the FIFO for reading (the O_PATH fd survives pivot_root).
    wfd = os.open(f"/proc/self/fd/{fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
    # startContainer hooks run before `start` is told: its poststart hooks then come after them.
    run_hooks("startContainer", hooks.get("startContainer", []), state)
    os.write(wfd, b"0")
    os.close(wfd)
    os.close(fifo_fd)
    if seccomp is not None and process.get("noNewPrivileges"):
        load_seccomp(seccomp)  # as late as possible: only execve(2) is left
    try:
        os.execve(path, args, dict(e.split("=", 1) for e in plan.env))
    except OSError as e:
        os.write(2, f"dockyard-runtime: exec {args[0]}: {e.strerror}\n".encode())
        os._exit(127 if e.errno == errno.ENOENT else 126)


__all__ = ["DockyardError", "run_init", "run_intermediate"]
