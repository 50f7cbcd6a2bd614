"""An image's own users: `name[:group]` resolved against its /etc/passwd and /etc/group.

Never the host's files: Debian's `postgres` is uid 100 in an image but 101 on a host. Shared by
containers (`--user`, `exec -u`) and builds (`USER`, `COPY --chown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import InvalidArgument


@dataclass(frozen=True)
class ResolvedUser:
    """The process's uid, gid and supplementary groups, resolved against the image's files."""

    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


def _read(path: Path) -> list[list[str]]:
    if not path.is_file():  # absent, or a whiteout (a character device) in a layer
        return []
    try:
        text = path.read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def resolve_user(spec: str, passwd_file: Path | None, group_file: Path | None) -> ResolvedUser:
    """`""`, `name`, `uid`, `name:group`, `uid:gid` → ids, using the image's passwd/group."""
    if not spec:
        spec = "0"
    user, _, group = spec.partition(":")
    passwd = _read(passwd_file) if passwd_file else []
    groups = _read(group_file) if group_file else []
    uid: int | None = None
    gid: int | None = None
    name = None
    if user.isdigit():
        uid = int(user)
        for entry in passwd:
            if len(entry) > 3 and entry[2] == user:
                name, gid = entry[0], int(entry[3]) if entry[3].isdigit() else None
                break
    else:
        for entry in passwd:
            if len(entry) > 3 and entry[0] == user and entry[2].isdigit():
                name, uid = user, int(entry[2])
                gid = int(entry[3]) if entry[3].isdigit() else None
                break
        if uid is None:
            raise InvalidArgument(f"unable to find user {user}: no matching entries in passwd file")
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            match = next((g for g in groups if len(g) > 2 and g[0] == group), None)
            if match is None or not match[2].isdigit():
                raise InvalidArgument(
                    f"unable to find group {group}: no matching entries in group file"
                )
            gid = int(match[2])
    if gid is None:
        gid = 0 if uid == 0 else uid
    extra: list[int] = []
    if name is not None:
        for g in groups:
            if len(g) > 3 and name in g[3].split(",") and g[2].isdigit() and int(g[2]) != gid:
                extra.append(int(g[2]))
    return ResolvedUser(uid, gid, tuple(extra))
