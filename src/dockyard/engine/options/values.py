"""Parsers of `dockyard run`'s plain values: sizes, CPUs, integers, ulimits, the restart
policy, durations, signals, cpusets, labels and sysctls, each as Docker's CLI reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from dockyard.errors import InvalidArgument

# go-units' sizeRegex: a decimal number, an optional unit, an optional "i" and "b".
_SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
# Go's strconv.ParseInt: ASCII digits and a sign only (Python's int() also takes "1_000",
# spaces and other scripts' digits).
_INT = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def _is_int(text: str) -> bool:
    return bool(_INT.match(text))


_BINARY = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(text: str, flag: str = "--memory", *, allow_unlimited: bool = False) -> int:
    """`512m`, `1g`, `100` (bytes) → bytes, as Docker's `units.RAMInBytes`; `-1` if allowed."""
    if allow_unlimited and text.strip() == "-1":
        return -1
    match = _SIZE.match(text)
    if match is None or match.group(1).count(".") > 1:
        raise InvalidArgument(
            f'invalid {flag} "{text}": use a number with an optional unit b, k, m or g'
        )
    number = Decimal(match.group(1))
    return int(number * _BINARY[(match.group(2) or "").lower()])


def parse_cpus(text: str, flag: str = "--cpus") -> int:
    """`1.5` → 1_500_000_000 nano-CPUs; zero, negative or finer than 1e-9 is an error."""
    if not _DECIMAL.match(text):
        raise InvalidArgument(f'invalid {flag} "{text}": use a decimal number such as 1.5')
    value = Decimal(text)
    if value <= 0:
        raise InvalidArgument(f"{flag} must be greater than 0")
    nano = value * 1_000_000_000
    if nano != nano.to_integral_value():
        raise InvalidArgument(f'invalid {flag} "{text}": value is too precise (at most 9 decimals)')
    return int(nano)


def parse_int(text: str, flag: str, *, minimum: int | None = None) -> int:
    """A decimal integer flag value (`--cpu-shares`, `--pids-limit`, `--oom-score-adj`…)."""
    if not _is_int(text):
        raise InvalidArgument(f'invalid {flag} "{text}": use a whole number')
    value = int(text)
    if minimum is not None and value < minimum:
        raise InvalidArgument(f'invalid {flag} "{text}": use a number of at least {minimum}')
    return value


# go-units ulimit.go: Docker's names → the runtime-spec's RLIMIT_* types.
ULIMIT_NAMES: tuple[str, ...] = (
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
)


@dataclass(frozen=True)
class Ulimit:
    """One `--ulimit`: Docker's name (`nofile`), soft and hard limits (-1: unlimited)."""

    name: str
    soft: int
    hard: int

    @property
    def rlimit_type(self) -> str:
        """The runtime-spec rlimit type, `RLIMIT_NOFILE`."""
        return "RLIMIT_" + self.name.upper()


def parse_ulimit(text: str) -> Ulimit:
    """`nofile=1024[:2048]` → Ulimit; the hard limit defaults to the soft one."""
    name, sep, limits = text.partition("=")
    if not sep:
        raise InvalidArgument(f'invalid --ulimit "{text}": use NAME=SOFT[:HARD], e.g. nofile=1024')
    if name not in ULIMIT_NAMES:
        raise InvalidArgument(
            f'invalid --ulimit "{text}": unknown limit {name!r}; '
            f"use one of {', '.join(ULIMIT_NAMES)}"
        )
    parts = limits.split(":")
    if len(parts) > 2:
        raise InvalidArgument(f'invalid --ulimit "{text}": give at most two limits, SOFT[:HARD]')
    if not all(_is_int(p) for p in parts):
        raise InvalidArgument(f'invalid --ulimit "{text}": limits must be whole numbers')
    values = [int(p) for p in parts]
    soft, hard = values[0], values[-1]
    if hard != -1 and (soft == -1 or soft > hard):
        raise InvalidArgument(
            f'invalid --ulimit "{text}": the soft limit must not exceed the hard limit'
        )
    return Ulimit(name, soft, hard)


