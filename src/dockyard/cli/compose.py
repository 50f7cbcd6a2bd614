"""`dockyard compose`: parse, load the project, then observe → plan → apply (in `compose/`).

No logic lives here beyond printing: each command loads the project, asks the planner what to
do, and hands the plan to the executor, or reads state and prints it as Compose does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.compose.engine_client import ContainerInfo, EngineClient
    from dockyard.compose.loader import LoadedProject
    from dockyard.compose.model import Project
    from dockyard.compose.plan import Plan

Handler = Callable[[argparse.Namespace, Path], int]


def build(command: str, parser: argparse.ArgumentParser) -> Handler:
    """The parser of `compose` and its subcommands."""
    from dockyard.cli.compose_run import add_arguments as add_run_arguments

    add = parser.add_argument
    add("-f", "--file", action="append", default=[], dest="files")
    add("-p", "--project-name")
    add("--project-directory")
    add("--env-file", action="append", default=[])
    add("--profile", action="append", default=[])
    sub = parser.add_subparsers(dest="sub", required=True, metavar="COMMAND")
    handlers: dict[str, Handler] = {}

    def cmd(name: str, text: str, handler: Handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        handlers[name] = handler
        return p

    p = cmd("up", "Create and start containers", up)
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("--build", action="store_true")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--no-start", action="store_true")
    p.add_argument("--force-recreate", action="store_true")
    p.add_argument("--no-recreate", action="store_true")
    p.add_argument("--no-deps", action="store_true")
    p.add_argument("--remove-orphans", action="store_true")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--wait-timeout", type=float)
    p.add_argument("--scale", action="append", default=[])
    p.add_argument("--abort-on-container-exit", action="store_true")
    p.add_argument("--exit-code-from")
    p.add_argument("-t", "--timeout", type=float)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("-V", "--renew-anon-volumes", action="store_true")
    p.add_argument("services", nargs="*")
    p = cmd("create", "Create containers for a service", up)
    p.set_defaults(
        detach=True,
        no_start=True,
        wait=False,
        wait_timeout=None,
        abort_on_container_exit=False,
        exit_code_from=None,
        timeout=None,
        dry_run=False,
    )
    p.add_argument("--build", action="store_true")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--force-recreate", action="store_true")
    p.add_argument("--no-recreate", action="store_true")
    p.add_argument("--no-deps", action="store_true", default=False)
    p.add_argument("--remove-orphans", action="store_true")
    p.add_argument("--scale", action="append", default=[])
    p.add_argument("services", nargs="*")
    p = cmd("down", "Stop and remove containers, networks", down)
    p.add_argument("-v", "--volumes", action="store_true")
    p.add_argument("--rmi", choices=("local", "all"))
    p.add_argument("--remove-orphans", action="store_true")
    p.add_argument("-t", "--timeout", type=float)
    p = cmd("ps", "List containers", ps)
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format", default="table")
    p.add_argument("--services", action="store_true")
    p.add_argument("service", nargs="*")
    p = cmd("logs", "View output from containers", logs)
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--tail", default="all")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("--no-color", action="store_true")
    p.add_argument("--no-log-prefix", action="store_true")
    p.add_argument("service", nargs="*")
    p = cmd("exec", "Execute a command in a running container", exec_)
    p.add_argument("-T", "--no-TTY", action="store_true", dest="no_tty")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("-u", "--user")
    p.add_argument("-w", "--workdir")
    p.add_argument("--index", type=int, default=1)
    p.add_argument("service")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = cmd("run", "Run a one-off command on a service", run)
    add_run_arguments(p)
    for name, text, handler in (
        ("start", "Start services", start),
        ("stop", "Stop services", stop),
        ("restart", "Restart service containers", restart),
        ("kill", "Force stop service containers", kill),
        ("rm", "Removes stopped service containers", rm),
        ("pause", "Pause services", pause),
        ("unpause", "Unpause services", pause),
        ("pull", "Pull service images", pull),
        ("push", "Push service images", push),
        ("build", "Build or rebuild services", build_images),
        ("images", "List images used by the created containers", images),
        ("top", "Display the running processes", top),
    ):
        p = cmd(name, text, handler)
        p.add_argument("services", nargs="*")
        if name in ("stop", "restart"):
            p.add_argument("-t", "--timeout", type=float)
        if name == "kill":
            p.add_argument("-s", "--signal", default="SIGKILL")
        if name == "rm":
            p.add_argument("-f", "--force", action="store_true")
            p.add_argument("-s", "--stop", action="store_true")
            p.add_argument("-v", "--volumes", action="store_true")
        if name == "images":
            p.add_argument("-q", "--quiet", action="store_true")
    p = cmd("config", "Parse, resolve and render the compose file", config)
    p.add_argument("--services", action="store_true")
    p.add_argument("--volumes", action="store_true")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--explain", action="store_true")
    p = cmd("port", "Print the public port for a port binding", port)
    p.add_argument("--index", type=int, default=1)
    p.add_argument("--protocol", default="tcp")
    p.add_argument("service")
    p.add_argument("private_port")
    p = cmd("ls", "List running compose projects", ls)
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format", default="table")
    p = cmd("version", "Show the Compose version information", version)
    p.add_argument("--short", action="store_true")

    def dispatch(args: argparse.Namespace, root: Path) -> int:
        return handlers[args.sub](args, root)

    return dispatch


# ---- shared -------------------------------------------------------------------------------


def _client(root: Path) -> EngineClient:
    from dockyard.compose.local import LocalEngine

    return LocalEngine(root)


def _load(args: argparse.Namespace) -> LoadedProject:
    from dockyard.compose.loader import LoadOptions, load_project

    loaded = load_project(
        LoadOptions(
            files=tuple(args.files),
            project_name=args.project_name,
            project_directory=args.project_directory,
            env_files=tuple(args.env_file),
            profiles=tuple(args.profile),
            working_dir=os.getcwd(),
            environ=dict(os.environ),
        )
    )
    for warning in loaded.warnings:
        sys.stderr.write(f"WARN[0000] {warning}\n")
    return loaded


def _project_name(args: argparse.Namespace) -> tuple[str, Project | None, tuple[str, ...]]:
    """The project from its files; with `-p` and no compose file, only its name (for down/ps)."""
    from dockyard.compose.errors import ComposeFileNotFound

    try:
        loaded = _load(args)
    except ComposeFileNotFound:
        if args.project_name and not args.files:
            return args.project_name, None, ()
        raise
    return loaded.project.name, loaded.project, loaded.files


def _containers(
    client: EngineClient, project: str, services: Iterable[str], *, all_: bool = True
) -> list[ContainerInfo]:
    from dockyard.compose.observe import project_containers, service_of

    chosen = set(services)
    return [
        c
        for c in project_containers(client, project)
        if (not chosen or service_of(c) in chosen) and (all_ or c.running)
    ]


def _check_services(project: Project | None, names: Iterable[str]) -> None:
    from dockyard.compose.plan import select_services

    if project is not None:
        select_services(project, list(names), with_deps=False)


def _parse_scale(values: list[str]) -> dict[str, int]:
    from dockyard.errors import InvalidArgument

    out = {}
    for text in values:
        name, sep, count = text.partition("=")
        if not sep or not count.isdigit():
            raise InvalidArgument(f'invalid --scale "{text}": use SERVICE=NUMBER')
        out[name] = int(count)
    return out


# ---- up / down ----------------------------------------------------------------------------


def up(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.apply import Applier, ApplyOptions, wait_ready
    from dockyard.compose.convert import ProjectMeta
    from dockyard.compose.observe import observe
    from dockyard.compose.output import progress_for
    from dockyard.compose.plan import UpOptions, plan_up, select_services
    from dockyard.errors import InvalidArgument

    loaded = _load(args)
    project = loaded.project
    if args.exit_code_from:
        args.abort_on_container_exit = True
        if args.exit_code_from not in project.services:
            raise InvalidArgument(f'--exit-code-from: no such service "{args.exit_code_from}"')
    if args.detach and args.abort_on_container_exit:
        raise InvalidArgument("--abort-on-container-exit and -d cannot be combined; drop one")
    if args.build and args.no_build:
        raise InvalidArgument("--build and --no-build are incompatible; pick one")
    client = _client(root)
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

    containers = _containers(client, project.name, services)
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
        running = [c for c in _containers(client, project, services) if c.running]
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

    name, project, files = _project_name(args)
    client = _client(root)
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


# ---- state --------------------------------------------------------------------------------


def _status(c: ContainerInfo) -> str:
    from dockyard.cli.format import human_ago

    if c.running:
        text = "Up " + human_ago(c.started_at).removesuffix(" ago")
        if c.status == "paused":
            text += " (Paused)"
        elif c.health:
            text += f" ({c.health})"
        return text
    if c.status == "created":
        return "Created"
    return f"Exited ({c.exit_code}) " + human_ago(c.started_at or c.created)


def _ports(c: ContainerInfo) -> str:
    return ", ".join(f"{ip or '0.0.0.0'}:{hp}->{key}" for ip, hp, key in c.ports)


def ps(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import human_ago, table
    from dockyard.compose.observe import service_of

    name, project, _ = _project_name(args)
    if args.services and project is not None:
        print("\n".join(project.services))
        return 0
    _check_services(project, args.service)
    client = _client(root)
    containers = _containers(client, name, args.service, all_=args.all)
    if args.quiet:
        for c in containers:
            print(c.id)
        return 0
    rows = [
        {
            "ID": c.id,
            "Name": c.name,
            "Image": c.image,
            "Command": " ".join(c.command),
            "Project": name,
            "Service": service_of(c),
            "Created": human_ago(c.created),
            "State": c.status,
            "Status": _status(c),
            "Health": c.health or "",
            "ExitCode": c.exit_code,
            "Publishers": [
                {
                    "URL": ip or "0.0.0.0",
                    "TargetPort": int(key.split("/")[0]),
                    "PublishedPort": int(hp or 0),
                    "Protocol": key.split("/")[1],
                }
                for ip, hp, key in c.ports
            ],
            "Ports": _ports(c),
        }
        for c in containers
    ]
    if args.format == "json":
        print(json.dumps(rows))
        return 0
    headers = ("NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS")
    body = [
        [
            r["Name"],
            r["Image"],
            json.dumps(str(r["Command"])[:20]),
            r["Service"],
            r["Created"],
            r["Status"],
            r["Ports"],
        ]
        for r in rows
    ]
    print(table(headers, [[str(x) for x in row] for row in body]))
    return 0


def logs(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.observe import service_of
    from dockyard.compose.output import LogPrinter, short_name
    from dockyard.errors import InvalidArgument

    name, project, _ = _project_name(args)
    _check_services(project, args.service)
    if args.tail != "all" and not args.tail.isdigit():
        raise InvalidArgument(f"invalid --tail {args.tail!r}: use a number or all")
    tail = None if args.tail == "all" else int(args.tail)
    client = _client(root)
    containers = _containers(client, name, args.service)
    width = max((len(short_name(name, c.name)) for c in containers), default=0)
    printer = LogPrinter(sys.stdout, colour=sys.stdout.isatty() and not args.no_color, width=width)

    def show(container: ContainerInfo) -> None:
        label = short_name(name, container.name)
        for line in client.logs(container.id, follow=args.follow, tail=tail):
            stamp = line.time if args.timestamps else ""
            if args.no_log_prefix:
                printer.message((f"{stamp} " if stamp else "") + line.text.rstrip("\n"))
            else:
                printer.line(service_of(container), label, line.text, stamp)

    if not args.follow:
        for container in containers:
            show(container)
        return 0
    threads = [threading.Thread(target=show, args=(c,), daemon=True) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


def _one(client: EngineClient, project: str, service: str, index: int) -> ContainerInfo:
    from dockyard.errors import NotFound

    for c in _containers(client, project, [service]):
        from dockyard.compose.observe import number_of

        if number_of(c) == index:
            return c
    raise NotFound(f'service "{service}" has no container number {index}; is it up?')


def exec_(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import Conflict, InvalidArgument

    name, project, _ = _project_name(args)
    _check_services(project, [args.service])
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise InvalidArgument("exec needs a command: dockyard compose exec SERVICE COMMAND")
    client = _client(root)
    container = _one(client, name, args.service, args.index)
    if not container.running:
        raise Conflict(f"container {container.name} is not running; start it first")
    tty = not args.no_tty and sys.stdin.isatty() and sys.stdout.isatty()
    return client.execute(
        container.id, command, env=args.env, user=args.user, workdir=args.workdir, tty=tty
    )


def run(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.compose_run import run as run_oneoff
    from dockyard.compose.local import LocalEngine

    return run_oneoff(args, _load(args), LocalEngine(root))


def _act(
    args: argparse.Namespace,
    root: Path,
    verb: str,
    done: str,
    work: Callable[[EngineClient, ContainerInfo], None],
    *,
    running: bool | None = None,
    reverse: bool = False,
) -> int:
    """Apply `work` to each chosen container, in dependency order (reversed to stop)."""
    from dockyard.compose.observe import service_of
    from dockyard.compose.output import Event, progress_for
    from dockyard.compose.plan import waves

    name, project, _ = _project_name(args)
    _check_services(project, args.services)
    client = _client(root)
    containers = _containers(client, name, args.services)
    if running is not None:
        containers = [c for c in containers if c.running == running]
    if project is not None:
        order = [n for wave in waves(project, list(project.services)) for n in wave]
        rank = {n: i for i, n in enumerate(reversed(order) if reverse else order)}
        containers.sort(key=lambda c: rank.get(service_of(c), -1))
    progress = progress_for(sys.stdout)
    try:
        for container in containers:
            progress.event(Event("Container", container.name, verb, done=False))
            work(client, container)
            progress.event(Event("Container", container.name, done))
    finally:
        progress.close()
    return 0


def start(args: argparse.Namespace, root: Path) -> int:
    return _act(args, root, "Starting", "Started", lambda c, x: c.start(x.id), running=False)


def stop(args: argparse.Namespace, root: Path) -> int:
    return _act(
        args, root, "Stopping", "Stopped", lambda c, x: c.stop(x.id, args.timeout), reverse=True
    )


def restart(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.plan import with_restart_dependents

    if args.services:
        # Dependents declared with `depends_on.restart: true` restart with their dependency.
        _, project, _ = _project_name(args)
        if project is not None:
            _check_services(project, args.services)
            args.services = with_restart_dependents(project, args.services)

    def again(client: EngineClient, c: ContainerInfo) -> None:
        if client.inspect(c.id).running:
            client.stop(c.id, args.timeout)
        client.start(c.id)

    return _act(args, root, "Restarting", "Started", again)


def kill(args: argparse.Namespace, root: Path) -> int:
    from dockyard.engine.options import parse_signal

    number = parse_signal(args.signal, "--signal")
    return _act(args, root, "Killing", "Killed", lambda c, x: c.kill(x.id, number), running=True)


def rm(args: argparse.Namespace, root: Path) -> int:
    def remove(client: EngineClient, c: ContainerInfo) -> None:
        if client.inspect(c.id).running:
            client.stop(c.id, None)
        client.remove(c.id, force=True, volumes=args.volumes)

    if not args.stop:
        return _act(args, root, "Removing", "Removed", remove, running=False)
    return _act(args, root, "Removing", "Removed", remove, reverse=True)


def pause(args: argparse.Namespace, root: Path) -> int:
    if args.sub == "pause":
        return _act(args, root, "Pausing", "Paused", lambda c, x: c.pause(x.id), running=True)
    return _act(args, root, "Unpausing", "Unpaused", lambda c, x: c.unpause(x.id), running=True)


def _service_images(args: argparse.Namespace) -> tuple[Project, list[tuple[str, str]]]:
    from dockyard.compose.convert import image_name
    from dockyard.compose.plan import select_services

    project = _load(args).project
    names = select_services(project, list(args.services), with_deps=False)
    return project, [(n, image_name(project, project.services[n])) for n in names]


def pull(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = _client(root)
    progress = progress_for(sys.stdout)
    try:
        for service, ref in refs:
            if project.services[service].image is None:
                continue  # built, not pulled
            progress.event(Event("Image", ref, "Pulling", done=False))
            client.pull(ref)
            progress.event(Event("Image", ref, "Pulled"))
    finally:
        progress.close()
    return 0


def push(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = _client(root)
    progress = progress_for(sys.stdout)
    try:
        for service, ref in refs:
            if project.services[service].build is None:
                continue  # Compose pushes only the images it builds
            progress.event(Event("Image", ref, "Pushing", done=False))
            client.push(ref)
            progress.event(Event("Image", ref, "Pushed"))
    finally:
        progress.close()
    return 0


def build_images(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.output import Event, progress_for

    project, refs = _service_images(args)
    client = _client(root)
    progress = progress_for(sys.stdout)
    try:
        for service, ref in refs:
            spec = project.services[service].build
            if spec is None:
                continue
            progress.event(Event("Image", ref, "Building", done=False))
            client.build(spec, ref)
            progress.event(Event("Image", ref, "Built"))
    finally:
        progress.close()
    return 0


def images(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table

    name, _, _ = _project_name(args)
    client = _client(root)
    containers = _containers(client, name, args.services)
    if args.quiet:
        print("\n".join(dict.fromkeys(c.image_id for c in containers)))
        return 0
    rows = []
    for c in containers:
        repo, _, tag = c.image.rpartition(":") if ":" in c.image else (c.image, "", "latest")
        image_id = c.image_id.removeprefix("sha256:")[:12]
        rows.append([c.name, repo or c.image, tag or "latest", image_id])
    print(table(("CONTAINER", "REPOSITORY", "TAG", "IMAGE ID"), rows))
    return 0


def top(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table

    name, project, _ = _project_name(args)
    _check_services(project, args.services)
    client = _client(root)
    for c in _containers(client, name, args.services, all_=False):
        print(c.name)
        rows = [[str(pid), cmd] for pid, cmd in client.processes(c.id)]
        print(table(("PID", "CMD"), rows))
        print()
    return 0


def port(args: argparse.Namespace, root: Path) -> int:
    from dockyard.errors import NotFound

    name, project, _ = _project_name(args)
    _check_services(project, [args.service])
    container = _one(_client(root), name, args.service, args.index)
    key = f"{args.private_port}/{args.protocol}"
    for ip, host_port, each in container.ports:
        if each == key:
            print(f"{ip or '0.0.0.0'}:{host_port}")
            return 0
    raise NotFound(f"no port {key} published for service {args.service}")


def config(args: argparse.Namespace, root: Path) -> int:
    from dockyard.compose.explain import explain, format_explanations
    from dockyard.compose.serialize import to_json, to_yaml

    loaded = _load(args)
    project = loaded.project
    if args.quiet:
        return 0
    if args.services:
        print("\n".join(project.services))
    elif args.volumes:
        print("\n".join(project.volumes))
    elif args.explain:
        print(format_explanations(explain(loaded.substitutions, project.working_dir)))
    else:
        sys.stdout.write(to_json(project) + "\n" if args.format == "json" else to_yaml(project))
    return 0


def ls(args: argparse.Namespace, root: Path) -> int:
    from dockyard.cli.format import table
    from dockyard.compose.convert import CONFIG_FILES, PROJECT

    client = _client(root)
    projects: dict[str, list[ContainerInfo]] = {}
    for c in client.list_containers({}):
        if PROJECT in c.labels:
            projects.setdefault(c.labels[PROJECT], []).append(c)
    rows = []
    for name in sorted(projects):
        members = projects[name]
        counts: dict[str, int] = {}
        for c in members:
            counts[c.status] = counts.get(c.status, 0) + 1
        if not args.all and "running" not in counts:
            continue
        status = ", ".join(f"{s}({n})" for s, n in sorted(counts.items()))
        files = members[0].labels.get(CONFIG_FILES, "")
        rows.append({"Name": name, "Status": status, "ConfigFiles": files})
    if args.quiet:
        print("\n".join(r["Name"] for r in rows))
    elif args.format == "json":
        print(json.dumps(rows))
    else:
        body = [[r["Name"], r["Status"], r["ConfigFiles"]] for r in rows]
        print(table(("NAME", "STATUS", "CONFIG FILES"), body))
    return 0


def version(args: argparse.Namespace, root: Path) -> int:
    from dockyard import __version__

    print(__version__ if args.short else f"dockyard compose version {__version__}")
    return 0
