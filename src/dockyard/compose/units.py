"""Compose's units: Go durations (`1m30s`) and byte sizes (`512m`, `1gb`)."""

from __future__ import annotations

import re
from types import MappingProxyType

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_NANOSECONDS = MappingProxyType(
    {
        "ns": 1,
        "us": 10**3,
        "µs": 10**3,
        "ms": 10**6,
        "s": 10**9,
        "m": 60 * 10**9,
        "h": 3600 * 10**9,
    }
)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)b?", re.IGNORECASE)
_SIZE_FACTOR = MappingProxyType(
    {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
)


def parse_duration(value: str | int | float) -> float:
    """A Go duration string (`1m30s`, `500ms`, `1.5h`) in seconds; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f'invalid duration "{value}"; write it like 1m30s')
    if isinstance(value, int | float):
        # A bare number in a compose file is seconds, as compose-go reads it.
        return float(value)
    text = value.strip()
    if text in ("0", "+0", "-0"):
        return 0.0
    negative = text.startswith("-")
    body = text.lstrip("+-")
    total = 0.0
    pos = 0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None:
            raise ValueError(f'invalid duration "{value}"; write it like 1m30s')
        # Summed in nanoseconds, as Go does, so that `100us` is exactly 1e-4 seconds.
        total += float(match.group(1)) * _DURATION_NANOSECONDS[match.group(2)]
        pos = match.end()
    if not body:
        raise ValueError(f'invalid duration "{value}"; write it like 1m30s')
    seconds = total / 1e9
    return -seconds if negative else seconds


def parse_size(value: str | int | float) -> int:
    """A byte size (`512m`, `1gb`, `1024`, 1.5g) as docker's RAMInBytes reads it; ValueError."""
    if isinstance(value, bool):
        raise ValueError(f'invalid size "{value}"; write it like 512m')
    if isinstance(value, int | float):
        return int(value)
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f'invalid size "{value}"; write it like 512m')
    return int(float(match.group(1)) * _SIZE_FACTOR[match.group(2).lower()])


def format_duration(seconds: float) -> str:
    """Seconds as a Go duration string (`90.0` → `1m30s`), the inverse of `parse_duration`."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    rest = round(abs(seconds) * 1_000_000_000)  # whole nanoseconds: exact for what we parse
    out = ""
    for unit, size in (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                       ("us", 10**3), ("ns", 1)):  # fmt: skip
        count, rest = divmod(rest, size)
        if count:
            out += f"{count}{unit}"
    return sign + out
