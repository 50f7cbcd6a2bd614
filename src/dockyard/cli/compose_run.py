"""`dockyard compose run`: a one-off container of a service, attached to our stdio.

As `docker compose run`: stdin is passed to the container (`-i` is the default), a terminal is
allocated when ours is one (`-T` turns that off), and with `-d` nothing is attached. The
streaming is `dockyard run`'s own (`cli/attach.py`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.compose.loader import LoadedProject
    from dockyard.compose.local import LocalEngine


def add_arguments(p: argparse.ArgumentParser) -> None:
    """`compose run`'s flags (Docker Compose's names)."""
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("--rm", action="store_true")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("--no-deps", action="store_true")
    p.add_argument("-p", "--publish", action="append", default=[])
    p.add_argument("--service-ports", action="store_true")
    p.add_argument("--entrypoint")
    p.add_argument("--name")
    p.add_argument("-u", "--user")
    p.add_argument("-w", "--workdir")
    # Compose: "Keep STDIN open even if not attached (default true)"; accepted for -it.
    p.add_argument("-i", "--interactive", action="store_true", default=True)
    p.add_argument("-t", "--tty", action="store_true", help="allocate a terminal (the default)")
    p.add_argument("-T", "--no-TTY", action="store_true", dest="no_tty")
    p.add_argument("service")
    p.add_argument("command", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace, loaded: LoadedProject, client: LocalEngine) -> int:
    """Start the service's dependencies (unless `--no-deps`), then the one-off container."""
    from dockyard.compose.apply import Applier, ApplyOptions
    from dockyard.compose.convert import (
        ProjectMeta,
        attachments,
        container_labels,
        container_name,
        file_grants,
        network_mode,
        to_config,
    )
    from dockyard.compose.model import RestartPolicy
    from dockyard.compose.observe import observe, project_containers, service_of
    from dockyard.compose.output import progress_for
    from dockyard.compose.plan import Plan, UpOptions, plan_up, select_services
    from dockyard.engine.envfile import parse_env_args
    from dockyard.engine.options import parse_publish
    from dockyard.errors import InvalidArgument

    project = loaded.project
    select_services(project, [args.service], with_deps=False)
    service = project.services[args.service]
    meta = ProjectMeta(project.name, project.working_dir, loaded.files)
    tty = not args.no_tty and not args.detach and sys.stdin.isatty()
    if args.tty and not args.no_tty and not args.detach and not tty:
        raise InvalidArgument("the input device is not a TTY; drop -t or use -T")
    interactive = args.interactive and not args.detach
    # As `up` would, minus the service's own containers: its image, the project's networks
    # and volumes, and (unless --no-deps) its dependencies, started.
    whole = plan_up(
        project,
        observe(client, project),
        UpOptions(services=(args.service,), no_deps=args.no_deps),
    )
    waves = (tuple(s for s in wave if s.service != args.service) for wave in whole.waves)
    plan = Plan(resources=whole.resources, waves=tuple(w for w in waves if w))
    if not plan.empty:
        progress = progress_for(sys.stderr)
        try:
            Applier(client, project, meta, progress, ApplyOptions()).run(plan)
        finally:
            progress.close()
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    changes: dict[str, object] = {"tty": tty, "stdin_open": interactive}
    if command:
        changes["command"] = tuple(command)
    if args.entrypoint is not None:
        changes["entrypoint"] = (args.entrypoint,) if args.entrypoint else ()
    if args.user:
        changes["user"] = args.user
    if args.workdir:
        changes["working_dir"] = args.workdir
    if not args.service_ports:
        changes["ports"] = ()
    if args.rm:
        changes["restart"] = RestartPolicy.NO
    one = dataclasses.replace(service, **changes)  # type: ignore[arg-type]
    numbers = {
        int(c.labels.get("com.docker.compose.container-number", "0") or 0)
        for c in project_containers(client, project.name, oneoff=True)
        if service_of(c) == service.name
    }
    number = next(n for n in range(1, len(numbers) + 2) if n not in numbers)
    name = args.name or container_name(project.name, one, number, oneoff=True)
    labels = container_labels(meta, one, number, oneoff=True)
    nets = attachments(project, one, networking=client.networks_supported())
    container_of = {service_of(c): c.id for c in project_containers(client, project.name)}
    directory = client.files_dir(project.name, name)
    grants = file_grants(project, one, directory)
    cfg = to_config(
        project, one, labels, mode=network_mode(one, nets, container_of), files_dir=directory
    )
    ports = tuple(b for text in args.publish for b in parse_publish(text))
    cfg = dataclasses.replace(
        cfg,
        env=(*cfg.env, *parse_env_args(args.env)),
        host=dataclasses.replace(cfg.host, port_bindings=cfg.host.port_bindings + ports),
    )
    if grants.files:
        client.write_files(directory, grants.files)
    try:
        created = client.create(cfg, name, nets)
    except BaseException:
        client.remove_files(project.name, name)
        raise
    if args.detach:
        try:
            client.start(created.id)
        except BaseException:
            client.remove(created.id, force=True, volumes=True)
            raise
        print(created.name)
        return 0
    try:
        return _attached(client, created.id, tty=tty, interactive=interactive)
    finally:
        if args.rm:
            client.remove(created.id, force=True, volumes=True)


def _attached(client: LocalEngine, container_id: str, *, tty: bool, interactive: bool) -> int:
    """Start the container attached, as `dockyard run -i[t]`: without a terminal our stdin is
    the container's own; with one, the monitor forwards what we read (our terminal raw)."""
    from dockyard.cli.attach import stream_until_exit
    from dockyard.engine.container_start import start_container
    from dockyard.runtime.errors import ExecutableNotFound, ExecutableNotRunnable

    stdin_fd = os.dup(0) if interactive and not tty else None
    try:
        conn = start_container(client.engine, container_id, stdin_fd=stdin_fd, attach=True)
    except (ExecutableNotFound, ExecutableNotRunnable) as e:
        # Docker: 127 when the command is not found, 126 when it cannot be run.
        sys.stderr.write(f"dockyard: {e}\n")
        return 127 if isinstance(e, ExecutableNotFound) else 126
    finally:
        if stdin_fd is not None:
            os.close(stdin_fd)
    return stream_until_exit(conn, tty=tty, container_id=container_id if interactive else "")
