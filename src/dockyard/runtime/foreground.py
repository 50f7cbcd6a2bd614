"""Waiting on a container process in the foreground: signal forwarding, terminal proxying."""

from __future__ import annotations

import os
import select
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from dockyard.kernel import constants as k
from dockyard.kernel.syscall import LinuxSyscall

FORWARDED = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
)


def become_subreaper() -> None:
    """Orphans of our children (the container's init) are re-parented to us, so we can wait."""
    LinuxSyscall().prctl(k.PR_SET_CHILD_SUBREAPER, 1)


def exit_code(status: int) -> int:
    """A wait status as a shell exit code: the code, or 128+signal when killed."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


@contextmanager
def forwarding_signals(pid_holder: list[int]) -> Iterator[None]:
    """Forward the usual terminal signals to the container's process while waiting."""

    def forward(signum: int, _frame: object) -> None:
        if pid_holder:
            with suppress(ProcessLookupError):
                os.kill(pid_holder[0], signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_for(pid: int) -> int:
    """Wait for `pid` (our child, via the subreaper) and every other orphan; return its code."""
    while True:
        try:
            reaped, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return 255
        if reaped == pid:
            return exit_code(status)


def console_pair() -> tuple[socket.socket, socket.socket]:
    """A socket pair standing in for `--console-socket` when we own the terminal ourselves."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def proxy_terminal(master: int) -> None:
    """Copy our stdin to the pty master and the master to our stdout until the pty closes."""
    import termios
    import tty

    saved = None
    if os.isatty(0):
        saved = termios.tcgetattr(0)
        tty.setraw(0)
    try:
        fds = [master, 0]
        while True:
            try:
                ready, _, _ = select.select(fds, [], [])
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave end is closed, the program is gone
                    return
                if not data:
                    return
                os.write(1, data)
            if 0 in ready:
                data = os.read(0, 65536)
                if not data:
                    fds.remove(0)
                else:
                    os.write(master, data)
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
