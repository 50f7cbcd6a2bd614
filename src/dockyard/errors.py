"""The one exception tree of dockyard; each layer raises these, `cli/` maps them to exit codes."""

from __future__ import annotations


class DockyardError(Exception):
    """Base of every error dockyard raises on purpose; its message is one actionable line."""


class NotFound(DockyardError):
    """A named thing (container, image, file, namespace) does not exist."""


class Conflict(DockyardError):
    """The request clashes with the current state (a duplicate id, a running container)."""


class InvalidArgument(DockyardError):
    """The user's input (a flag, a config file, an identifier) is malformed."""


class Unavailable(DockyardError):
    """A needed resource or feature is missing on this host (a controller, a tool)."""


class KernelError(DockyardError):
    """A system call failed; carries the operation, the path it acted on and the errno."""

    def __init__(self, op: str, path: str, errno: int, detail: str = "") -> None:
        import os

        self.op = op
        self.path = path
        self.errno = errno
        msg = f"{op} {path}: {os.strerror(errno)}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)
