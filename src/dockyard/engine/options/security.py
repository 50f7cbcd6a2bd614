"""Parsers of who the process runs as and what it may do: `--user`, `--security-opt` and
`--cap-add`/`--cap-drop`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.errors import InvalidArgument


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
