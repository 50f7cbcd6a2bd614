"""The one error type of the Dockerfile front end."""

from __future__ import annotations

from dockyard.errors import InvalidArgument


class DockerfileError(InvalidArgument):
    """A Dockerfile is malformed; the message names the file and line."""

    def __init__(self, message: str, *, file: str = "Dockerfile", line: int = 0) -> None:
        self.file = file
        self.line = line
        self.reason = message
        where = f"{file}:{line}" if line > 0 else file
        super().__init__(f"{where}: {message}")


class LexError(ValueError):
    """A word could not be lexed (unterminated quote, bad substitution); carries no location."""
