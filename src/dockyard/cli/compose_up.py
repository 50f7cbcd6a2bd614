"""`dockyard compose up`, `create` and `down`: plan against what runs, apply the plan, and for an
attached `up` print every container's output until they exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.cli.compose_project import (
    engine_client,
    load,
    project_name,
    service_containers,
)

if TYPE_CHECKING:
    from dockyard.compose.engine_client import ContainerInfo, EngineClient
    from dockyard.compose.model import Project
    from dockyard.compose.plan import Plan


def _parse_scale(values: list[str]) -> dict[str, int]:
    from dockyard.errors import InvalidArgument

    out = {}
    for text in values:
        name, sep, count = text.partition("=")
        if not sep or not count.isdigit():
            raise InvalidArgument(f'invalid --scale "{text}": use SERVICE=NUMBER')
        out[name] = int(count)
    return out


def up(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.apply import Applier, ApplyOptions, wait_ready
    from dockyard.compose.convert import ProjectMeta
    from dockyard.compose.observe import observe
    from dockyard.compose.output import progress_for
    from dockyard.compose.plan import UpOptions, plan_up, select_services
    from dockyard.errors import InvalidArgument

    loaded = load(args)
    project = loaded.project
    if args.exit_code_from:
        args.abort_on_container_exit = True
        if args.exit_code_from not in project.services:
            raise InvalidArgument(f'--exit-code-from: no such service "{args.exit_code_from}"')
    if args.detach and args.abort_on_container_exit:
        raise InvalidArgument("--abort-on-container-exit and -d cannot be combined; drop one")
    if args.build and args.no_build:
        raise InvalidArgument("--build and --no-build are incompatible; pick one")
    client = engine_client(root)
    if not args.dry_run:
        from dockyard.engine.monitor.client import prewarm
        from dockyard.engine.paths import EnginePaths

        prewarm(EnginePaths(root), network=True)  # it starts while we plan and create
    options = UpOptions(
        services=tuple(args.services),
        force_recreate=args.force_recreate,
        no_recreate=args.no_recreate,
        no_deps=args.no_deps,
        remove_orphans=args.remove_orphans,
        scale=_parse_scale(args.scale),
        build=args.build,
        no_build=args.no_build,
    )
    plan = plan_up(project, observe(client, project), options)
    _check_builds(project, plan)
    if args.dry_run:
        for action in plan.actions():
            print(
                f"{action.kind.value} {action.name}"
                + (f" ({action.reason})" if action.reason else "")
            )
        return 0
    for orphan in plan.orphans:
        sys.stderr.write(
            f"WARN[0000] Found orphan container ({orphan}) for this project. If you removed or "
            "renamed this service in your compose file, you can run this command with the "
            "--remove-orphans flag to clean it up.\n"
        )
    meta = ProjectMeta(project.name, project.working_dir, loaded.files)
    selected = select_services(project, list(args.services), with_deps=not args.no_deps)
    progress = progress_for(sys.stdout)
    applier = Applier(
        client,
        project,
        meta,
        progress,
        ApplyOptions(
            start=not args.no_start,
            timeout=args.timeout,
            renew_anon_volumes=args.renew_anon_volumes,
        ),
    )
    try:
        applier.run(plan)
        if args.wait and not args.no_start:
            wait_ready(client, project.name, selected, args.wait_timeout, progress)
    finally:
        progress.close()
    if args.detach or args.no_start:
        return 0
    return _attach(client, project, selected, args)


def _check_builds(project: Project, plan: Plan) -> None:
    """A missing build context fails before anything is made."""
    from dockyard.compose.checks import check_build_contexts
    from dockyard.compose.plan import Kind

    building = {a.service for a in plan.resources if a.kind is Kind.BUILD}
    check_build_contexts({n: s for n, s in project.services.items() if n in building})


def _attach(
    client: EngineClient, project: Project, services: list[str], args: argparse.Namespace
) -> int:
    """Attached `up`: print every container's output until all exit; Ctrl-C stops them."""
    from dockyard.compose.model import Condition
    from dockyard.compose.observe import service_of
    from dockyard.compose.output import LogPrinter, short_name

    containers = service_containers(client, project.name, services)
    width = max((len(short_name(project.name, c.name)) for c in containers), default=0)
    printer = LogPrinter(sys.stdout, colour=sys.stdout.isatty(), width=width)
    printer.message(
        "Attaching to " + ", ".join(short_name(project.name, c.name) for c in containers)
    )
    finished = threading.Event()
    # One-shot dependencies (service_completed_successfully) are meant to exit: their exit does
    # not abort the others (Compose v2).
    one_shot = {
        d.service
        for name in services
        for d in project.services[name].depends_on
        if d.condition is Condition.SERVICE_COMPLETED_SUCCESSFULLY
    }
    exited: list[ContainerInfo] = []
    lock = threading.Lock()

    def follow(container: ContainerInfo) -> None:
        label = short_name(project.name, container.name)
        for line in client.logs(container.id, follow=True, tail=None):
            printer.line(service_of(container), label, line.text)
        code = client.wait(container.id)
        printer.message(f"{label} exited with code {code}")
        with lock:
            exited.append(container)
            aborting = args.abort_on_container_exit and service_of(container) not in one_shot
            if aborting or len(exited) == len(containers):
                finished.set()

    threads = [threading.Thread(target=follow, args=(c,), daemon=True) for c in containers]
    for thread in threads:
        thread.start()
    try:
        while not finished.wait(0.2):
            pass
    except KeyboardInterrupt:
        printer.message("Gracefully stopping... (press Ctrl+C again to force)")
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _stop_all(client, project.name, services, args.timeout)
        return 130
    if args.abort_on_container_exit:
        printer.message("Aborting on container exit...")
        _stop_all(client, project.name, services, args.timeout)
    if args.exit_code_from:
        chosen = [c for c in containers if service_of(c) == args.exit_code_from]
        return client.inspect(chosen[0].id).exit_code if chosen else 0
    return 0


