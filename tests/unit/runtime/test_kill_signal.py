"""Signal parsing for `kill` (pure)."""

from __future__ import annotations

import signal

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.container_kill import parse_signal


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("TERM", 15),
        ("SIGTERM", 15),
        ("term", 15),
        ("sigterm", 15),
        ("KILL", 9),
        ("SIGKILL", 9),
        ("hup", 1),
        ("USR1", int(signal.SIGUSR1)),
        ("SIGCHLD", int(signal.SIGCHLD)),
        ("15", 15),
        ("9", 9),
        ("1", 1),
        (str(signal.NSIG - 1), signal.NSIG - 1),
    ],
)
def test_names_and_numbers(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize(
    "text",
    ["", "0", str(signal.NSIG), "999", "-9", "BOGUS", "SIG", "SIGSIGTERM", " 15", "15x", "SIG_DFL"],
)
def test_errors(text: str) -> None:
    with pytest.raises(InvalidArgument, match=f"unknown signal {text!r}"):
        parse_signal(text)


def test_superscript_digit_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        parse_signal("\u00b2")
