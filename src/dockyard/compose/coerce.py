"""Scalar coercion after interpolation: `"${DEBUG:-false}"` is a string that means a boolean."""

from __future__ import annotations

from typing import Any

_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True", "y", "Y", "yes", "YES", "Yes"})
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False", "n", "N", "no", "NO", "No"})


def to_bool(value: Any) -> bool:
    """A boolean, from a bool or the strings Go's strconv.ParseBool (and YAML 1.1) accept."""
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'"{value}" is not a boolean; use true or false')


def to_int(value: Any) -> int:
    """An integer, from an int or its decimal string."""
    if isinstance(value, bool):
        raise ValueError(f'"{value}" is not an integer')
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip(), 10)
    except ValueError:
        raise ValueError(f'"{value}" is not an integer') from None


def to_float(value: Any) -> float:
    """A number, from an int, a float or its string."""
    if isinstance(value, bool):
        raise ValueError(f'"{value}" is not a number')
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f'"{value}" is not a number') from None


def to_str(value: Any) -> str:
    """A scalar as text (`true`, not `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
