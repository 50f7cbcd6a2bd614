"""Instructions that change only the image config (ENV, CMD, WORKDIR, …): a pure function."""

from __future__ import annotations

import copy
import posixpath
from typing import Any

from dockyard.build.dockerfile import (
    Arg,
    Cmd,
    CommandLine,
    Entrypoint,
    Env,
    Expose,
    Healthcheck,
    Instruction,
    Label,
    Maintainer,
    Onbuild,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from dockyard.build.steps.state import ImageState

CONFIG_ONLY = (
    Arg, Cmd, Entrypoint, Env, Expose, Healthcheck, Label, Maintainer, Onbuild, Shell,
    StopSignal, User, Volume, Workdir,
)  # fmt: skip


def is_config_only(instr: Instruction) -> bool:
    """Whether the instruction changes the config only (no layer)."""
    return isinstance(instr, CONFIG_ONLY)


def command_args(command: CommandLine, shell: tuple[str, ...]) -> list[str]:
    """A CMD/ENTRYPOINT/RUN command line as argv: shell form runs under the stage's SHELL."""
    if command.shell_form:
        return [*shell, " ".join(command.args)]
    return list(command.args)


def set_env(env: list[str], key: str, value: str) -> list[str]:
    """`env` (KEY=VALUE entries) with `key` set, keeping its position when already there."""
    out = [e for e in env]
    for i, entry in enumerate(out):
        if entry.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    return [*out, f"{key}={value}"]


def resolve_workdir(current: str, path: str) -> str:
    """WORKDIR `path` relative to the current one, cleaned (Docker: relative to the last)."""
    joined = posixpath.join(current or "/", path)
    return posixpath.normpath(joined) if joined != "/" else "/"


def _port(text: str) -> str:
    return text if "/" in text else f"{text}/tcp"


def apply_config(instr: Instruction, state: ImageState) -> ImageState:
    """The state after the substituted config-only instruction `instr` (history not added)."""
    config: dict[str, Any] = copy.deepcopy(state.config)
    changes: dict[str, Any] = {}
    match instr:
        case Env(pairs=pairs):
            env = list(config.get("Env") or [])
            for pair in pairs:
                env = set_env(env, pair.key, pair.value or "")
            config["Env"] = env
        case Label(pairs=pairs):
            config["Labels"] = {**(config.get("Labels") or {}),
                                **{p.key: p.value or "" for p in pairs}}  # fmt: skip
        case Cmd(command=command):
            config["Cmd"] = command_args(command, state.shell)
            changes["cmd_set"] = True
        case Entrypoint(command=command):
            config["Entrypoint"] = command_args(command, state.shell)
            if not state.cmd_set:
                # Docker: an ENTRYPOINT resets a CMD inherited from the base image.
                config["Cmd"] = None
        case Shell(args=args):
            config["Shell"] = list(args)
            changes["shell"] = tuple(args)
        case Workdir(path=path):
            config["WorkingDir"] = resolve_workdir(config.get("WorkingDir") or "/", path)
        case User(user=user):
            config["User"] = user
        case Expose(ports=ports):
            exposed = dict(config.get("ExposedPorts") or {})
            exposed.update({_port(p): {} for p in ports})
            config["ExposedPorts"] = dict(sorted(exposed.items()))
        case Volume(paths=paths):
            volumes = dict(config.get("Volumes") or {})
            volumes.update({p: {} for p in paths})
            config["Volumes"] = dict(sorted(volumes.items()))
        case StopSignal(signal=sig):
            config["StopSignal"] = sig
        case Healthcheck():
            config["Healthcheck"] = _healthcheck(instr, state.shell)
        case Onbuild(instruction=trigger):
            config["OnBuild"] = [*(config.get("OnBuild") or []), trigger.to_source().rstrip()]
        case Maintainer() | Arg():
            pass
        case _:
            raise TypeError(f"{instr.keyword} is not a config-only instruction")
    return state.with_config(config, **changes)


def _healthcheck(instr: Healthcheck, shell: tuple[str, ...]) -> dict[str, Any]:
    if instr.command is None:
        return {"Test": ["NONE"]}
    if instr.command.shell_form:
        test = ["CMD-SHELL", " ".join(instr.command.args)]
    else:
        test = ["CMD", *instr.command.args]
    doc: dict[str, Any] = {"Test": test}
    for key, value in (
        ("Interval", instr.interval),
        ("Timeout", instr.timeout),
        ("StartPeriod", instr.start_period),
        ("StartInterval", instr.start_interval),
        ("Retries", instr.retries),
    ):
        if value is not None:
            doc[key] = value
    return doc


def created_by(instr: Instruction) -> str:
    """The history `created_by` of a step, as BuildKit writes it."""
    text = instr.to_source().rstrip("\n")
    if isinstance(instr, CONFIG_ONLY):
        return f"{text} # buildkit"
    return text
