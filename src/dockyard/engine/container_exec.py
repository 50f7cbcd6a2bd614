"""`exec`: another process in a running container, through the runtime's exec."""

from __future__ import annotations

from dockyard.engine.service import Engine
from dockyard.errors import Conflict
from dockyard.image.users import resolve_user


def exec_in_container(
    engine: Engine,
    text: str,
    command: list[str],
    *,
    env: list[str],
    env_files: list[str],
    user: str | None,
    workdir: str | None,
    tty: bool,
    detach: bool,
) -> int:
    """Run `command` in the container; its exit code (0 at once when detached)."""
    from dockyard.engine.envfile import parse_env_args, read_env_file
    from dockyard.runtime.container_exec import ExecOptions, exec_process

    row = engine.containers.find(text)
    if row.status != "running":
        raise Conflict(f"Container {row.id} is not running")
    environment: list[str] = []
    for path in env_files:
        environment += read_env_file(path)
    environment += parse_env_args(env)
    uid = gid = None
    if user is not None:
        etc = engine.paths.rootfs(row.id) / "etc"
        resolved = resolve_user(user, etc / "passwd", etc / "group")
        uid, gid = resolved.uid, resolved.gid
    opts = ExecOptions(
        args=tuple(command),
        env=tuple(environment),
        cwd=workdir,
        uid=uid,
        gid=gid,
        tty=tty,
        detach=detach,
    )
    return exec_process(engine.paths.runtime_root, row.id, opts)
