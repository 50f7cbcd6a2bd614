"""Docker's `--env-file` format and `-e` values, byte for byte as the Docker CLI reads them.

One `KEY=VALUE` per line; `KEY` alone passes the host's value (left out when unset); lines
starting with `#` and blank lines are skipped; no quote processing; the value is verbatim.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dockyard.errors import InvalidArgument

# Go's unicode.IsSpace set as Docker's parser checks keys against it ("whiteSpaces" is " \t").
_KEY_SPACE = " \t\n\v\f\r\x85\xa0"


def parse_env_file(text: bytes, name: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The `KEY=VALUE` entries of env-file content `text`; `name` names it in errors."""
    env = os.environ if environ is None else environ
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        line_no = text[: e.start].count(b"\n") + 1
        raise InvalidArgument(
            f"--env-file {name}: line {line_no} is not UTF-8; re-encode the file as UTF-8"
        ) from None
    out: list[str] = []
    # Docker splits on "\n" only (bufio.ScanLines also drops one trailing "\r").
    for line_no, raw in enumerate(decoded.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if line_no == 1:
            line = line.removeprefix("\ufeff")
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key, has_value, value = line.partition("=")
        if not key:
            raise InvalidArgument(
                f"--env-file {name}: line {line_no} has no variable name; write KEY=VALUE"
            )
        if any(c in _KEY_SPACE for c in key):
            raise InvalidArgument(
                f"--env-file {name}: line {line_no}: variable {key!r} contains whitespace; "
                "remove it (values are taken verbatim, no quotes needed)"
            )
        if has_value:
            out.append(f"{key}={value}")
        elif key in env:
            out.append(f"{key}={env[key]}")
    return out


def read_env_file(path: str | Path, environ: Mapping[str, str] | None = None) -> list[str]:
    """Read an `--env-file`; missing, unreadable or non-UTF-8 files name the path."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidArgument(f"--env-file {path}: no such file; give an existing path") from None
    except IsADirectoryError:
        raise InvalidArgument(f"--env-file {path}: is a directory; give a file") from None
    except PermissionError:
        raise InvalidArgument(f"--env-file {path}: permission denied; make it readable") from None
    return parse_env_file(data, str(path), environ)


def parse_env_args(values: Iterable[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """`-e KEY=VALUE` kept as is, `-e KEY` → `KEY=<host value>` (left out when unset)."""
    env = os.environ if environ is None else environ
    out: list[str] = []
    for value in values:
        key, has_value, _ = value.partition("=")
        if not key:
            raise InvalidArgument(f'invalid -e "{value}": the variable needs a name, KEY=VALUE')
        if has_value:
            out.append(value)
        elif key in env:
            out.append(f"{key}={env[key]}")
    return out


def merge_env(base: Iterable[str], overrides: Iterable[str]) -> list[str]:
    """Docker's ReplaceOrAppendEnvValues: same keys replaced in place, new ones appended.

    An override without `=` removes the key, as Docker does.
    """
    result = list(base)
    index = {entry.partition("=")[0]: i for i, entry in enumerate(result)}
    removed: set[int] = set()
    for entry in overrides:
        key, has_value, _ = entry.partition("=")
        if key in index and index[key] not in removed:
            if has_value:
                result[index[key]] = entry
            else:
                removed.add(index[key])
        elif has_value:
            index[key] = len(result)
            result.append(entry)
    return [entry for i, entry in enumerate(result) if i not in removed]
