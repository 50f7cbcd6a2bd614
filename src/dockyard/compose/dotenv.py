"""`.env` and `env_file` parsing as Compose's dotenv does: `export `, comments, quotes.

Single quotes are literal; double quotes take `\\n`, `\\t`, `\\"`, `\\\\`, `\\$` escapes, may span
lines and are interpolated like unquoted values; an unquoted value ends at ` #`. A bare `KEY`
line means "take KEY from the environment". `format: raw` keeps every value as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from dockyard.compose.errors import ComposeError, ComposeFileNotFound, Location

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_ESCAPES = MappingProxyType({"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$$"})

# Interpolates a value: (text, where it was written, the file's entries so far) → result.
Substitute = Callable[[str, Location, Mapping[str, str]], str]


@dataclass(frozen=True)
class EnvEntry:
    """One `KEY=value` from an env file; `value` is None for a bare `KEY` line."""

    key: str
    value: str | None
    location: Location


def _identity(text: str, location: Location, earlier: Mapping[str, str]) -> str:
    return text


def parse_dotenv(
    text: str, file: str, *, substitute: Substitute = _identity, raw: bool = False
) -> list[EnvEntry]:
    """Parse env-file text; `substitute` interpolates unquoted and double-quoted values."""
    entries: list[EnvEntry] = []
    earlier: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].lstrip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        match = _KEY.match(line)
        location = Location(file, number)
        if match is None:
            raise ComposeError(f"invalid line {line.strip()!r}; write KEY=value", location=location)
        key = match.group(0)
        rest = line[match.end() :].lstrip(" \t")
        if not rest or rest.startswith("#"):
            entries.append(EnvEntry(key, None, location))
            continue
        if not rest.startswith("="):
            raise ComposeError(
                f"invalid variable name in {line.strip()!r}; write KEY=value", location=location
            )
        rest = rest[1:]
        if raw:
            earlier[key] = rest
            entries.append(EnvEntry(key, rest, location))
            continue
        rest = rest.lstrip(" \t")
        if rest[:1] in ("'", '"'):
            value, index = _quoted(
                rest, lines, index, location, substitute=substitute, earlier=earlier
            )
        else:
            value = substitute(_strip_comment(rest).strip(), location, earlier)
        earlier[key] = value
        entries.append(EnvEntry(key, value, location))
    return entries


def _strip_comment(value: str) -> str:
    # An unquoted value's comment needs whitespace before `#`, so `a#b` keeps its `#`.
    match = re.search(r"\s#", value)
    return value[: match.start()] if match else value


def _quoted(
    first: str,
    lines: list[str],
    index: int,
    location: Location,
    *,
    substitute: Substitute,
    earlier: Mapping[str, str],
) -> tuple[str, int]:
    """Read a quoted value that may continue on the following lines."""
    quote = first[0]
    text = first[1:]
    while True:
        end = _closing(text, quote)
        if end >= 0:
            body = text[:end]
            break
        if index >= len(lines):
            raise ComposeError(
                f"unterminated {quote} quote; close the value with {quote}", location=location
            )
        text += "\n" + lines[index]
        index += 1
    if quote == "'":
        return body, index
    unescaped = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)
    return substitute(unescaped, location, earlier), index


def _closing(text: str, quote: str) -> int:
    escaped = False
    for pos, char in enumerate(text):
        if quote == '"' and char == "\\" and not escaped:
            escaped = True
            continue
        if char == quote and not escaped:
            return pos
        escaped = False
    return -1


def read_dotenv(
    path: Path, *, substitute: Substitute = _identity, raw: bool = False
) -> list[EnvEntry]:
    """Read and parse the env file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComposeFileNotFound(f"env file {path} not found; create it or fix the path") from None
    except IsADirectoryError:
        raise ComposeError(f"env file {path} is a directory; name a file") from None
    except UnicodeDecodeError:
        raise ComposeError(f"env file {path} is not UTF-8 text; re-save it as UTF-8") from None
    return parse_dotenv(text, str(path), substitute=substitute, raw=raw)
