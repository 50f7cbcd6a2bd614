"""What `inspect` and `ps` show of a container, in Docker's shapes (pure over a row)."""

from __future__ import annotations

import datetime
import time
from typing import Any

from dockyard.engine.paths import EnginePaths
from dockyard.engine.store import ContainerRow

ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339(when: float) -> str:
    """Seconds since the epoch as Docker's timestamps; 0 is Go's zero time."""
    if not when:
        return ZERO_TIME
    stamp = datetime.datetime.fromtimestamp(when, datetime.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def command_line(row: ContainerRow) -> tuple[str, list[str]]:
    """`Path` and `Args`: the entrypoint+cmd the container runs."""
    argv = list(row.config.get("Argv") or [])
    return (argv[0], argv[1:]) if argv else ("", [])


def inspect_container(row: ContainerRow, paths: EnginePaths) -> dict[str, Any]:
    """The JSON `docker container inspect` prints."""
    path, args = command_line(row)
    directory = paths.container(row.id)
    state: dict[str, Any] = {
        "Status": row.status,
        "Running": row.status in ("running", "paused", "restarting"),
        "Paused": row.status == "paused",
        "Restarting": row.status == "restarting",
        "OOMKilled": row.oom_killed,
        "Dead": row.status == "dead",
        "Pid": row.pid,
        "ExitCode": row.exit_code,
        "Error": row.error,
        "StartedAt": rfc3339(row.started_at),
        "FinishedAt": rfc3339(row.finished_at),
    }
    if row.health is not None:
        state["Health"] = row.health
    return {
        "Id": row.id,
        "Created": rfc3339(row.created),
        "Path": path,
        "Args": args,
        "State": state,
        "Image": row.image_id,
        "ResolvConfPath": str(directory / "resolv.conf"),
        "HostnamePath": str(directory / "hostname"),
        "HostsPath": str(directory / "hosts"),
        "LogPath": str(paths.log(row.id)),
        "Name": "/" + row.name,
        "RestartCount": row.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": row.config.get("HostConfig") or {},
        "GraphDriver": {"Name": "overlay2", "Data": {"MergedDir": str(paths.rootfs(row.id))}},
        "Mounts": row.config.get("Mounts") or [],
        "Config": row.config.get("Config") or {},
        "NetworkSettings": row.config.get("NetworkSettings") or _no_network_settings(),
    }


def _ago(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 1:
        return "Less than a second"
    if s < 60:
        return "1 second" if s == 1 else f"{s} seconds"
    m = s // 60
    if m < 60:
        return "About a minute" if m == 1 else f"{m} minutes"
    h = m // 60
    if h < 48:
        return "About an hour" if h == 1 else f"{h} hours"
    return f"{h // 24} days"


def status_text(row: ContainerRow, now: float | None = None) -> str:
    """`ps`'s STATUS column: `Up 5 seconds (healthy)`, `Exited (0) 3 minutes ago`, `Created`."""
    now = now or time.time()
    if row.status == "running":
        text = f"Up {_ago(now - row.started_at)}"
        health = (row.health or {}).get("Status")
        if health == "starting":
            text += " (health: starting)"
        elif health:
            text += f" ({health})"
        return text
    if row.status == "paused":
        return f"Up {_ago(now - row.started_at)} (Paused)"
    if row.status == "restarting":
        return f"Restarting ({row.exit_code}) {_ago(now - row.finished_at)} ago"
    if row.status == "exited":
        return f"Exited ({row.exit_code}) {_ago(now - row.finished_at)} ago"
    return row.status.capitalize()


def _no_network_settings() -> dict[str, Any]:
    # Rows made before NetworkSettings was recorded; network code only loads for them.
    from dockyard.engine.networking import settings_doc

    return settings_doc(())
