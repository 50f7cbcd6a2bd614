"""`dockyard-runtime`: the runc-compatible command line of dockyard's OCI runtime (parse, call)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dockyard.errors import DockyardError

DEFAULT_ROOT = "/run/dockyard-runtime"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dockyard-runtime", description="dockyard's OCI runtime")
    p.add_argument("--root", default=os.environ.get("DOCKYARD_RUNTIME_ROOT", DEFAULT_ROOT))
    p.add_argument("--log", help="also write errors to this file")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--debug", action="store_true")
    p.add_argument("--systemd-cgroup", action="store_true", help="not supported: cgroupfs only")
    p.add_argument("--version", action="store_true")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def create_like(name: str, help_text: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_text)
        c.add_argument("id")
        c.add_argument("--bundle", "-b", default=".")
        c.add_argument("--pid-file")
        c.add_argument("--console-socket")
        c.add_argument("--no-pivot", action="store_true")
        c.add_argument("--no-new-keyring", action="store_true")
        c.add_argument("--preserve-fds", type=int, default=0)
        return c

    create_like("create", "create a container, stopped before its program runs")
    r = create_like("run", "create and start a container, wait for it, delete it")
    r.add_argument("--detach", "-d", action="store_true")
    r.add_argument("--keep", action="store_true", help="do not delete the container on exit")
    sub.add_parser("start", help="run a created container's program").add_argument("id")
    sub.add_parser("state", help="print a container's state as JSON").add_argument("id")
    k = sub.add_parser("kill", help="signal a container (default SIGTERM)")
    k.add_argument("id")
    k.add_argument("signal", nargs="?", default="TERM")
    k.add_argument("--all", "-a", action="store_true")
    d = sub.add_parser("delete", help="delete a container")
    d.add_argument("id")
    d.add_argument("--force", "-f", action="store_true")
    ls = sub.add_parser("list", help="list containers")
    ls.add_argument("--format", "-f", choices=("table", "json"), default="table")
    ls.add_argument("--quiet", "-q", action="store_true")
    s = sub.add_parser("spec", help="write a default config.json")
    s.add_argument("--bundle", "-b", default=".")
    s.add_argument("--rootless", action="store_true")
    e = sub.add_parser("exec", help="run a process in a running container")
    e.add_argument("id")
    e.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND")
    e.add_argument("--console-socket")
    e.add_argument("--cwd")
    e.add_argument("--env", "-e", action="append", default=[])
    e.add_argument("--tty", "-t", action="store_true")
    e.add_argument("--user", "-u")
    e.add_argument("--process", "-p")
    e.add_argument("--detach", "-d", action="store_true")
    e.add_argument("--pid-file")
    e.add_argument("--no-new-privs", action="store_true")
    return p


def _log_error(args: argparse.Namespace, message: str) -> None:
    sys.stderr.write(f"dockyard-runtime: {message}\n")
    if not getattr(args, "log", None):
        return
    import datetime

    now = datetime.datetime.now(datetime.UTC).isoformat()
    if args.log_format == "json":
        line = json.dumps({"level": "error", "msg": message, "time": now})
    else:
        line = f'time="{now}" level=error msg={json.dumps(message)}'
    with open(args.log, "a") as f:
        f.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `dockyard-runtime`."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except DockyardError as e:
        _log_error(args, str(e))
        return 1
    except OSError as e:
        where = f": {e.filename}" if e.filename else ""
        _log_error(args, f"{e.strerror}{where}")
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.version:
        from dockyard import __version__
        from dockyard.runtime.state import OCI_VERSION

        print(f"dockyard-runtime version {__version__}\nspec: {OCI_VERSION}")
        return 0
    if args.systemd_cgroup:
        from dockyard.errors import Unavailable

        raise Unavailable("--systemd-cgroup is not supported: dockyard uses cgroupfs directly")
    root = Path(args.root)
    cmd = args.command
    if cmd in ("create", "run"):
        return _create_or_run(root, args)
    if cmd == "start":
        from dockyard.runtime.container_start import start_container

        start_container(root, args.id)
        return 0
    if cmd == "state":
        from dockyard.runtime.state import ContainerDir

        cdir = ContainerDir(root, args.id)
        print(json.dumps(cdir.oci_state(cdir.load()), indent=2))
        return 0
    if cmd == "kill":
        from dockyard.runtime.container_kill import kill_container, parse_signal

        kill_container(root, args.id, parse_signal(args.signal), args.all)
        return 0
    if cmd == "delete":
        from dockyard.runtime.container_delete import delete_container

        delete_container(root, args.id, args.force)
        return 0
    if cmd == "list":
        return _list(root, args)
    if cmd == "spec":
        return _spec(args)
    if cmd == "exec":
        return _exec(root, args)
    _parser().print_usage(sys.stderr)
    return 1


def _create_or_run(root: Path, args: argparse.Namespace) -> int:
    from dockyard.runtime.container_create import CreateOptions, create_container

    opts = CreateOptions(
        bundle=Path(args.bundle),
        pid_file=Path(args.pid_file).absolute() if args.pid_file else None,
        console_socket=args.console_socket,
        no_pivot=args.no_pivot,
    )
    if args.command == "create":
        create_container(root, args.id, opts)
        return 0
    from dockyard.runtime.container_run import run_container

    return run_container(root, args.id, opts, detach=args.detach, keep=args.keep)


def _list(root: Path, args: argparse.Namespace) -> int:
    from dockyard.runtime.state import ContainerDir, list_containers

    rows: list[dict[str, str | int]] = []
    for cid in list_containers(root):
        cdir = ContainerDir(root, cid)
        rec = cdir.load()
        state = cdir.oci_state(rec)
        rows.append(
            {
                "id": cid,
                "pid": state["pid"],
                "status": state["status"],
                "bundle": rec.bundle,
                "rootfs": rec.rootfs,
                "created": rec.created,
                "owner": rec.owner,
            }
        )
    if args.quiet:
        for r in rows:
            print(r["id"])
    elif args.format == "json":
        print(json.dumps(rows))
    else:
        print(f"{'ID':<20} {'PID':<8} {'STATUS':<10} {'BUNDLE':<40} {'CREATED':<33} OWNER")
        for r in rows:
            print(
                f"{r['id']:<20} {r['pid']:<8} {r['status']:<10} {r['bundle']:<40} "
                f"{r['created']:<33} {r['owner']}"
            )
    return 0


def _spec(args: argparse.Namespace) -> int:
    from dockyard.errors import Conflict
    from dockyard.runtime.spec_default import default_spec

    path = Path(args.bundle) / "config.json"
    if path.exists():
        raise Conflict(f"{path} exists: remove it first")
    path.write_text(json.dumps(default_spec(), indent=2) + "\n")
    return 0


def _exec(root: Path, args: argparse.Namespace) -> int:
    from dockyard.errors import InvalidArgument
    from dockyard.runtime.container_exec import ExecOptions, exec_process

    command = list(args.argv)
    if command and command[0] == "--":
        command = command[1:]
    process = None
    if args.process:
        process = json.loads(Path(args.process).read_text())
    elif not command:
        raise InvalidArgument("exec needs a command: dockyard-runtime exec ID -- CMD [ARG...]")
    uid = gid = None
    if args.user:
        uid_s, _, gid_s = args.user.partition(":")
        if not uid_s.isdigit() or (gid_s and not gid_s.isdigit()):
            raise InvalidArgument(f"--user {args.user!r}: use UID[:GID] with numbers")
        uid, gid = int(uid_s), int(gid_s) if gid_s else None
    opts = ExecOptions(
        args=tuple(command),
        env=tuple(args.env),
        cwd=args.cwd,
        uid=uid,
        gid=gid,
        tty=args.tty,
        detach=args.detach,
        process=process,
        pid_file=Path(args.pid_file).absolute() if args.pid_file else None,
        console_socket=args.console_socket,
        no_new_privs=args.no_new_privs,
    )
    return exec_process(root, args.id, opts)


if __name__ == "__main__":
    sys.exit(main())
