"""Named and anonymous volumes with the `local` driver: directories under `<root>/volumes/`.

A volume is `<root>/volumes/<name>/_data`. Driver options `type`, `device`, `o` make it a mount
instead (e.g. `type=tmpfs,device=tmpfs,o=size=64m`, or `type=none,o=bind,device=/srv/x`),
made when a container first needs it and undone when the volume is removed.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.state.db import StateDB

MIGRATIONS = [
    """
    CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        driver TEXT NOT NULL,
        labels TEXT NOT NULL,
        options TEXT NOT NULL,
        anonymous INTEGER NOT NULL,
        created REAL NOT NULL,
        seeded INTEGER NOT NULL DEFAULT 0
    );
    """
]

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")


@dataclass(frozen=True)
class Volume:
    """One volume."""

    name: str
    mountpoint: Path
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False
    created: float = 0.0
    seeded: bool = False

    def inspect(self) -> dict[str, Any]:
        """Docker's `volume inspect` document."""
        from dockyard.engine.container_inspect import rfc3339

        return {
            "CreatedAt": rfc3339(self.created),
            "Driver": self.driver,
            "Labels": self.labels or None,
            "Mountpoint": str(self.mountpoint),
            "Name": self.name,
            "Options": self.options or None,
            "Scope": "local",
        }


class VolumeStore:
    """Volumes of one engine root."""

    def __init__(self, db: StateDB, directory: Path) -> None:
        self.db = db
        self.directory = directory
        db.migrate("volumes", MIGRATIONS)

    def _volume(self, row: Any) -> Volume:
        return Volume(
            name=row["name"],
            mountpoint=self.directory / row["name"] / "_data",
            driver=row["driver"],
            labels=json.loads(row["labels"]),
            options=json.loads(row["options"]),
            anonymous=bool(row["anonymous"]),
            created=row["created"],
            seeded=bool(row["seeded"]),
        )

    def create(
        self,
        name: str | None = None,
        *,
        driver: str = "local",
        labels: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
    ) -> Volume:
        """Create a volume (an existing one of the same name is returned, as Docker does)."""
        anonymous = name is None
        name = name or secrets.token_hex(32)
        if not _NAME.fullmatch(name):
            raise InvalidArgument(
                f'invalid volume name "{name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'
            )
        if driver != "local":
            raise InvalidArgument(f"volume driver {driver!r} is not supported: use local")
        options = dict(options or {})
        unknown = set(options) - {"type", "device", "o"}
        if unknown:
            raise InvalidArgument(
                f"invalid option {sorted(unknown)[0]!r} for the local volume driver: "
                "use type, device and o"
            )
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM volumes WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return self._volume(row)
            conn.execute(
                "INSERT INTO volumes (name, driver, labels, options, anonymous, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    name,
                    driver,
                    json.dumps(labels or {}),
                    json.dumps(options),
                    int(anonymous),
                    time.time(),
                ),
            )
            (self.directory / name / "_data").mkdir(parents=True, exist_ok=True)
        return self.get(name)

    def get(self, name: str) -> Volume:
        rows = self.db.query("SELECT * FROM volumes WHERE name = ?", (name,))
        if not rows:
            raise NotFound(f"get {name}: no such volume")
        return self._volume(rows[0])

    def list(self) -> builtins.list[Volume]:
        return [self._volume(r) for r in self.db.query("SELECT * FROM volumes ORDER BY name")]

    def remove(self, name: str, users: builtins.list[str]) -> None:
        """Remove a volume no container uses (`users`: the containers that mount it)."""
        volume = self.get(name)
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        unmount_volume(volume)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM volumes WHERE name = ?", (name,))
        shutil.rmtree(self.directory / name, ignore_errors=True)

    def mark_seeded(self, name: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE volumes SET seeded = 1 WHERE name = ?", (name,))


def mount_volume(volume: Volume) -> None:
    """Make a volume's driver-option mount (if it has one and it is not mounted yet)."""
    if "type" not in volume.options and "device" not in volume.options:
        return
    if os.path.ismount(volume.mountpoint):
        return
    from dockyard.kernel import constants as k
    from dockyard.kernel.syscall import LinuxSyscall

    fstype = volume.options.get("type", "none")
    device = volume.options.get("device", fstype)
    flags = 0
    data = []
    for opt in filter(None, volume.options.get("o", "").split(",")):
        if opt in ("bind", "rbind"):
            flags |= k.MS_BIND | (k.MS_REC if opt == "rbind" else 0)
        elif opt == "ro":
            flags |= k.MS_RDONLY
        else:
            data.append(opt)
    if fstype == "none" and not flags & k.MS_BIND:
        raise InvalidArgument(f"volume {volume.name}: type=none needs o=bind")
    LinuxSyscall().mount(
        device,
        str(volume.mountpoint),
        None if flags & k.MS_BIND else fstype,
        flags,
        ",".join(data) or None,
    )


def unmount_volume(volume: Volume) -> None:
    """Undo `mount_volume`."""
    if os.path.ismount(volume.mountpoint):
        from dockyard.kernel.syscall import LinuxSyscall

        LinuxSyscall().umount2(str(volume.mountpoint), 0)


def seed_from_image(source: Path, volume: Volume) -> bool:
    """Copy the image's content at the mount target into an empty new volume (Docker's rule)."""
    if volume.seeded or not source.is_dir() or any(volume.mountpoint.iterdir()):
        return False
    for entry in source.iterdir():
        dest = volume.mountpoint / entry.name
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, dest, symlinks=True, copy_function=shutil.copy2)
        else:
            shutil.copy2(entry, dest, follow_symlinks=False)
    st = source.stat()
    os.chown(volume.mountpoint, st.st_uid, st.st_gid)
    os.chmod(volume.mountpoint, st.st_mode & 0o7777)
    for dirpath, dirnames, filenames in os.walk(source):
        rel = os.path.relpath(dirpath, source)
        for name in dirnames + filenames:
            src = os.path.join(dirpath, name)
            s = os.lstat(src)
            os.chown(
                os.path.join(volume.mountpoint, rel, name),
                s.st_uid,
                s.st_gid,
                follow_symlinks=False,
            )
    return True