def _stop_all(
    client: EngineClient, project: str, services: Iterable[str], timeout: float | None
) -> None:
    from dockyard.compose.output import Event, progress_for

    progress = progress_for(sys.stdout)
    try:
        running = [c for c in service_containers(client, project, services) if c.running]
        threads = []
        for container in running:

            def stop_one(c: ContainerInfo = container) -> None:
                progress.event(Event("Container", c.name, "Stopping", done=False))
                client.stop(c.id, timeout)
                progress.event(Event("Container", c.name, "Stopped"))

            thread = threading.Thread(target=stop_one)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    finally:
        progress.close()


def down(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.apply import Applier, ApplyOptions
    from dockyard.compose.convert import ProjectMeta, project_labels
    from dockyard.compose.model import Project
    from dockyard.compose.observe import Observed, observe, project_containers
    from dockyard.compose.output import progress_for
    from dockyard.compose.plan import DownOptions, plan_down

    name, project, files = project_name(args)
    client = engine_client(root)
    if project is not None:
        observed = observe(client, project)
    else:
        networking = client.networks_supported()
        observed = Observed(
            project=name,
            containers=tuple(project_containers(client, name)),
            networks=frozenset(client.list_networks(project_labels(name)) if networking else ()),
            volumes=frozenset(client.list_volumes(project_labels(name))),
            networking=networking,
        )
    plan = plan_down(
        project,
        observed,
        DownOptions(volumes=args.volumes, remove_orphans=args.remove_orphans, rmi=args.rmi),
    )
    for orphan in plan.orphans:
        sys.stderr.write(
            f"WARN[0000] Found orphan container ({orphan}) for this project; "
            "remove it with --remove-orphans\n"
        )
    progress = progress_for(sys.stdout)
    target = project or Project(name=name, working_dir=os.getcwd(), services={})
    try:
        Applier(
            client,
            target,
            ProjectMeta(name, target.working_dir, files),
            progress,
            ApplyOptions(timeout=args.timeout, remove_volumes=args.volumes),
        ).run(plan)
    finally:
        progress.close()
    return 0