RestartName = Literal["no", "always", "unless-stopped", "on-failure"]
RESTART_NAMES: tuple[RestartName, ...] = ("no", "always", "unless-stopped", "on-failure")


@dataclass(frozen=True)
class RestartPolicy:
    """Docker's `RestartPolicy` {Name, MaximumRetryCount}; retries only count for on-failure."""

    name: RestartName = "no"
    max_retries: int = 0


def parse_restart(text: str) -> RestartPolicy:
    """`no`, `always`, `unless-stopped`, `on-failure[:N]` → RestartPolicy."""
    name, sep, count = text.partition(":")
    for known in RESTART_NAMES:
        if name == known:
            break
    else:
        raise InvalidArgument(
            f'invalid --restart "{text}": use no, always, unless-stopped or on-failure[:N]'
        )
    if not sep:
        return RestartPolicy(known, 0)
    if known != "on-failure":
        raise InvalidArgument(
            f'invalid --restart "{text}": only on-failure takes a retry count, e.g. on-failure:3'
        )
    if not count.isascii() or not count.isdigit():
        raise InvalidArgument(
            f'invalid --restart "{text}": the retry count must be a whole number of at least 0'
        )
    return RestartPolicy(known, int(count))


# Go's time.ParseDuration units, in nanoseconds.
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str, flag: str = "--health-interval") -> int:
    """A Go duration (`30s`, `1m30s`, `500ms`, `1h`, `0`) → nanoseconds; negative is an error."""
    body = text[1:] if text[:1] in "+-" else text
    if text.startswith("-") and body != "0":
        raise InvalidArgument(f'invalid {flag} "{text}": it cannot be negative')
    if body == "0":
        return 0
    pos, total = 0, Decimal(0)
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None:
            break
        total += Decimal(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise InvalidArgument(
            f'invalid {flag} "{text}": use a duration with a unit, e.g. 30s, 1m30s, 500ms or 1h'
        )
    return int(total)


def parse_signal(text: str, flag: str = "--stop-signal") -> int:
    """`SIGTERM`, `TERM`, `term` or `15` → the signal number (the runtime's parser, our wording)."""
    from dockyard.runtime.container_kill import parse_signal as runtime_parse_signal

    try:
        return runtime_parse_signal(text)
    except InvalidArgument:
        raise InvalidArgument(
            f'invalid {flag} "{text}": use a signal name like SIGTERM or a number'
        ) from None


_CPUSET_PART = re.compile(r"^([0-9]+)(?:-([0-9]+))?$")


def parse_cpuset(text: str, flag: str = "--cpuset-cpus") -> str:
    """`0-3,5` → the same list, validated (ascending ranges of CPU numbers)."""
    if text == "":
        return ""
    for part in text.split(","):
        match = _CPUSET_PART.match(part)
        if match is None or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise InvalidArgument(f'invalid {flag} "{text}": use CPU numbers and ranges like 0-3,5')
    return text


def parse_label(text: str, flag: str = "--label") -> tuple[str, str]:
    """`key=value` or `key` (empty value) → (key, value)."""
    key, _, value = text.partition("=")
    if not key.strip():
        raise InvalidArgument(f'invalid {flag} "{text}": the label needs a name, e.g. KEY=VALUE')
    return key, value


def read_label_file(path: str | Path) -> list[tuple[str, str]]:
    """A `--label-file`: one label per line, `#` comment and blank lines skipped."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidArgument(f"--label-file {path}: no such file; give an existing path") from None
    except IsADirectoryError:
        raise InvalidArgument(f"--label-file {path}: is a directory; give a file") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InvalidArgument(f"--label-file {path}: not UTF-8 text; re-encode it") from None
    labels = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#"):
            labels.append(parse_label(stripped, f"--label-file {path}: label"))
    return labels


def parse_sysctl(text: str) -> tuple[str, str]:
    """`--sysctl net.ipv4.ip_forward=1` → (name, value)."""
    name, sep, value = text.partition("=")
    if not sep or not re.match(r"^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$", name):
        raise InvalidArgument(
            f'invalid --sysctl "{text}": use NAME=VALUE, e.g. net.core.somaxconn=1024'
        )
    return name, value
