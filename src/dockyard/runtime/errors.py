"""Errors of the OCI runtime, in runc's wording where it has one."""

from __future__ import annotations

from dockyard.errors import Conflict, InvalidArgument, NotFound


class ContainerNotFound(NotFound):
    """No container with this id under the runtime root."""

    def __init__(self, container_id: str) -> None:
        super().__init__(f"container {container_id!r} does not exist")


class ContainerExists(Conflict):
    """A container with this id already exists under the runtime root."""

    def __init__(self, container_id: str) -> None:
        super().__init__(f"container with id {container_id!r} already exists")


class BadConfig(InvalidArgument):
    """The bundle's config.json is missing, malformed or asks for something impossible."""


class ExecutableNotFound(NotFound):
    """The container's program does not exist (the engine maps this to exit code 127)."""


class ExecutableNotRunnable(InvalidArgument):
    """The container's program exists but cannot be executed (exit code 126)."""


class InitFailed(InvalidArgument):
    """The container's init process failed while setting up the container."""
