"""Starting a container's process under the monitor, and cleaning up after it exits."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dockyard.engine.logs import LogWriter
from dockyard.engine.monitor.policy import Healthcheck
from dockyard.engine.network_mode import uses_bridge
from dockyard.engine.service import Engine
from dockyard.runtime.cgroup_setup import ContainerCgroup
from dockyard.runtime.console import receive_master
from dockyard.runtime.container_create import CreateOptions, create_container
from dockyard.runtime.container_delete import delete_container
from dockyard.runtime.container_start import start_container
from dockyard.storage.mount import mount_snapshot, unmount


@dataclass
class Running:
    """A container process the monitor watches (mutable: the monitor's own bookkeeping)."""

    id: str
    pid: int
    pidfd: int
    cgroup_path: str
    started: float
    log: LogWriter | None
    streams: dict[int, str] = field(default_factory=dict)  # fd → stdout/stderr/tty
    master: int | None = None
    adopted: bool = False
    health: Healthcheck | None = None
    probe_pid: int = 0


def _log_options(config: dict[str, object]) -> tuple[int, int]:
    host = config.get("HostConfig") or {}
    assert isinstance(host, dict)
    opts = (host.get("LogConfig") or {}).get("Config") or {}
    from dockyard.engine.options import parse_bytes

    size = parse_bytes(str(opts.get("max-size", "10m")), "--log-opt max-size")
    files = int(opts.get("max-file", "3"))
    return size, files


class Networker(Protocol):
    """Who plugs containers into their networks (the monitor's network agent)."""

    def connect(self, container_id: str) -> dict[str, Any]: ...

    def disconnect(self, container_id: str) -> None: ...


def bridged(config: dict[str, object]) -> bool:
    """Whether the container joins bridge networks (the only ones that need network code)."""
    # Network code (pyroute2: ~13 MB, ~90 ms) is imported only for containers that need it: the
    # monitor lives as long as the root's containers and its memory is their overhead.
    host = config.get("HostConfig") or {}
    assert isinstance(host, dict)
    return uses_bridge(str(host.get("NetworkMode") or ""))


def launch(engine: Engine, container_id: str, stdin_fd: int | None, net: Networker) -> Running:
    """Mount the root, create and start the runtime container with piped (or pty) output."""
    paths = engine.paths
    row = engine.containers.get(container_id)
    tty = bool((row.config.get("Config") or {}).get("Tty"))
    rootfs = paths.rootfs(container_id)
    rootfs.mkdir(parents=True, exist_ok=True)
    mount_snapshot(engine.snapshots.mounts(container_id), rootfs)
    seed_volumes(engine, row.config, rootfs)
    created = False
    on_bridge = bridged(row.config)
    to_close: list[int] = []
    try:
        devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        to_close.append(devnull)
        stdin = stdin_fd if stdin_fd is not None else devnull
        ours = theirs = None
        streams: dict[int, str] = {}
        if tty:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            stdio = (stdin, devnull, devnull)
        else:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            to_close += [out_w, err_w]
            streams = {out_r: "stdout", err_r: "stderr"}
            stdio = (stdin, out_w, err_w)
        if on_bridge:
            settings = net.connect(container_id)
            config = dict(row.config, NetworkSettings=settings)
            engine.containers.update(container_id, config=config)
        opts = CreateOptions(bundle=paths.bundle(container_id), stdio=stdio, console=theirs)
        record = create_container(paths.runtime_root, container_id, opts)
        created = True
        master = None
        if ours is not None and theirs is not None:
            theirs.close()
            master = receive_master(ours)
            ours.close()
            streams = {master: "stdout"}
        start_container(paths.runtime_root, container_id)
        size, files = _log_options(row.config)
        return Running(
            id=container_id,
            pid=record.pid,
            pidfd=os.pidfd_open(record.pid),
            cgroup_path=record.cgroup_path,
            started=time.monotonic(),
            log=LogWriter(paths.log(container_id), size, files),
            streams=streams,
            master=master,
            health=Healthcheck.from_config(row.config.get("Config") or {}),
        )
    except BaseException:
        if created:
            delete_container(paths.runtime_root, container_id, force=True)
        if on_bridge:
            net.disconnect(container_id)
        unmount(rootfs)
        raise
    finally:
        for fd in to_close:
            os.close(fd)


def seed_volumes(engine: Engine, config: dict[str, object], rootfs: Path) -> None:
    """Docker's rule: a new, empty volume starts with the image's content at its mount point."""
    from dockyard.engine.volumes import mount_volume, seed_from_image
    from dockyard.runtime.paths import secure_join

    mounts = config.get("Mounts") or []
    assert isinstance(mounts, list)
    for mount in mounts:
        if mount.get("Type") != "volume" or not mount.get("Name"):
            continue
        volume = engine.volumes.get(str(mount["Name"]))
        mount_volume(volume)
        if volume.seeded or mount.get("NoCopy"):
            continue
        seed_from_image(Path(secure_join(str(rootfs), str(mount["Destination"]))), volume)
        engine.volumes.mark_seeded(volume.name)


def exit_status(running: Running) -> int:
    """The container's exit code (128+signal if killed); 255 when it was not our child."""
    if running.adopted:
        return 255
    try:
        _, status = os.waitpid(running.pid, os.WNOHANG)
    except ChildProcessError:
        return 255
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def cleanup(engine: Engine, running: Running, net: Networker) -> bool:
    """Close its pipes, delete the runtime container and unmount; returns whether it was OOM."""
    oom = ContainerCgroup.existing(running.cgroup_path).oom_kill_count() > 0
    for fd in list(running.streams):
        os.close(fd)
    running.streams.clear()
    os.close(running.pidfd)
    if running.log is not None:
        running.log.close()
    release(engine, running.id, net)
    return oom


def release(engine: Engine, container_id: str, net: Networker | None = None) -> None:
    """Delete the runtime container (if any), unplug its networks, unmount; idempotent."""
    delete_container(engine.paths.runtime_root, container_id, force=True)
    if engine.paths.netns(container_id).exists():
        if net is not None:
            net.disconnect(container_id)
        else:  # the CLI (`rm`): it may load network code itself
            from dockyard.engine.networking import disconnect

            disconnect(engine, container_id)
    unmount(engine.paths.rootfs(container_id))
