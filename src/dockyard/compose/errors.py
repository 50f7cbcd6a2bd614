"""Compose's error types: one line naming the file, the line and the key path when known."""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.errors import InvalidArgument, NotFound

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Location:
    """Where something was written: a file and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def format_path(path: KeyPath) -> str:
    """Render a key path as Compose users read it: `services.web.ports[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _compose_message(message: str, location: Location | None, path: KeyPath | None) -> str:
    prefix = ""
    if location is not None:
        prefix += f"{location}: "
    if path:
        prefix += f"{format_path(path)}: "
    return prefix + message


class ComposeError(InvalidArgument):
    """A compose file (or its environment) is invalid; the message says where and why."""

    def __init__(
        self, message: str, *, location: Location | None = None, path: KeyPath | None = None
    ) -> None:
        self.reason = message
        self.location = location
        self.path = path
        super().__init__(_compose_message(message, location, path))


class ComposeFileNotFound(NotFound):
    """A file the project needs (compose file, env_file, extends/include target) is missing."""

    def __init__(
        self, message: str, *, location: Location | None = None, path: KeyPath | None = None
    ) -> None:
        self.reason = message
        self.location = location
        self.path = path
        super().__init__(_compose_message(message, location, path))


@dataclass(frozen=True)
class ComposeWarning:
    """Something the user should know but that does not stop the load (obsolete `version`)."""

    message: str
    location: Location | None = None
    path: KeyPath | None = None

    def __str__(self) -> str:
        return _compose_message(self.message, self.location, self.path)
