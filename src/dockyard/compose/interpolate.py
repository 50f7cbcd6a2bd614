"""Variable interpolation exactly as the Compose specification (interpolation.md).

Forms: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`,
`${VAR:+alt}`, `${VAR+alt}`, `$$` for a literal `$`; defaults nest and are only evaluated when
used. Every substitution is recorded with where its value came from, for `config --explain`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.compose.errors import ComposeError, ComposeWarning, KeyPath, Location
from dockyard.compose.source import Document, Override

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class SourceKind(enum.Enum):
    """Where an interpolated value came from."""

    SHELL = "shell"
    DOTENV = "dotenv"
    DEFAULT = "default"
    ALTERNATE = "alternate"
    UNSET = "unset"


@dataclass(frozen=True)
class Variable:
    """A variable's value and its origin (the `.env` file and line for DOTENV)."""

    value: str
    kind: SourceKind
    origin: Location | None = None


@dataclass(frozen=True)
class Substitution:
    """One `${VAR…}` replaced at `path`, with the value used and where it came from."""

    variable: str
    value: str
    kind: SourceKind
    path: KeyPath = ()
    location: Location | None = None
    origin: Location | None = None


Lookup = Callable[[str], Variable | None]


def mapping_lookup(variables: Mapping[str, Variable]) -> Lookup:
    """A lookup over a fixed mapping of variables."""
    return variables.get


class _Template:
    """One string being expanded; collects substitutions as it goes."""

    def __init__(self, text: str, lookup: Lookup, path: KeyPath, location: Location | None) -> None:
        self.text = text
        self.lookup = lookup
        self.path = path
        self.location = location
        self.records: list[Substitution] = []

    def fail(self, message: str) -> ComposeError:
        return ComposeError(message, location=self.location, path=self.path)

    def expand(self, start: int, end: int) -> str:
        text = self.text
        out: list[str] = []
        pos = start
        while pos < end:
            dollar = text.find("$", pos, end)
            if dollar < 0:
                out.append(text[pos:end])
                break
            out.append(text[pos:dollar])
            nxt = text[dollar + 1] if dollar + 1 < end else ""
            if nxt == "$":
                out.append("$")
                pos = dollar + 2
            elif nxt == "{":
                close = self._closing_brace(dollar + 2, end)
                out.append(self._braced(dollar + 2, close))
                pos = close + 1
            else:
                match = _NAME.match(text, dollar + 1, end)
                if match is None:
                    # Compose leaves a `$` that starts no variable as it is (`$ 5`, `a$`).
                    out.append("$")
                    pos = dollar + 1
                else:
                    out.append(self._plain(match.group(0)))
                    pos = match.end()
        return "".join(out)

    def _closing_brace(self, start: int, end: int) -> int:
        depth = 0
        pos = start
        text = self.text
        while pos < end:
            if text.startswith("$$", pos):
                pos += 2
                continue
            if text.startswith("${", pos):
                depth += 1
                pos += 2
                continue
            if text[pos] == "}":
                if depth == 0:
                    return pos
                depth -= 1
            pos += 1
        raise self.fail(f"invalid interpolation format {self.text!r}: missing '}}'; close it")

    def _plain(self, name: str) -> str:
        variable = self.lookup(name)
        if variable is None:
            self._record(name, "", SourceKind.UNSET, None)
            return ""
        self._record(name, variable.value, variable.kind, variable.origin)
        return variable.value

    def _braced(self, start: int, close: int) -> str:
        match = _NAME.match(self.text, start, close)
        if match is None:
            raise self.fail(
                f"invalid interpolation format {self.text!r}: "
                f"{self.text[start:close]!r} is not a variable name; use ${{NAME}}"
            )
        name = match.group(0)
        pos = match.end()
        if pos == close:
            return self._plain(name)
        operator = next((op for op in _OPERATORS if self.text.startswith(op, pos)), None)
        if operator is None:
            raise self.fail(
                f"invalid interpolation format {self.text!r}: unexpected "
                f"{self.text[pos]!r} after {name}; use :-, -, :?, ?, :+ or +"
            )
        word_start = pos + len(operator)
        variable = self.lookup(name)
        is_set = variable is not None
        non_empty = variable is not None and variable.value != ""
        usable = non_empty if operator.startswith(":") else is_set
        kind = operator[-1]
        if kind == "-":
            if usable and variable is not None:
                self._record(name, variable.value, variable.kind, variable.origin)
                return variable.value
            value = self.expand(word_start, close)
            self._record(name, value, SourceKind.DEFAULT, None)
            return value
        if kind == "?":
            if usable and variable is not None:
                self._record(name, variable.value, variable.kind, variable.origin)
                return variable.value
            message = self.expand(word_start, close) or f"{name} must be set"
            raise self.fail(f"required variable {name} is missing a value: {message}")
        if usable:
            value = self.expand(word_start, close)
            self._record(name, value, SourceKind.ALTERNATE, None)
            return value
        return ""

    def _record(self, name: str, value: str, kind: SourceKind, origin: Location | None) -> None:
        self.records.append(Substitution(name, value, kind, self.path, self.location, origin))


def substitute(
    text: str, lookup: Lookup, *, path: KeyPath = (), location: Location | None = None
) -> tuple[str, list[Substitution]]:
    """Expand every variable in `text`; returns the result and what was substituted."""
    template = _Template(text, lookup, path, location)
    return template.expand(0, len(text)), template.records


@dataclass(frozen=True)
class Interpolated:
    """A document after interpolation, with the substitutions made and warnings raised."""

    document: Document
    substitutions: tuple[Substitution, ...]
    warnings: tuple[ComposeWarning, ...]


def interpolate(document: Document, lookup: Lookup) -> Interpolated:
    """Interpolate every string value (never a key) of `document`."""
    records: list[Substitution] = []

    def walk(value: Any, path: KeyPath) -> Any:
        if isinstance(value, str):
            if "$" not in value:
                return value
            result, found = substitute(value, lookup, path=path, location=document.locate(path))
            records.extend(found)
            return result
        if isinstance(value, dict):
            return {key: walk(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*path, index)) for index, item in enumerate(value)]
        if isinstance(value, Override):
            return Override(walk(value.value, path))
        return value

    data = walk(document.data, ())
    warnings = tuple(
        ComposeWarning(
            f"variable {record.variable} is not set, using an empty string; "
            "set it in the shell or .env",
            record.location,
            record.path,
        )
        for record in records
        if record.kind is SourceKind.UNSET
    )
    return Interpolated(Document(document.file, data, document.lines), tuple(records), warnings)
