"""The executor: carries out a `Plan` against an `EngineClient` and reports each step.

It decides nothing: the plan says what to do. Services run on a thread pool; each waits for the
`depends_on` conditions of its step (started, healthy, completed successfully) before its own
actions, so independent services converge in parallel and a failed dependency stops its
dependents with the reason.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from dockyard.compose.convert import (
    NETWORK,
    PROJECT,
    SERVICE,
    VOLUME,
    ProjectMeta,
    attachments,
    container_labels,
    file_grants,
    inherit_anonymous,
    links,
    network_mode,
    to_config,
)
from dockyard.compose.engine_client import ContainerInfo, EngineClient, NetworkRequest
from dockyard.compose.model import Condition, Dependency, Project
from dockyard.compose.observe import number_of, project_containers, service_of
from dockyard.compose.output import Event, Progress
from dockyard.compose.plan import Action, Kind, Plan, ServiceStep
from dockyard.errors import DockyardError, NotFound, Unavailable

POLL = 0.05  # seconds between state polls while waiting for a condition


class DependencyFailed(Unavailable):
    """A dependency did not reach its condition; the dependent was not started."""


@dataclass(frozen=True)
class ApplyOptions:
    """How to carry out the plan (not what: that is the plan)."""

    start: bool = True  # False: `up --no-start`, `create`
    timeout: float | None = None  # stop timeout for recreate/remove (`-t`)
    remove_volumes: bool = False  # `down -v`: anonymous volumes go with their containers
    # `up -V`: a recreated container gets new anonymous volumes (the old ones are removed)
    # instead of the previous container's, which Compose otherwise carries over.
    renew_anon_volumes: bool = False


class Applier:
    """Runs plans for one project."""

    def __init__(
        self,
        client: EngineClient,
        project: Project,
        meta: ProjectMeta,
        progress: Progress,
        options: ApplyOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.project = project
        self.meta = meta
        self.progress = progress
        self.options = options or ApplyOptions()
        self.clock = clock
        self.sleep = sleep

    def run(self, plan: Plan) -> None:
        """Carry out `plan`; the first failure is raised after independent work has finished."""
        for action in plan.resources:
            self._resource(action)
        errors: list[BaseException] = []
        futures: dict[str, Future[None]] = {}
        width = max((len(wave) for wave in plan.waves), default=0)
        if width:
            # Wave by wave (a wave needs only earlier ones), the services of a wave in parallel.
            with ThreadPoolExecutor(max_workers=width) as pool:
                for wave in plan.waves:
                    for step in wave:
                        futures[step.service] = pool.submit(self._step, step, futures)
                    for step in wave:
                        error = futures[step.service].exception()
                        if error is not None:
                            errors.append(error)
        for action in plan.cleanup:
            self._resource(action)
        if errors:
            raise errors[0]

    # ---- resources --------------------------------------------------------------------------
    def _resource(self, action: Action) -> None:
        kind = action.kind
        labels = {PROJECT: self.project.name}
        if kind is Kind.CREATE_NETWORK:
            self._do("Network", action.name, "Creating", "Created", lambda: self._network(action))
        elif kind is Kind.CREATE_VOLUME:
            labels[VOLUME] = action.reason
            self._do(
                "Volume",
                action.name,
                "Creating",
                "Created",
                lambda: self.client.create_volume(action.name, labels),
            )
        elif kind is Kind.PULL:
            self._do(
                "Image", action.name, "Pulling", "Pulled", lambda: self.client.pull(action.name)
            )
        elif kind is Kind.BUILD:
            build = self.project.services[action.service].build
            if build is None:
                raise NotFound(f'service "{action.service}" has no build section; add one')
            try:
                self._do(
                    "Image",
                    action.name,
                    "Building",
                    "Built",
                    lambda: self.client.build(build, action.name),
                )
            except DockyardError as e:
                raise type(e)(f'service "{action.service}": {e}') from None
        elif kind is Kind.REMOVE:
            self._remove(action)
        elif kind is Kind.REMOVE_NETWORK:
            self._do(
                "Network",
                action.name,
                "Removing",
                "Removed",
                lambda: self.client.remove_network(action.name),
            )
        elif kind is Kind.REMOVE_VOLUME:
            self._do(
                "Volume",
                action.name,
                "Removing",
                "Removed",
                lambda: self.client.remove_volume(action.name),
            )
        elif kind is Kind.REMOVE_IMAGE:
            self._do(
                "Image",
                action.name,
                "Removing",
                "Removed",
                lambda: self.client.remove_image(action.name),
            )
        else:
            raise AssertionError(f"{kind} is not a resource action")

    def _network(self, action: Action) -> None:
        network = self.project.networks[action.reason]
        # ipam.config holds one pool per family (Compose): v4 and, with enable_ipv6, v6.
        pool = next((p for p in network.ipam if ":" not in (p.subnet or "")), None)
        pool6 = next((p for p in network.ipam if ":" in (p.subnet or "")), None)
        self.client.create_network(
            NetworkRequest(
                name=network.name,
                internal=network.internal,
                subnet=pool.subnet if pool else None,
                gateway=pool.gateway if pool else None,
                ipv6=network.enable_ipv6,
                subnet6=pool6.subnet if pool6 else None,
                gateway6=pool6.gateway if pool6 else None,
                labels={PROJECT: self.project.name, NETWORK: network.key, **network.labels},
            )
        )

    def _do(self, kind: str, name: str, doing: str, done: str, work: Callable[[], None]) -> None:
        self.progress.event(Event(kind, name, doing, done=False))
        try:
            work()
        except BaseException as e:
            self.progress.event(Event(kind, name, "Error", error=True))
            if isinstance(e, DockyardError):
                raise type(e)(f"{kind.lower()} {name}: {e}") from None
            raise
        self.progress.event(Event(kind, name, done))

    # ---- services ---------------------------------------------------------------------------
    def _step(self, step: ServiceStep, futures: Mapping[str, Future[None]]) -> None:
        # `create` starts nothing, so there is nothing to wait for (a dependency's health).
        for dep in step.waits if self.options.start else ():
            self._wait_for(step.service, dep, futures)
        for action in step.actions:
            if action.kind is Kind.CREATE:
                self._create(action)
            elif action.kind is Kind.RECREATE:
                self._recreate(action)
            elif action.kind is Kind.START:
                start = functools.partial(self.client.start, str(action.container_id))
                self._do("Container", action.name, "Starting", "Started", start)
            elif action.kind is Kind.STOP:
                stop = functools.partial(
                    self.client.stop, str(action.container_id), self.options.timeout
                )
                self._do("Container", action.name, "Stopping", "Stopped", stop)
            elif action.kind is Kind.REMOVE:
                self._remove(action)
            else:
                raise AssertionError(f"{action.kind} is not a service action")

    def _create(self, action: Action, inherit: Mapping[str, str] | None = None) -> None:
        """Create (and start) the container; `inherit` are the anonymous volumes (target →
        name) of the container it replaces."""
        service = self.project.services[action.service]
        networking = self.client.networks_supported()
        nets = attachments(self.project, service, networking=networking)
        container_of = {
            service_of(c): c.id
            for c in reversed(project_containers(self.client, self.project.name))
        }
        labels = container_labels(self.meta, service, action.number)
        directory = self.client.files_dir(self.project.name, action.name)
        grants = file_grants(self.project, service, directory)
        config = to_config(
            self.project,
            service,
            labels,
            mode=network_mode(service, nets, container_of),
            files_dir=directory,
        )
        config = inherit_anonymous(config, inherit or {})
        created: list[ContainerInfo] = []

        def create() -> None:
            # Written first: the engine checks that a bind mount's source exists.
            if grants.files:
                self.client.write_files(directory, grants.files)
            try:
                created.append(
                    self.client.create(config, action.name, nets, links(self.project, service))
                )
            except BaseException:
                if grants.files:
                    self.client.remove_files(self.project.name, action.name)
                raise

        self._do("Container", action.name, "Creating", "Created", create)
        if self.options.start:
            self._do(
                "Container",
                action.name,
                "Starting",
                "Started",
                lambda: self.client.start(created[0].id),
            )

    def _recreate(self, action: Action) -> None:
        old = str(action.container_id)
        renew = self.options.renew_anon_volumes
        inherit = {} if renew else self.client.anonymous_volumes(old)

        def replace() -> None:
            self.client.stop(old, self.options.timeout)
            # Renewed anonymous volumes go with the old container; kept ones move on.
            self.client.remove(old, force=True, volumes=renew)

        self._do("Container", action.name, "Recreate", "Recreated", replace)
        self._create(action, inherit)

    def _remove(self, action: Action) -> None:
        container = str(action.container_id)

        def stop() -> None:
            with contextlib.suppress(NotFound):
                if self.client.inspect(container).running:
                    self.client.stop(container, self.options.timeout)

        def remove() -> None:
            with contextlib.suppress(NotFound):
                self.client.remove(container, force=True, volumes=self.options.remove_volumes)

        self._do("Container", action.name, "Stopping", "Stopped", stop)
        self._do("Container", action.name, "Removing", "Removed", remove)

    # ---- conditions -------------------------------------------------------------------------
    def _wait_for(self, service: str, dep: Dependency, futures: Mapping[str, Future[None]]) -> None:
        future = futures.get(dep.service)
        if future is not None and future.exception() is not None:
            if not dep.required:
                return
            raise DependencyFailed(
                f'service "{service}" not started: dependency "{dep.service}" failed to start'
            )
        containers = [
            c
            for c in project_containers(self.client, self.project.name)
            if service_of(c) == dep.service
        ]
        try:
            for container in containers:
                self._condition(service, dep, container)
        except DependencyFailed:
            if dep.required:
                raise

    def _condition(self, service: str, dep: Dependency, container: ContainerInfo) -> None:
        name = container.name
        if dep.condition is Condition.SERVICE_COMPLETED_SUCCESSFULLY:
            code = self.client.wait(container.id)
            if code != 0:
                raise DependencyFailed(
                    f'service "{service}" not started: dependency {name} exited with code {code}'
                )
            self.progress.event(Event("Container", name, "Exited"))
            return
        if dep.condition is Condition.SERVICE_STARTED:
            return
        self.progress.event(Event("Container", name, "Waiting", done=False))
        while True:
            info = self.client.inspect(container.id)
            if info.health is None:
                raise DependencyFailed(
                    f'service "{service}" waits for {name} to be healthy, but it has no '
                    "healthcheck; add one or use condition: service_started"
                )
            if info.health == "healthy":
                self.progress.event(Event("Container", name, "Healthy"))
                return
            if info.health == "unhealthy":
                self.progress.event(Event("Container", name, "Error", error=True))
                raise DependencyFailed(f"dependency failed to start: container {name} is unhealthy")
            if not info.running:
                self.progress.event(Event("Container", name, "Error", error=True))
                raise DependencyFailed(
                    f"dependency failed to start: container {name} exited ({info.exit_code})"
                )
            self.sleep(POLL)


def wait_ready(
    client: EngineClient,
    project: str,
    services: Sequence[str],
    timeout: float | None,
    progress: Progress,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """`up --wait`: return when every container of `services` runs (healthy when it has a
    healthcheck); a container that exits or turns unhealthy, or the timeout, fails it."""
    deadline = None if timeout is None else clock() + timeout
    pending = {c.id: c for c in project_containers(client, project) if service_of(c) in services}
    while pending:
        for cid, container in list(pending.items()):
            info = client.inspect(cid)
            if info.health == "unhealthy" or (not info.running and info.status != "created"):
                progress.event(Event("Container", info.name, "Error", error=True))
                why = "is unhealthy" if info.health == "unhealthy" else f"exited ({info.exit_code})"
                raise DependencyFailed(f"container {info.name} {why}")
            if info.running and info.health in (None, "healthy"):
                progress.event(Event("Container", container.name, "Healthy"))
                del pending[cid]
        if not pending:
            return
        if deadline is not None and clock() > deadline:
            names = ", ".join(sorted(c.name for c in pending.values()))
            raise DependencyFailed(f"timed out waiting for {names}; raise --wait-timeout")
        sleep(POLL)


def sort_by_number(containers: Sequence[ContainerInfo]) -> list[ContainerInfo]:
    """Containers by service, then number (the order Compose lists them)."""
    return sorted(containers, key=lambda c: (c.labels.get(SERVICE, ""), number_of(c)))
