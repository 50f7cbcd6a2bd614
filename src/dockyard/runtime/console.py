"""The container's terminal: a pty made in the container's devpts, its master handed out.

As runc: the master end travels over the `--console-socket` unix socket (SCM_RIGHTS); the slave
becomes the process's stdio, controlling terminal and /dev/console.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from typing import TYPE_CHECKING

from dockyard.kernel import constants as k
from dockyard.runtime.errors import BadConfig

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import ConsoleSize


def open_pty(devpts: str) -> tuple[int, str]:
    """Open a new pty in the devpts mounted at `devpts`; returns (master fd, slave path)."""
    ptmx = os.path.join(devpts, "ptmx")
    try:
        master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BadConfig("process.terminal needs a devpts mount at /dev/pts") from None
    fcntl.ioctl(master, k.TIOCSPTLCK, struct.pack("i", 0))
    number = struct.unpack("I", fcntl.ioctl(master, k.TIOCGPTN, b"\0\0\0\0"))[0]
    return master, os.path.join(devpts, str(number))


def set_size(fd: int, size: ConsoleSize | None) -> None:
    """Apply the spec's consoleSize to the terminal on `fd`."""
    if size:
        fcntl.ioctl(fd, k.TIOCSWINSZ, struct.pack("HHHH", size["height"], size["width"], 0, 0))


def make_controlling(slave: str) -> None:
    """Make the pty slave stdin/stdout/stderr and the controlling terminal of this session."""
    fd = os.open(slave, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)
    fcntl.ioctl(0, k.TIOCSCTTY, 0)


def send_master(console_socket: socket.socket, master: int) -> None:
    """Hand the master end to whoever listens on the console socket."""
    socket.send_fds(console_socket, [b"/dev/ptmx"], [master])


def connect(path: str) -> socket.socket:
    """Connect to a `--console-socket` path."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise BadConfig(f"console socket {path}: {e.strerror}") from None
    return sock


def receive_master(sock: socket.socket) -> int:
    """Receive the master fd sent by `send_master`."""
    _, fds, _, _ = socket.recv_fds(sock, 1024, 1)
    if not fds:
        raise OSError("no terminal received on the console socket")
    return fds[0]
