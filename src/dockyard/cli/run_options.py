"""`dockyard run`/`create` flags (Docker's names and defaults) → `ContainerConfig`, then run."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.engine.config import ContainerConfig
    from dockyard.engine.service import Engine
    from dockyard.engine.store import ContainerRow


def add_run_options(p: argparse.ArgumentParser, *, run: bool) -> None:
    """Every flag of `docker run` that dockyard supports."""
    if run:
        p.add_argument("-d", "--detach", action="store_true")
        p.add_argument("--rm", action="store_true")
        p.add_argument("--sig-proxy", default="true")
    else:
        p.add_argument("--rm", action="store_true")
    add = p.add_argument
    add("-i", "--interactive", action="store_true")
    add("-t", "--tty", action="store_true")
    add("--name")
    add("-e", "--env", action="append", default=[])
    add("--env-file", action="append", default=[])
    add("-v", "--volume", action="append", default=[])
    add("--mount", action="append", default=[])
    add("--tmpfs", action="append", default=[])
    add("-w", "--workdir", default="")
    add("-u", "--user", default="")
    add("--entrypoint")
    add("-h", "--hostname", default="")
    add("--domainname", default="")
    add("--add-host", action="append", default=[])
    add("--dns", action="append", default=[])
    add("--dns-search", action="append", default=[])
    add("--dns-option", action="append", default=[])
    add("-l", "--label", action="append", default=[])
    add("--label-file", action="append", default=[])
    add("--read-only", action="store_true")
    add("--init", action="store_true")
    add("--restart", default="no")
    add("--health-cmd")
    add("--health-interval")
    add("--health-timeout")
    add("--health-retries")
    add("--health-start-period")
    add("--health-start-interval")
    add("--no-healthcheck", action="store_true")
    add("-m", "--memory")
    add("--memory-swap")
    add("--memory-reservation")
    add("--cpus")
    add("-c", "--cpu-shares")
    add("--cpu-period")
    add("--cpu-quota")
    add("--cpuset-cpus")
    add("--pids-limit")
    add("--ulimit", action="append", default=[])
    add("--cap-add", action="append", default=[])
    add("--cap-drop", action="append", default=[])
    add("--privileged", action="store_true")
    add("--security-opt", action="append", default=[])
    add("--device", action="append", default=[])
    add("--stop-signal")
    add("--stop-timeout")
    add("--log-driver", default="json-file")
    add("--log-opt", action="append", default=[])
    add("--network", "--net", default="default")
    add("--network-alias", action="append", default=[])
    add("--ip")
    add("--ip6")
    add("--link", action="append", default=[])
    add("-p", "--publish", action="append", default=[])
    add("-P", "--publish-all", action="store_true")
    add("--expose", action="append", default=[])
    add("--shm-size")
    add("--oom-score-adj")
    add("--sysctl", action="append", default=[])
    add("--group-add", action="append", default=[])
    add("--platform")
    add("--pull", default="missing")
    add("-q", "--quiet", action="store_true")
    add("image")
    add("command", nargs=argparse.REMAINDER)


def config_from_args(args: argparse.Namespace) -> ContainerConfig:
    """Parse every flag value (one clear error each) into a `ContainerConfig`."""
    from dockyard.engine import options as o
    from dockyard.engine.config import ContainerConfig, Healthcheck, HostConfig, LogConfig
    from dockyard.engine.envfile import parse_env_args, read_env_file
    from dockyard.errors import InvalidArgument

    env: list[str] = []
    for path in args.env_file:
        env += read_env_file(path)
    env += parse_env_args(args.env)
    labels = dict(kv for path in args.label_file for kv in o.read_label_file(path))
    labels.update(o.parse_label(text) for text in args.label)
    mounts = tuple(o.parse_mount(text) for text in args.mount)
    for text in args.volume:
        o.parse_volume(text)  # validate now: the engine re-reads binds as written
    tmpfs = dict(o.parse_tmpfs(text) for text in args.tmpfs)
    log_opts = {}
    for text in args.log_opt:
        key, sep, value = text.partition("=")
        if not sep or key not in ("max-size", "max-file", "compress", "labels", "env", "tag"):
            raise InvalidArgument(f"invalid --log-opt {text!r}: use max-size=10m or max-file=3")
        log_opts[key] = value
    if args.log_driver != "json-file":
        raise InvalidArgument(f"--log-driver {args.log_driver!r} is not supported: use json-file")
    log_config = LogConfig(config={"max-size": "10m", "max-file": "3", **log_opts})
    if "max-size" in log_opts:
        o.parse_bytes(log_opts["max-size"], "--log-opt max-size")
    security = [o.parse_security_opt(text) for text in args.security_opt]
    for warning in o.security_settings(security).warnings:
        sys.stderr.write(f"WARNING: {warning}\n")
    healthcheck = None
    if args.no_healthcheck:
        healthcheck = Healthcheck(test=("NONE",))
    elif args.health_cmd is not None:
        healthcheck = Healthcheck(
            test=("CMD-SHELL", args.health_cmd),
            interval=o.parse_duration(args.health_interval, "--health-interval")
            if args.health_interval
            else 0,
            timeout=o.parse_duration(args.health_timeout, "--health-timeout")
            if args.health_timeout
            else 0,
            start_period=o.parse_duration(args.health_start_period, "--health-start-period")
            if args.health_start_period
            else 0,
            retries=o.parse_int(args.health_retries, "--health-retries", minimum=0)
            if args.health_retries
            else 0,
            start_interval=o.parse_duration(args.health_start_interval, "--health-start-interval")
            if args.health_start_interval
            else 0,
        )
    ports = tuple(b for text in args.publish for b in o.parse_publish(text))
    exposed = tuple(p for text in args.expose for p in o.parse_expose(text))
    restart = o.parse_restart(args.restart)
    if args.rm and restart.name != "no":
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    network = o.parse_network(args.network)
    if args.stop_signal:
        o.parse_signal(args.stop_signal, "--stop-signal")
    if args.user:
        o.parse_user(args.user)
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    entrypoint = None
    if args.entrypoint is not None:
        entrypoint = (args.entrypoint,) if args.entrypoint else ()
    host = HostConfig(
        binds=tuple(args.volume),
        mounts=mounts,
        tmpfs=tmpfs,
        network_mode=str(network),
        port_bindings=ports,
        publish_all_ports=args.publish_all,
        restart_policy=restart,
        auto_remove=args.rm,
        privileged=args.privileged,
        readonly_rootfs=args.read_only,
        cap_add=o.normalize_capabilities(args.cap_add, "--cap-add"),
        cap_drop=o.normalize_capabilities(args.cap_drop, "--cap-drop"),
        security_opt=tuple(args.security_opt),
        memory=o.parse_bytes(args.memory, "--memory") if args.memory else 0,
        memory_swap=o.parse_bytes(args.memory_swap, "--memory-swap", allow_unlimited=True)
        if args.memory_swap
        else 0,
        memory_reservation=o.parse_bytes(args.memory_reservation, "--memory-reservation")
        if args.memory_reservation
        else 0,
        nano_cpus=o.parse_cpus(args.cpus) if args.cpus else 0,
        cpu_shares=o.parse_int(args.cpu_shares, "--cpu-shares", minimum=0)
        if args.cpu_shares
        else 0,
        cpu_period=o.parse_int(args.cpu_period, "--cpu-period", minimum=0)
        if args.cpu_period
        else 0,
        cpu_quota=o.parse_int(args.cpu_quota, "--cpu-quota") if args.cpu_quota else 0,
        cpuset_cpus=o.parse_cpuset(args.cpuset_cpus) if args.cpuset_cpus else "",
        pids_limit=o.parse_int(args.pids_limit, "--pids-limit") if args.pids_limit else None,
        ulimits=tuple(o.parse_ulimit(text) for text in args.ulimit),
        devices=tuple(o.parse_device(text) for text in args.device),
        dns=tuple(args.dns),
        dns_search=tuple(args.dns_search),
        dns_options=tuple(args.dns_option),
        extra_hosts=tuple(":".join(o.parse_add_host(text)) for text in args.add_host),
        init=True if args.init else None,
        log_config=log_config,
        shm_size=o.parse_bytes(args.shm_size, "--shm-size") if args.shm_size else 64 << 20,
        oom_score_adj=o.parse_int(args.oom_score_adj, "--oom-score-adj", minimum=-1000)
        if args.oom_score_adj
        else 0,
        sysctls=dict(o.parse_sysctl(text) for text in args.sysctl),
        group_add=tuple(args.group_add),
    )
    return ContainerConfig(
        image=args.image,
        cmd=tuple(command) if command else None,
        entrypoint=entrypoint,
        env=tuple(env),
        working_dir=args.workdir,
        user=args.user,
        labels=labels,
        hostname=args.hostname,
        domainname=args.domainname,
        tty=args.tty,
        open_stdin=args.interactive,
        stdin_once=args.interactive,
        attach_stdin=args.interactive,
        attach_stdout=not getattr(args, "detach", True),
        attach_stderr=not getattr(args, "detach", True),
        stop_signal=args.stop_signal or "",
        stop_timeout=o.parse_int(args.stop_timeout, "--stop-timeout")
        if args.stop_timeout
        else None,
        healthcheck=healthcheck,
        exposed_ports=exposed,
        host=host,
    )


def create_from_args(engine: Engine, args: argparse.Namespace) -> ContainerRow:
    """`create`: parse, then create (pulling is not automatic: the image must be present)."""
    from dockyard.engine.config import NetworkAttachment
    from dockyard.engine.container_create import create_container

    cfg = config_from_args(args)
    networks: tuple[NetworkAttachment, ...] = ()
    if args.ip or args.ip6:
        from dockyard.engine.networking import desired_networks

        first = desired_networks(cfg, (), args.network_alias)[0]
        networks = (NetworkAttachment(first.name, first.aliases, args.ip, args.ip6),)
    return create_container(
        engine, cfg, args.name, networks, aliases=args.network_alias, links=args.link
    )


def run_from_args(engine: Engine, args: argparse.Namespace) -> int:
    """`run`: create, start, and (unless detached) stream output and return the exit code."""
    from dockyard.cli.attach import stream_until_exit
    from dockyard.engine.container_start import start_container
    from dockyard.engine.monitor.client import prewarm
    from dockyard.engine.network_mode import uses_bridge
    from dockyard.errors import DockyardError
    from dockyard.runtime.errors import ExecutableNotFound, ExecutableNotRunnable

    prewarm(engine.paths, network=uses_bridge(args.network))
    row = create_from_args(engine, args)
    stdin_fd = None
    if args.interactive and not args.tty and not args.detach:
        stdin_fd = os.dup(0)
    try:
        conn = start_container(engine, row.id, stdin_fd=stdin_fd, attach=not args.detach)
    except (ExecutableNotFound, ExecutableNotRunnable) as e:
        # Docker: the container stays "Created" (removed with --rm); 127 not found, 126 not run.
        if args.rm:
            from dockyard.engine.container_remove import remove_container

            remove_container(engine, row.id, force=True, volumes=True)
        sys.stderr.write(f"dockyard: {e}\n")
        return 127 if isinstance(e, ExecutableNotFound) else 126
    except DockyardError:
        # `run` makes the container only to start it: if it cannot start (a port in use, a
        # missing network), nothing of it stays.
        from dockyard.engine.container_remove import remove_container

        remove_container(engine, row.id, force=True, volumes=True)
        raise
    finally:
        if stdin_fd is not None:
            os.close(stdin_fd)
    if args.detach:
        conn.close()
        print(row.id)
        return 0
    code = stream_until_exit(conn, tty=args.tty, container_id=row.id if args.interactive else "")
    return code
