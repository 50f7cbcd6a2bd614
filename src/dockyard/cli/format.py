"""Output helpers shared by the CLI commands: tables, human sizes and times, --format."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any


def human_size(size: float) -> str:
    """Docker's sizes: decimal units with three significant digits (`1.98MB`)."""
    units = ["B", "kB", "MB", "GB", "TB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.3g}{units[i]}"


def human_ago(when: float, now: float | None = None) -> str:
    """`About a minute ago`, `3 hours ago` — Docker's wording."""
    delta = max(0.0, (now or time.time()) - when)
    if delta < 1:
        return "Less than a second ago"
    if delta < 60:
        return "1 second ago" if int(delta) == 1 else f"{int(delta)} seconds ago"
    minutes = delta / 60
    if minutes < 1.5:
        return "About a minute ago"
    if minutes < 60:
        return f"{round(minutes)} minutes ago"
    hours = minutes / 60
    if hours < 1.5:
        return "About an hour ago"
    if hours < 48:
        return f"{round(hours)} hours ago"
    days = hours / 24
    if days < 14:
        return f"{round(days)} days ago"
    if days < 60:
        return f"{round(days / 7)} weeks ago"
    if days < 730:
        return f"{round(days / 30)} months ago"
    return f"{round(days / 365)} years ago"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded as Docker's tabwriter does (three spaces between columns)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = []
    for row in [list(headers), *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines)


_FIELD = re.compile(r"\{\{\s*(json\s+)?((?:\.[A-Za-z_][A-Za-z0-9_]*)*|\.)\s*\}\}")


def go_template(template: str, data: Any) -> str:
    """A subset of Go templates: `{{.A.B}}`, `{{json .A}}`, `{{.}}`; `\\t`/`\\n` escapes."""

    def value(match: re.Match[str]) -> str:
        as_json, path = match.group(1), match.group(2)
        current = data
        for part in [p for p in path.split(".") if p]:
            if isinstance(current, dict):
                current = current.get(part, "")
            else:
                current = getattr(current, part, "")
        if as_json:
            return json.dumps(current)
        if isinstance(current, bool):
            return "true" if current else "false"
        if isinstance(current, (dict, list)):
            return json.dumps(current)
        return "" if current is None else str(current)

    return _FIELD.sub(value, template.replace("\\t", "\t").replace("\\n", "\n"))
