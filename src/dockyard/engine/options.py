"""Parsers for `dockyard run` flag values, each as Docker's CLI reads them.

Every parser is pure and raises `InvalidArgument` with one line naming the flag, the value and
the fix. Results are frozen dataclasses or plain values ready for `engine.config`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class UserSpec:
    """`-u`: a user name or uid, and optionally a group name or gid, resolved later."""

    user: str
    group: str = ""

    def __str__(self) -> str:
        return f"{self.user}:{self.group}" if self.group else self.user


_USER_PART = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.$-]*$")


def parse_user(text: str) -> UserSpec:
    """`name|uid[:group|gid]` → UserSpec; resolution against /etc/passwd is the engine's."""
    user, sep, group = text.partition(":")
    if not _USER_PART.match(user) or (sep and not _USER_PART.match(group)):
        raise InvalidArgument(f'invalid --user "{text}": use NAME|UID[:GROUP|GID], e.g. 1000:1000')
    return UserSpec(user, group)


@dataclass(frozen=True)
class SecurityOpt:
    """One `--security-opt`: its key and value (`seccomp`, `unconfined`)."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}" if self.value else self.key


@dataclass(frozen=True)
class SecuritySettings:
    """The meaning of all `--security-opt`s: no-new-privileges, seccomp, and warnings to print."""

    no_new_privileges: bool = False
    seccomp: str = "default"  # "default", "unconfined" or a profile path
    warnings: tuple[str, ...] = ()


def parse_security_opt(text: str) -> SecurityOpt:
    """`no-new-privileges[:true|false]`, `seccomp=unconfined|PATH`, `label=…`, `apparmor=…`."""
    key, sep, value = text.partition("=")
    if not sep and ":" in text:
        key, _, value = text.partition(":")
    if key == "no-new-privileges":
        if value not in ("", "true", "false"):
            raise InvalidArgument(
                f'invalid --security-opt "{text}": use no-new-privileges[=true|false]'
            )
        return SecurityOpt(key, value or "true")
    if key == "seccomp" and value:
        return SecurityOpt(key, value)
    if key in ("label", "apparmor") and value:
        return SecurityOpt(key, value)
    raise InvalidArgument(
        f'invalid --security-opt "{text}": use no-new-privileges, seccomp=unconfined|PROFILE.json '
        "or label=…"
    )


def security_settings(opts: Iterable[SecurityOpt]) -> SecuritySettings:
    """Fold parsed `--security-opt`s; SELinux labels and AppArmor are ignored with a warning."""
    nnp, seccomp, warnings = False, "default", []
    for opt in opts:
        if opt.key == "no-new-privileges":
            nnp = opt.value == "true"
        elif opt.key == "seccomp":
            seccomp = opt.value
        else:
            warnings.append(f"--security-opt {opt}: ignored, this engine has no {opt.key} support")
    return SecuritySettings(nnp, seccomp, tuple(warnings))


def normalize_capabilities(names: Iterable[str], flag: str = "--cap-add") -> tuple[str, ...]:
    """`net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; `ALL` stays `ALL`."""
    from dockyard.runtime.capabilities import CAPABILITY_NAMES

    out: list[str] = []
    for name in names:
        upper = name.strip().upper()
        if upper == "ALL":
            cap = "ALL"
        else:
            cap = upper if upper.startswith("CAP_") else "CAP_" + upper
            if cap not in CAPABILITY_NAMES:
                raise InvalidArgument(
                    f'invalid {flag} "{name}": unknown capability; use a name from '
                    "capabilities(7) such as NET_ADMIN, or ALL"
                )
        if cap not in out:
            out.append(cap)
    return tuple(out)


NetworkKind = Literal["none", "host", "bridge", "container", "network"]


@dataclass(frozen=True)
class NetworkMode:
    """`--network`: none, host, bridge, container:NAME or a user-defined network's name."""

    kind: NetworkKind
    name: str = ""

    def __str__(self) -> str:
        if self.kind == "container":
            return f"container:{self.name}"
        return self.name if self.kind == "network" else self.kind


_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def parse_network(text: str) -> NetworkMode:
    """`none|host|bridge|default|container:NAME|<network>` → NetworkMode."""
    if text in ("none", "host", "bridge"):
        return NetworkMode(text)  # type: ignore[arg-type]
    if text in ("", "default"):
        return NetworkMode("bridge")
    if text.startswith("container:"):
        name = text.removeprefix("container:")
        if not name:
            raise InvalidArgument(
                f'invalid --network "{text}": name the container, e.g. container:web'
            )
        return NetworkMode("container", name)
    if not _NAME.match(text):
        raise InvalidArgument(
            f'invalid --network "{text}": use none, host, bridge, container:NAME or a network name'
        )
    return NetworkMode("network", text)


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


HOST_GATEWAY = "host-gateway"


def parse_add_host(text: str) -> tuple[str, str]:
    """`name:ip`, `name=ip` or `name:host-gateway` → (name, ip)."""
    sep = "=" if "=" in text else ":"
    name, found, ip = text.partition(sep)
    ip = ip.removeprefix("[").removesuffix("]")
    if not found or not name or not re.match(r"^[A-Za-z0-9][A-Za-z0-9.-]*$", name):
        raise InvalidArgument(f'invalid --add-host "{text}": use NAME:IP, e.g. db:10.0.0.2')
    if ip != HOST_GATEWAY:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(
                f'invalid --add-host "{text}": {ip!r} is not an IP address (or host-gateway)'
            ) from None
    return name, ip


Proto = Literal["tcp", "udp", "sctp"]


@dataclass(frozen=True)
class PortBinding:
    """One published port: host IP ("" = all), host port (0 = random), container port, proto."""

    host_ip: str
    host_port: int
    container_port: int
    proto: Proto = "tcp"


def _port_range(text: str, what: str, spec: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("-")
    if not re.match(r"^[0-9]+$", lo) or (sep and not re.match(r"^[0-9]+$", hi)):
        raise InvalidArgument(f'invalid -p "{spec}": {what} {text!r} is not a port or a range')
    start, end = int(lo), int(hi) if sep else int(lo)
    if not 0 <= start <= 65535 or not 0 <= end <= 65535 or end < start:
        raise InvalidArgument(f'invalid -p "{spec}": {what} {text!r} is outside 1-65535')
    return start, end


def parse_publish(text: str) -> list[PortBinding]:
    """`[IP:][HOST:]CTR[/proto]` with ranges → one PortBinding per container port."""
    rest, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f'invalid -p "{text}": protocol must be tcp, udp or sctp')
    host_ip = ""
    if rest.startswith("["):  # [::1]:80:80
        close = rest.find("]")
        if close < 0 or rest[close + 1 : close + 2] != ":":
            raise InvalidArgument(f'invalid -p "{text}": use [IPv6]:HOST:CONTAINER')
        host_ip, rest = rest[1:close], rest[close + 2 :]
        parts = rest.split(":")
        if len(parts) != 2:
            raise InvalidArgument(f'invalid -p "{text}": use [IPv6]:HOST:CONTAINER')
        parts = [host_ip, *parts]
    else:
        parts = rest.split(":")
    if len(parts) == 1:
        host, ctr = "", parts[0]
    elif len(parts) == 2:
        host, ctr = parts
    elif len(parts) == 3:
        host_ip, host, ctr = parts
    else:
        raise InvalidArgument(f'invalid -p "{text}": use [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]')
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise InvalidArgument(
                f'invalid -p "{text}": {host_ip!r} is not an IP address'
            ) from None
    c_start, c_end = _port_range(ctr, "container port", text)
    if c_start == 0:
        raise InvalidArgument(f'invalid -p "{text}": the container port must be 1-65535')
    if host:
        h_start, h_end = _port_range(host, "host port", text)
        if h_end - h_start != c_end - c_start:
            raise InvalidArgument(
                f'invalid -p "{text}": host and container port ranges must have the same length'
            )
    else:
        h_start = 0
    return [
        PortBinding(host_ip, h_start + i if host else 0, c_start + i, proto)  # type: ignore[arg-type]
        for i in range(c_end - c_start + 1)
    ]


def parse_expose(text: str) -> list[str]:
    """`--expose 80[/udp]` or a range → Docker's `port/proto` keys."""
    port, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f'invalid --expose "{text}": protocol must be tcp, udp or sctp')
    start, end = _port_range(port, "port", text)
    return [f"{p}/{proto}" for p in range(start, end + 1)]


MountType = Literal["bind", "volume", "tmpfs"]
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


@dataclass(frozen=True)
class MountSpec:
    """What the user asked to mount (`-v`, `--mount`, `--tmpfs`); sources are resolved later.

    `source` is a host path for bind, a volume name ("" = anonymous) for volume, "" for tmpfs.
    """

    type: MountType
    source: str
    target: str
    readonly: bool = False
    propagation: str = ""
    selinux_relabel: str = ""  # "z" or "Z": accepted, has no effect without SELinux
    nocopy: bool = False
    volume_options: tuple[tuple[str, str], ...] = ()
    tmpfs_size: int = 0
    tmpfs_mode: int = 0
    extra: tuple[str, ...] = field(default=())  # -v options kept verbatim (consistency modes)


def _absolute_target(target: str, flag: str, spec: str) -> str:
    if not target.startswith("/"):
        raise InvalidArgument(
            f'invalid {flag} "{spec}": the container path {target!r} must be absolute'
        )
    if target.rstrip("/") == "":
        raise InvalidArgument(f'invalid {flag} "{spec}": the container path cannot be "/"')
    return target


def parse_volume(text: str) -> MountSpec:
    """`-v /host:/ctr[:opts]`, `-v name:/ctr[:opts]` or `-v /ctr` (an anonymous volume)."""
    parts = text.split(":")
    if len(parts) == 1:
        return MountSpec("volume", "", _absolute_target(text, "-v", text))
    if len(parts) > 3 or not parts[0]:
        raise InvalidArgument(f'invalid -v "{text}": use SOURCE:/CONTAINER_PATH[:OPTIONS]')
    source, target = parts[0], parts[1]
    _absolute_target(target, "-v", text)
    if source.startswith("/"):
        kind: MountType = "bind"
    elif _VOLUME_NAME.match(source):
        kind = "volume"
    else:
        raise InvalidArgument(
            f'invalid -v "{text}": the host path must be absolute (or a volume name)'
        )
    readonly, propagation, relabel, nocopy, extra = False, "", "", False, []
    seen_mode = False
    for opt in parts[2].split(",") if len(parts) == 3 else []:
        if opt in ("ro", "rw"):
            if seen_mode:
                raise InvalidArgument(f'invalid -v "{text}": give ro or rw only once')
            seen_mode, readonly = True, opt == "ro"
        elif opt in PROPAGATIONS:
            if propagation or kind != "bind":
                raise InvalidArgument(f'invalid -v "{text}": propagation only applies to one bind')
            propagation = opt
        elif opt in ("z", "Z"):
            relabel = opt
        elif opt == "nocopy":
            if kind != "volume":
                raise InvalidArgument(f'invalid -v "{text}": nocopy only applies to volumes')
            nocopy = True
        elif opt in ("consistent", "cached", "delegated"):
            extra.append(opt)
        else:
            raise InvalidArgument(
                f'invalid -v "{text}": unknown option {opt!r}; use ro, rw, z, Z, nocopy or a '
                "propagation mode"
            )
    return MountSpec(
        kind, source, target, readonly, propagation, relabel, nocopy, (), 0, 0, tuple(extra)
    )


def _bool_value(value: str, key: str, spec: str) -> bool:
    if value in ("", "1", "true", "True"):
        return True
    if value in ("0", "false", "False"):
        return False
    raise InvalidArgument(f'invalid --mount "{spec}": {key} takes true or false, not {value!r}')


def parse_mount(text: str) -> MountSpec:
    """`--mount type=bind|volume|tmpfs,src=…,dst=…,ro,…` → MountSpec, as Docker's CSV syntax."""
    kind, source, target = "volume", "", ""
    readonly, propagation, nocopy = False, "", False
    volume_opts: list[tuple[str, str]] = []
    size = mode = 0
    for field_text in text.split(","):
        key, sep, value = field_text.partition("=")
        key = key.strip().lower()
        if key == "type":
            if value not in ("bind", "volume", "tmpfs"):
                raise InvalidArgument(
                    f'invalid --mount "{text}": type must be bind, volume or tmpfs'
                )
            kind = value
        elif key in ("source", "src"):
            source = value
        elif key in ("target", "destination", "dst"):
            target = value
        elif key in ("readonly", "ro"):
            readonly = _bool_value(value, key, text)
        elif key == "bind-propagation":
            if value not in PROPAGATIONS:
                raise InvalidArgument(
                    f'invalid --mount "{text}": bind-propagation must be one of '
                    f"{', '.join(PROPAGATIONS)}"
                )
            propagation = value
        elif key == "volume-nocopy":
            nocopy = _bool_value(value, key, text)
        elif key == "volume-opt":
            opt_key, opt_sep, opt_value = value.partition("=")
            if not opt_sep or not opt_key:
                raise InvalidArgument(f'invalid --mount "{text}": use volume-opt=KEY=VALUE')
            volume_opts.append((opt_key, opt_value))
        elif key == "tmpfs-size":
            size = parse_bytes(value, "--mount tmpfs-size")
        elif key == "tmpfs-mode":
            if not re.match(r"^[0-7]{1,4}$", value):
                raise InvalidArgument(f'invalid --mount "{text}": tmpfs-mode is octal, e.g. 1777')
            mode = int(value, 8)
        elif key in ("volume-driver", "volume-label", "consistency", "bind-nonrecursive"):
            continue  # accepted for compatibility; only the local driver exists here
        else:
            raise InvalidArgument(f'invalid --mount "{text}": unknown field {key!r}')
        if not sep and key not in ("readonly", "ro", "volume-nocopy"):
            raise InvalidArgument(f'invalid --mount "{text}": {key} needs a value, {key}=…')
    if not target:
        raise InvalidArgument(f'invalid --mount "{text}": give the container path, target=/path')
    _absolute_target(target, "--mount", text)
    if kind == "bind":
        if not source:
            raise InvalidArgument(f'invalid --mount "{text}": a bind needs source=/host/path')
        if not source.startswith("/"):
            raise InvalidArgument(f'invalid --mount "{text}": the bind source must be absolute')
    elif kind == "volume":
        if source and not _VOLUME_NAME.match(source):
            raise InvalidArgument(
                f'invalid --mount "{text}": volume names match [a-zA-Z0-9][a-zA-Z0-9_.-]+'
            )
    elif source:
        raise InvalidArgument(f'invalid --mount "{text}": a tmpfs takes no source')
    wrong = (propagation and kind != "bind") or ((nocopy or volume_opts) and kind != "volume")
    if wrong or ((size or mode) and kind != "tmpfs"):
        raise InvalidArgument(f'invalid --mount "{text}": an option does not apply to type={kind}')
    return MountSpec(
        kind,  # type: ignore[arg-type]
        source,
        target,
        readonly,
        propagation,
        "",
        nocopy,
        tuple(volume_opts),
        size,
        mode,
    )


_TMPFS_FLAGS = {
    "rw", "ro", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "atime", "noatime",
    "relatime", "strictatime", "nodiratime", "diratime", "sync", "async", "dirsync",
}  # fmt: skip
_TMPFS_KEYS = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"}


def parse_tmpfs(text: str) -> tuple[str, str]:
    """`--tmpfs /run[:rw,size=64m,…]` → (container path, options as written)."""
    target, _, options = text.partition(":")
    _absolute_target(target, "--tmpfs", text)
    for opt in options.split(",") if options else []:
        key, sep, value = opt.partition("=")
        if sep and key in _TMPFS_KEYS:
            if key == "size":
                parse_bytes(value, "--tmpfs size")
            elif key == "mode" and not re.match(r"^[0-7]{1,4}$", value):
                raise InvalidArgument(f'invalid --tmpfs "{text}": mode is octal, e.g. 1777')
        elif sep or key not in _TMPFS_FLAGS:
            raise InvalidArgument(f'invalid --tmpfs "{text}": unknown option {opt!r}')
    return target, options


@dataclass(frozen=True)
class DeviceMapping:
    """`--device`: the host path, the path inside the container, cgroup permissions `rwm`."""

    path_on_host: str
    path_in_container: str
    permissions: str = "rwm"


def _valid_permissions(text: str) -> bool:
    return (
        bool(text)
        and len(text) <= 3
        and all(c in "rwm" for c in text)
        and len(set(text)) == len(text)
    )


def parse_device(text: str) -> DeviceMapping:
    """`/dev/x[:/dev/y][:rwm]` → DeviceMapping."""
    parts = text.split(":")
    src, dst, perms = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if _valid_permissions(parts[1]):
            perms = parts[1]
        else:
            dst = parts[1]
    elif len(parts) == 3:
        dst, perms = parts[1], parts[2]
        if not _valid_permissions(perms):
            raise InvalidArgument(f'invalid --device "{text}": permissions are a mix of r, w, m')
    elif len(parts) > 3:
        raise InvalidArgument(f'invalid --device "{text}": use /dev/HOST[:/dev/CONTAINER][:rwm]')
    if not src.startswith("/") or not dst.startswith("/"):
        raise InvalidArgument(f'invalid --device "{text}": device paths must be absolute')
    return DeviceMapping(src, dst, perms)


def parse_sysctl(text: str) -> tuple[str, str]:
    """`--sysctl net.ipv4.ip_forward=1` → (name, value)."""
    name, sep, value = text.partition("=")
    if not sep or not re.match(r"^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$", name):
        raise InvalidArgument(
            f'invalid --sysctl "{text}": use NAME=VALUE, e.g. net.core.somaxconn=1024'
        )
    return name, value
