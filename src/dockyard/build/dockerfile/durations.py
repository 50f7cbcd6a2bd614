"""Go-style durations (`30s`, `1m30s`, `1.5h`, `250ms`) as integer nanoseconds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

_UNITS: Mapping[str, int] = MappingProxyType(
    {
        "ns": 1,
        "us": 1_000,
        "\u00b5s": 1_000,
        "\u03bcs": 1_000,
        "ms": 1_000_000,
        "s": 1_000_000_000,
        "m": 60_000_000_000,
        "h": 3_600_000_000_000,
    }
)
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-z\u00b5\u03bc]+)")
_FORMAT_UNITS = (
    ("h", _UNITS["h"]),
    ("m", _UNITS["m"]),
    ("s", _UNITS["s"]),
    ("ms", _UNITS["ms"]),
    ("us", _UNITS["us"]),
    ("ns", 1),
)


def parse_duration(text: str) -> int:
    """Nanoseconds of a Go duration string; raises ValueError when it is not one."""
    sign = 1
    rest = text
    if rest[:1] in ("-", "+"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f"invalid duration {text!r}")
    total = Decimal(0)
    pos = 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        if match is None or match.group(1) in ("", ".") or match.group(2) not in _UNITS:
            raise ValueError(f"invalid duration {text!r}")
        try:
            total += Decimal(match.group(1)) * _UNITS[match.group(2)]
        except InvalidOperation:
            raise ValueError(f"invalid duration {text!r}") from None
        pos = match.end()
    return sign * int(total)


def format_duration(ns: int) -> str:
    """A Go duration string for `ns` nanoseconds that parse_duration reads back exactly."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    left = abs(ns)
    parts = []
    for unit, size in _FORMAT_UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
