"""`start`, `stop`, `kill`, `restart`, `wait`: lifecycle requests carried out by the monitor."""

from __future__ import annotations

import signal
from typing import Any

from dockyard.engine.monitor.client import MonitorConnection
from dockyard.engine.service import Engine
from dockyard.engine.store import ContainerRow
from dockyard.errors import Conflict


def start_container(
    engine: Engine, text: str, *, stdin_fd: int | None = None, attach: bool = False
) -> MonitorConnection:
    """Start a created or exited container; returns the (attached) monitor connection."""
    row = engine.containers.find(text)
    if row.status in ("running", "restarting"):
        raise Conflict(f"container {row.name} is already running")
    conn = MonitorConnection(engine.paths)
    try:
        conn.request(
            fds=[stdin_fd] if stdin_fd is not None else None, op="start", id=row.id, attach=attach
        )
    except BaseException:
        conn.close()
        raise
    return conn


def thaw_for_signal(engine: Engine, row: ContainerRow) -> None:
    """A frozen process ignores every signal, SIGKILL included: thaw a paused one first."""
    if row.status == "paused":
        from dockyard.engine.container_pause import thaw_for_signal as thaw

        thaw(engine, row)


def stop_signal(config: dict[str, Any]) -> int:
    """The container's stop signal (`--stop-signal`, the image's STOPSIGNAL), else SIGTERM."""
    name = str((config.get("Config") or {}).get("StopSignal") or "SIGTERM")
    if name.isdigit():
        return int(name)
    name = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
    return int(getattr(signal.Signals, name, signal.SIGTERM))


def stop_container(engine: Engine, text: str, timeout: float | None = None) -> str:
    """Stop: the stop signal, then SIGKILL after `timeout` (default the container's, else 10 s)."""
    row = engine.containers.find(text)
    thaw_for_signal(engine, row)  # a frozen process ignores every signal, SIGKILL included
    if timeout is None:
        timeout = float((row.config.get("Config") or {}).get("StopTimeout") or 10)
    if row.status not in ("running", "restarting", "paused"):
        engine.containers.update(row.id, manually_stopped=1)
        return row.id
    conn = MonitorConnection(engine.paths)
    try:
        conn.request(op="stop", id=row.id, signal=stop_signal(row.config), timeout=timeout)
    finally:
        conn.close()
    return row.id


def kill_container(engine: Engine, text: str, sig: int = signal.SIGKILL) -> str:
    """Send a signal to a running container."""
    row = engine.containers.find(text)
    if not row.running:
        raise Conflict(f"Cannot kill container: {row.id}: container {row.id} is not running")
    thaw_for_signal(engine, row)
    conn = MonitorConnection(engine.paths)
    try:
        conn.request(op="kill", id=row.id, signal=sig)
    finally:
        conn.close()
    return row.id


def wait_container(engine: Engine, text: str) -> int:
    """Block until the container stops; its exit code."""
    row = engine.containers.find(text)
    if not row.running:
        return row.exit_code
    conn = MonitorConnection(engine.paths)
    try:
        return int(conn.request(op="wait", id=row.id)["exit"])
    finally:
        conn.close()
