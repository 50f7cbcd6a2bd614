"""`EngineClient` over the in-process engine (`dockyard.engine`), one `Engine` per root."""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.compose.convert import PROJECT
from dockyard.compose.engine_client import Attachment, ContainerInfo, LogLine, NetworkRequest
from dockyard.engine.monitor import client as monitor
from dockyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from dockyard.compose.convert import GrantFile
    from dockyard.compose.model import Build
    from dockyard.engine.config import ContainerConfig
    from dockyard.engine.service import Engine
    from dockyard.engine.store import ContainerRow
    from dockyard.network.manager import NetworkManager


def networking_available() -> bool:
    """Whether the engine has user networks (bridges, name resolution, published ports)."""
    return importlib.util.find_spec("dockyard.network.manager") is not None


def _info(row: ContainerRow) -> ContainerInfo:
    config = row.config.get("Config") or {}
    ports = []
    # Published ports as bound at start (a random host port resolved), else as asked.
    published = (row.config.get("NetworkSettings") or {}).get("Ports") if row.running else None
    asked = (row.config.get("HostConfig") or {}).get("PortBindings")
    for key, bindings in (published or asked or {}).items():
        for b in bindings or ():
            ports.append((str(b.get("HostIp") or ""), str(b.get("HostPort") or ""), key))
    return ContainerInfo(
        id=row.id,
        name=row.name,
        image=row.image,
        image_id=row.image_id,
        labels=dict(config.get("Labels") or {}),
        status=row.status,
        health=(row.health or {}).get("Status") if row.health else None,
        exit_code=row.exit_code,
        created=row.created,
        started_at=row.started_at,
        ports=tuple(ports),
        command=tuple(row.config.get("Argv") or ()),
    )


