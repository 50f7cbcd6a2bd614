"""`.env` / env_file parsing as Compose's dotenv reads it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from dockyard.compose.dotenv import parse_dotenv, read_dotenv
from dockyard.compose.errors import ComposeError, ComposeFileNotFound, Location


def values(text: str, raw: bool = False) -> dict[str, str | None]:
    return {e.key: e.value for e in parse_dotenv(text, ".env", raw=raw)}


def test_plain_values_comments_and_export() -> None:
    text = "# a comment\n\nA=1\nexport B=two words\nC= spaced  \nD=value # comment\nE=a#b\nF=\nG\n"
    assert values(text) == {
        "A": "1",
        "B": "two words",
        "C": "spaced",
        "D": "value",
        "E": "a#b",
        "F": "",
        "G": None,
    }


def test_quotes() -> None:
    text = (
        "S='single $X \\n # kept'\n"
        'D="double \\"q\\" \\n\\t # kept"\n'
        'M="first\nsecond"\n'
        "A='multi\nline'\n"
        'T="x" # trailing comment\n'
    )
    assert values(text) == {
        "S": "single $X \\n # kept",
        "D": 'double "q" \n\t # kept',
        "M": "first\nsecond",
        "A": "multi\nline",
        "T": "x",
    }


def test_entries_carry_their_line() -> None:
    entries = parse_dotenv('# c\nA=1\nB="x\ny"\nC=3\n', "dir/.env")
    assert [(e.key, e.location) for e in entries] == [
        ("A", Location("dir/.env", 2)),
        ("B", Location("dir/.env", 3)),
        ("C", Location("dir/.env", 5)),
    ]


def test_substitution_applies_to_unquoted_and_double_quoted_only() -> None:
    seen: list[str] = []

    def sub(text: str, location: Location, earlier: Mapping[str, str]) -> str:
        seen.append(text)
        return text.upper()

    entries = parse_dotenv("A=${x}\nB=\"${y}\\$z\"\nC='${z}'\n", ".env", substitute=sub)
    assert [e.value for e in entries] == ["${X}", "${Y}$$Z", "${z}"]
    assert seen == ["${x}", "${y}$$z"]


def test_later_lines_see_earlier_ones() -> None:
    def sub(text: str, location: Location, earlier: Mapping[str, str]) -> str:
        return text.replace("${A}", earlier.get("A", "?"))

    entries = parse_dotenv("B=${A}\nA=1\nC=${A}2\n", ".env", substitute=sub)
    assert [e.value for e in entries] == ["?", "1", "12"]


def test_raw_format_keeps_everything() -> None:
    assert values("A='q' # c\nB=\"x\\n\"\n", raw=True) == {"A": "'q' # c", "B": '"x\\n"'}


@pytest.mark.parametrize(
    ("text", "line"),
    [("1A=x\n", 1), ("A=1\nB C=2\n", 2), ('A=1\nB="open\n', 2), ("=x\n", 1)],
)
def test_bad_lines_name_their_line(text: str, line: int) -> None:
    with pytest.raises(ComposeError, match=rf"^\.env:{line}: "):
        values(text)


def test_missing_file(scratch: Path) -> None:
    with pytest.raises(ComposeFileNotFound, match="not found"):
        read_dotenv(scratch / "absent.env")
