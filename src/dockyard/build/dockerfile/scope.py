"""The ARG and ENV variables in force at each point of a stage, as Docker scopes them.

A stage starts empty: a global ARG (before the first FROM) is visible inside a stage only once
re-declared there (`ARG NAME`). An ARG takes its `--build-arg` value, else its default, else
the global value; an ENV of the same name always wins over an ARG. ARG values reach RUN's
environment but not the image; ENV values are kept in the image config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dockyard.build.dockerfile.expand import expand
from dockyard.build.dockerfile.instructions import Arg, Env, Instruction


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Scope:
    """Variables visible at one point of a stage; `step` gives the scope after an instruction."""

    build_args: Mapping[str, str] = field(default_factory=_empty)
    global_args: Mapping[str, str] = field(default_factory=_empty)
    args: Mapping[str, str] = field(default_factory=_empty)
    env: Mapping[str, str] = field(default_factory=_empty)
    escape: str = "\\"
    name: str = "Dockerfile"

    @property
    def variables(self) -> dict[str, str]:
        """What `$NAME` means here: the stage's ARGs, overridden by its ENVs."""
        return {**self.args, **self.env}

    def step(self, instr: Instruction) -> tuple[Instruction, Scope]:
        """`instr` with variables substituted, and the scope after it (ARG and ENV change it)."""
        resolved = expand(instr, self.variables, escape=self.escape, name=self.name)
        if isinstance(resolved, Arg):
            args = dict(self.args)
            for pair in resolved.args:
                if pair.key in self.build_args:
                    args[pair.key] = self.build_args[pair.key]
                elif pair.value is not None:
                    args[pair.key] = pair.value
                elif pair.key in self.global_args:
                    args[pair.key] = self.global_args[pair.key]
                # else: declared without any value, the ARG stays unset (as BuildKit)
            return resolved, _replace(self, args=args)
        if isinstance(resolved, Env):
            env = dict(self.env)
            env.update((p.key, p.value or "") for p in resolved.pairs)
            return resolved, _replace(self, env=env)
        return resolved, self


def _replace(scope: Scope, **changes: Mapping[str, str]) -> Scope:
    fields = {
        "build_args": scope.build_args,
        "global_args": scope.global_args,
        "args": scope.args,
        "env": scope.env,
    }
    fields.update({k: MappingProxyType(dict(v)) for k, v in changes.items()})
    return Scope(**fields, escape=scope.escape, name=scope.name)


def global_scope(
    args: list[Arg] | tuple[Arg, ...],
    build_args: Mapping[str, str],
    escape: str = "\\",
    name: str = "Dockerfile",
) -> dict[str, str]:
    """The values of the global ARGs (those before the first FROM), for FROM lines."""
    scope = Scope(build_args=build_args, escape=escape, name=name)
    for arg in args:
        scope = scope.step(arg)[1]
    return dict(scope.args)