def _has_labels(row: ContainerRow, labels: Mapping[str, str]) -> bool:
    have = (row.config.get("Config") or {}).get("Labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


class LocalEngine:
    """The engine of one root, driven in this process (thread-safe: one Engine per thread)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._local = threading.local()

    @property
    def engine(self) -> Engine:
        # SQLite connections belong to the thread that opened them: one Engine per thread.
        engine: Engine | None = getattr(self._local, "engine", None)
        if engine is None:
            from dockyard.engine.service import Engine

            engine = Engine(self.root)
            self._local.engine = engine
        return engine

    # ---- containers -------------------------------------------------------------------------
    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        return [_info(r) for r in self.engine.containers.list() if _has_labels(r, labels)]

    def inspect(self, container_id: str) -> ContainerInfo:
        return _info(self.engine.containers.get(container_id))

    def create(
        self,
        config: ContainerConfig,
        name: str,
        attachments: Sequence[Attachment],
        links: Sequence[str] = (),
    ) -> ContainerInfo:
        from dockyard.engine.config import NetworkAttachment
        from dockyard.engine.container_create import create_container

        networks = [
            NetworkAttachment(a.network, a.aliases, a.ipv4_address, a.ipv6_address)
            for a in attachments
        ]
        return _info(create_container(self.engine, config, name, networks, links=links))

    def start(self, container_id: str) -> None:
        from dockyard.engine.container_start import start_container

        start_container(self.engine, container_id).close()

    def stop(self, container_id: str, timeout: float | None) -> None:
        from dockyard.engine.container_start import stop_container

        stop_container(self.engine, container_id, timeout)

    def kill(self, container_id: str, signal: int) -> None:
        from dockyard.engine.container_start import kill_container

        kill_container(self.engine, container_id, signal)

    def pause(self, container_id: str) -> None:
        from dockyard.engine.container_pause import pause_container

        pause_container(self.engine, container_id)

    def unpause(self, container_id: str) -> None:
        from dockyard.engine.container_pause import unpause_container

        unpause_container(self.engine, container_id)

    def remove(self, container_id: str, *, force: bool, volumes: bool) -> None:
        from dockyard.engine.container_remove import remove_container

        row = self.engine.containers.get(container_id)
        remove_container(self.engine, container_id, force=force)
        project = ((row.config.get("Config") or {}).get("Labels") or {}).get(PROJECT)
        if project:
            self.remove_files(project, row.name)
        if volumes:
            for mount in row.config.get("Mounts") or []:
                name = mount.get("Name")
                if mount.get("Type") != "volume" or not name:
                    continue
                with contextlib.suppress(NotFound):
                    if self.engine.volumes.get(name).anonymous:
                        self.engine.volumes.remove(name, self.engine.volume_users(name))

    def anonymous_volumes(self, container_id: str) -> dict[str, str]:
        row = self.engine.containers.get(container_id)
        out = {}
        for mount in row.config.get("Mounts") or []:
            name = mount.get("Name")
            if mount.get("Type") != "volume" or not name:
                continue
            with contextlib.suppress(NotFound):
                if self.engine.volumes.get(name).anonymous:
                    out[str(mount["Destination"])] = str(name)
        return out

    # ---- files compose writes (secrets and configs from environment or content) ------------
    def _files_root(self) -> Path:
        return self.root / "compose"

    def files_dir(self, project: str, container: str) -> str:
        from dockyard.engine.names import validate_name

        # Both names become path parts: refuse what could leave the directory.
        container = validate_name(container)
        if not project or "/" in project or project in (".", ".."):
            raise InvalidArgument(f'invalid project name "{project}"; use letters and digits')
        return str(self._files_root() / project / container)

    def write_files(self, directory: str, files: Sequence[GrantFile]) -> None:
        path = Path(directory)
        if self._files_root() not in path.parents:
            raise InvalidArgument(f"{directory} is not a compose files directory of this root")
        shutil.rmtree(path, ignore_errors=True)
        # 0700 up to the container's directory: a secret is for the container, not the host's
        # other users (a bind-mounted file's own mode is what the container sees).
        for parent in (self._files_root(), path.parent):
            parent.mkdir(mode=0o700, exist_ok=True)
        path.mkdir(mode=0o700)
        for item in files:
            target = path / item.name
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, item.content.encode())
                os.fchown(fd, item.uid, item.gid)
                os.fchmod(fd, item.mode)
            finally:
                os.close(fd)

    def remove_files(self, project: str, container: str) -> None:
        try:
            directory = Path(self.files_dir(project, container))
        except InvalidArgument:
            return  # not a name compose could have written files for
        shutil.rmtree(directory, ignore_errors=True)
        # The project's directory goes with its last container (`down` leaves nothing).
        try:
            directory.parent.rmdir()
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.ENOENT):
                raise

    def wait(self, container_id: str) -> int:
        from dockyard.engine.container_start import wait_container

        return wait_container(self.engine, container_id)

    def execute(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        env: Sequence[str],
        user: str | None,
        workdir: str | None,
        tty: bool,
    ) -> int:
        from dockyard.engine.container_exec import exec_in_container

        return exec_in_container(
            self.engine,
            container_id,
            list(command),
            env=list(env),
            env_files=[],
            user=user,
            workdir=workdir,
            tty=tty,
            detach=False,
        )

    def logs(self, container_id: str, *, follow: bool, tail: int | None) -> Iterator[LogLine]:
        from dockyard.engine.logs import follow as follow_log
        from dockyard.engine.logs import read_entries

        path = self.engine.paths.log(container_id)
        start = path.stat().st_size if path.exists() else 0
        entries = read_entries(path) if path.exists() else []
        if tail is not None:
            entries = entries[-tail:] if tail else []
        for e in entries:
            yield LogLine(e.stream, e.text, e.time)
        if not follow:
            return
        root = self.root

        def alive() -> bool:
            # Called from the generator's thread; open our own engine there.
            from dockyard.engine.service import Engine

            try:
                return Engine(root).containers.get(container_id).running
            except NotFound:
                return False

        for e in follow_log(path, start, alive):
            yield LogLine(e.stream, e.text, e.time)

    def processes(self, container_id: str) -> list[tuple[int, str]]:
        row = self.engine.containers.get(container_id)
        if not row.running or not row.pid:
            return []
        out: list[tuple[int, str]] = []
        todo = [row.pid]
        while todo:
            pid = todo.pop(0)
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                tasks = os.listdir(f"/proc/{pid}/task")
            except FileNotFoundError:
                continue  # exited while we looked
            out.append(
                (pid, " ".join(p.decode(errors="replace") for p in cmdline.split(b"\0") if p))
            )
            for task in tasks:
                with contextlib.suppress(FileNotFoundError):
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                    todo += [int(c) for c in children]
        return out

    # ---- networks ---------------------------------------------------------------------------
    def _networks(self) -> NetworkManager:
        return self.engine.networks

    def networks_supported(self) -> bool:
        return networking_available()

    def list_networks(self, labels: Mapping[str, str]) -> list[str]:
        out = []
        for network in self._networks().list():
            have = getattr(network, "labels", {}) or {}
            if all(have.get(k) == v for k, v in labels.items()):
                out.append(str(network.name))
        return out

    def network_exists(self, name: str) -> bool:
        try:
            self._networks().inspect(name)
        except NotFound:
            return False
        return True

    # Bridges are made and removed by the monitor's network agent, which `up` has already
    # started: this process then never imports the netlink library (~90 ms).
    def create_network(self, request: NetworkRequest) -> None:
        spec = {
            "name": request.name,
            "subnet": request.subnet,
            "gateway": request.gateway,
            "internal": request.internal,
            "labels": dict(request.labels),
            "ipv6": request.ipv6,
            "subnet6": request.subnet6,
            "gateway6": request.gateway6,
        }
        monitor.request(self.engine.paths, op="network-create", spec=spec)

    def remove_network(self, name: str) -> None:
        monitor.request(self.engine.paths, op="network-remove", name=name)

    # ---- volumes ----------------------------------------------------------------------------
    def list_volumes(self, labels: Mapping[str, str]) -> list[str]:
        return [
            v.name
            for v in self.engine.volumes.list()
            if all(v.labels.get(k) == value for k, value in labels.items())
        ]

    def volume_exists(self, name: str) -> bool:
        try:
            self.engine.volumes.get(name)
        except NotFound:
            return False
        return True

    def create_volume(self, name: str, labels: Mapping[str, str]) -> None:
        self.engine.volumes.create(name, labels=dict(labels))

    def remove_volume(self, name: str) -> None:
        self.engine.volumes.remove(name, self.engine.volume_users(name))

    # ---- images -----------------------------------------------------------------------------
    def image_id(self, reference: str) -> str | None:
        try:
            return self.engine.images.resolve(reference).id
        except NotFound:
            return None

    def pull(self, reference: str) -> None:
        from dockyard.image.pull import pull_image
        from dockyard.image.reference import parse_reference
        from dockyard.image.registry.client import RegistryClient
        from dockyard.image.registry.config import load_registry_config

        ref = parse_reference(reference)
        with RegistryClient(config=load_registry_config()) as client:
            pull_image(self.engine.images, client, ref)

    def push(self, reference: str) -> None:
        from dockyard.image.push import push_image
        from dockyard.image.reference import parse_reference
        from dockyard.image.registry.client import RegistryClient
        from dockyard.image.registry.config import load_registry_config

        with RegistryClient(config=load_registry_config()) as client:
            push_image(self.engine.images, client, parse_reference(reference))

    def build(self, build: Build, tag: str) -> None:
        """Build the service's image with dockyard's builder, tagged `tag`."""
        import sys
        from pathlib import Path

        from dockyard.build.builder import build_image

        context = Path(build.context)
        dockerfile: Path | str | None = None
        if build.dockerfile_inline is not None:
            dockerfile = build.dockerfile_inline
        elif build.dockerfile:
            candidate = Path(build.dockerfile)
            dockerfile = candidate if candidate.is_absolute() else context / candidate
        build_image(
            self.engine,
            context,
            dockerfile,
            tags=[tag],
            build_args={k: v for k, v in build.args.items() if v is not None},
            target=build.target,
            labels=dict(build.labels),
            output=sys.stdout,
        )

    def remove_image(self, reference: str) -> None:
        record = self.engine.images.resolve(reference)
        self.engine.images.remove(record.id)
