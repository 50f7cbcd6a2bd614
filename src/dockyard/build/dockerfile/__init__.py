"""The Dockerfile front end: parse text into typed instructions, split stages, substitute."""

from dockyard.build.dockerfile.errors import DockerfileError
from dockyard.build.dockerfile.expand import expand
from dockyard.build.dockerfile.heredocs import file_sources
from dockyard.build.dockerfile.instructions import (
    Add,
    Arg,
    Cmd,
    CommandLine,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Heredoc,
    Instruction,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from dockyard.build.dockerfile.mounts import MountError, RunMount, parse_mount
from dockyard.build.dockerfile.parser import Dockerfile, parse, parse_file
from dockyard.build.dockerfile.scope import Scope, global_scope
from dockyard.build.dockerfile.stages import CopyFrom, Stage, StagePlan, plan_stages

__all__ = [
    "Add",
    "Arg",
    "Cmd",
    "CommandLine",
    "Copy",
    "CopyFrom",
    "Dockerfile",
    "DockerfileError",
    "Entrypoint",
    "Env",
    "Expose",
    "From",
    "Healthcheck",
    "Heredoc",
    "Instruction",
    "KeyValue",
    "Label",
    "Maintainer",
    "MountError",
    "Onbuild",
    "Run",
    "RunMount",
    "Scope",
    "Shell",
    "Stage",
    "StagePlan",
    "StopSignal",
    "User",
    "Volume",
    "Workdir",
    "expand",
    "file_sources",
    "global_scope",
    "parse",
    "parse_file",
    "parse_mount",
    "plan_stages",
]
