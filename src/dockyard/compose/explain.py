"""`compose config --explain`: for every interpolated value, where it came from."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.compose.errors import format_path
from dockyard.compose.interpolate import SourceKind, Substitution


@dataclass(frozen=True)
class Explanation:
    """One row: where a variable was used, its value and the source that provided it."""

    where: str
    path: str
    variable: str
    value: str
    source: str


def _source(record: Substitution, base: str) -> str:
    if record.kind is SourceKind.DOTENV and record.origin is not None:
        return f"{os.path.relpath(record.origin.file, base)}:{record.origin.line}"
    return {
        SourceKind.SHELL: "shell environment",
        SourceKind.DOTENV: "env file",
        SourceKind.DEFAULT: "default in the compose file",
        SourceKind.ALTERNATE: "alternate value (${VAR:+…}), the variable is set",
        SourceKind.UNSET: "not set: empty string",
    }[record.kind]


def explain(substitutions: Iterable[Substitution], base: str) -> list[Explanation]:
    """Rows for each substitution, file names relative to `base` (the project directory)."""
    rows = []
    for record in substitutions:
        where = ""
        if record.location is not None:
            where = f"{os.path.relpath(record.location.file, base)}:{record.location.line}"
        rows.append(
            Explanation(
                where,
                format_path(record.path),
                record.variable,
                record.value,
                _source(record, base),
            )
        )
    return rows


def format_explanations(rows: Iterable[Explanation]) -> str:
    """Plain aligned text, one line per row: `file:line  path  VAR=value  ← source`."""
    lines = [(r.where, r.path, f"{r.variable}={r.value}", r.source) for r in rows]
    if not lines:
        return ""
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "\n".join(
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  <- {d}" for a, b, c, d in lines
    )
