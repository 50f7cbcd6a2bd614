"""Errors of the registry client, specialising the dockyard tree."""

from __future__ import annotations

from dockyard.errors import InvalidArgument


class Unauthorized(InvalidArgument):
    """The registry refused the credentials (or wants some and none are stored)."""


class DigestMismatch(InvalidArgument):
    """Content from a registry does not hash to the digest it was asked for."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{what} has digest {actual} but {expected} was asked for: "
            "the registry's copy is corrupt or was tampered with"
        )
