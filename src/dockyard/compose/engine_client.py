"""The narrow engine interface compose needs, so the same compose code can drive the in-process
engine (`local.py`) or, later, a remote one through the API.

Words: a *container* is named by its engine id (full hex); a *network* or *volume* by its
engine-level name (`<project>_default`, `<project>_data`); an *image* by a reference
(`busybox:latest`) or its id. Every method raises `dockyard.errors` types only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dockyard.compose.convert import GrantFile
    from dockyard.compose.model import Build
    from dockyard.engine.config import ContainerConfig


@dataclass(frozen=True)
class ContainerInfo:
    """What compose reads of a container: identity, labels and state (Docker's words)."""

    id: str
    name: str
    image: str
    image_id: str
    labels: Mapping[str, str]
    status: str  # created, running, paused, restarting, exited, dead
    health: str | None = None  # starting, healthy, unhealthy; None without a healthcheck
    exit_code: int = 0
    created: float = 0.0
    started_at: float = 0.0
    ports: tuple[tuple[str, str, str], ...] = ()  # (host ip, host port, "80/tcp") published
    command: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")


@dataclass(frozen=True)
class Attachment:
    """A container's place on a network: the network's engine name and its aliases there."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None


@dataclass(frozen=True)
class LogLine:
    """One line of a container's output."""

    stream: str  # stdout or stderr
    text: str
    time: str


@dataclass(frozen=True)
class NetworkRequest:
    """A network to create, with compose's labels."""

    name: str
    internal: bool = False
    subnet: str | None = None
    gateway: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ipv6: bool = False  # enable_ipv6
    subnet6: str | None = None
    gateway6: str | None = None


class EngineClient(Protocol):
    """Everything `compose` asks of an engine; nothing here decides, it only does."""

    # ---- containers -------------------------------------------------------------------------
    def list_containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        """Every container (running or not) carrying all of `labels`."""
        ...

    def inspect(self, container_id: str) -> ContainerInfo:
        """One container's current state."""
        ...

    def create(
        self,
        config: ContainerConfig,
        name: str,
        attachments: Sequence[Attachment],
        links: Sequence[str] = (),
    ) -> ContainerInfo:
        """Create (not start) a container named `name` on the given networks; `links` are
        `container:alias` names it resolves besides its networks' own."""
        ...

    def start(self, container_id: str) -> None: ...

    def stop(self, container_id: str, timeout: float | None) -> None:
        """The stop signal, then SIGKILL after `timeout` seconds (None: the container's own)."""
        ...

    def kill(self, container_id: str, signal: int) -> None: ...

    def pause(self, container_id: str) -> None:
        """Freeze every process of the running container."""
        ...

    def unpause(self, container_id: str) -> None: ...

    def remove(self, container_id: str, *, force: bool, volumes: bool) -> None:
        """Remove the container and the files compose wrote for it (`write_files`); `volumes`
        also removes its anonymous volumes."""
        ...

    def anonymous_volumes(self, container_id: str) -> dict[str, str]:
        """The container's anonymous volumes: mount target → volume name."""
        ...

    def files_dir(self, project: str, container: str) -> str:
        """The host directory holding the secrets and configs compose writes for the container
        named `container` of `project` (it need not exist yet)."""
        ...

    def write_files(self, directory: str, files: Sequence[GrantFile]) -> None:
        """Replace what `directory` (from `files_dir`) holds with `files`, each with its owner
        and mode; the directory itself is readable by root only."""
        ...

    def remove_files(self, project: str, container: str) -> None:
        """Remove what `write_files` wrote for the container (and the project's directory when
        it was the last)."""
        ...

    def wait(self, container_id: str) -> int:
        """Block until the container stops; its exit code."""
        ...

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
        """Run `command` inside the running container with our stdio; its exit code."""
        ...

    def logs(self, container_id: str, *, follow: bool, tail: int | None) -> Iterator[LogLine]:
        """The container's output so far (last `tail` lines), then new lines while `follow`."""
        ...

    def processes(self, container_id: str) -> list[tuple[int, str]]:
        """(host pid, command line) of the container's processes."""
        ...

    # ---- networks ---------------------------------------------------------------------------
    def networks_supported(self) -> bool:
        """Whether this engine has user networks (until it does, services share none)."""
        ...

    def list_networks(self, labels: Mapping[str, str]) -> list[str]: ...

    def network_exists(self, name: str) -> bool: ...

    def create_network(self, request: NetworkRequest) -> None: ...

    def remove_network(self, name: str) -> None: ...

    # ---- volumes ----------------------------------------------------------------------------
    def list_volumes(self, labels: Mapping[str, str]) -> list[str]: ...

    def volume_exists(self, name: str) -> bool: ...

    def create_volume(self, name: str, labels: Mapping[str, str]) -> None: ...

    def remove_volume(self, name: str) -> None: ...

    # ---- images -----------------------------------------------------------------------------
    def image_id(self, reference: str) -> str | None:
        """The id of the local image `reference` names, or None when it is not present."""
        ...

    def pull(self, reference: str) -> None: ...

    def push(self, reference: str) -> None: ...

    def build(self, build: Build, tag: str) -> None:
        """Build `build` into the image `tag`; Unavailable when this engine has no builder."""
        ...

    def remove_image(self, reference: str) -> None: ...
