"""Split a Dockerfile into build stages and resolve what each stage builds on.

Global ARGs (before the first FROM) are substituted into FROM lines; `FROM` and `COPY --from`
may name an earlier stage (by `AS` name or by index) or an image; `--target` picks a stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dockyard.build.dockerfile.errors import DockerfileError
from dockyard.build.dockerfile.expand import expand
from dockyard.build.dockerfile.instructions import Arg, Copy, From, Instruction, Run
from dockyard.build.dockerfile.mounts import MountError, parse_mount
from dockyard.build.dockerfile.parser import Dockerfile
from dockyard.build.dockerfile.scope import Scope, global_scope


@dataclass(frozen=True)
class CopyFrom:
    """Where the `COPY --from` at `instructions[index]` of a stage reads: a stage or an image."""

    index: int
    stage: int | None = None
    image: str | None = None


@dataclass(frozen=True)
class Stage:
    """One build stage: its FROM (with `base` substituted) and the instructions after it."""

    index: int
    name: str | None
    base: str
    base_stage: int | None
    platform: str | None
    from_: From
    instructions: tuple[Instruction, ...]
    copy_from: tuple[CopyFrom, ...] = ()

    @property
    def label(self) -> str:
        """How errors and progress name this stage."""
        return self.name if self.name is not None else f"#{self.index}"

    @property
    def depends_on(self) -> frozenset[int]:
        """The earlier stages this one needs: its base and every `COPY --from` stage."""
        deps = {c.stage for c in self.copy_from if c.stage is not None}
        if self.base_stage is not None:
            deps.add(self.base_stage)
        return frozenset(deps)


@dataclass(frozen=True)
class StagePlan:
    """The stages of a Dockerfile, the global ARG values, and the stage to build."""

    stages: tuple[Stage, ...]
    global_args: Mapping[str, str]
    target: int

    def required(self) -> tuple[int, ...]:
        """Indexes of the stages the target needs (itself included), dependencies first."""
        order: list[int] = []
        seen: set[int] = set()

        def visit(index: int) -> None:
            if index in seen:
                return
            seen.add(index)
            for dep in sorted(self.stages[index].depends_on):
                visit(dep)
            order.append(index)

        visit(self.target)
        return tuple(order)


def _base_ref(ref: str, current: int, names: dict[str, int]) -> int | None:
    """The earlier stage a FROM names (by name or index), or None for an image."""
    key = ref.lower()
    if key.isascii() and key.isdigit() and len(key) < 10 and int(key) < current:
        return int(key)
    index = names.get(key)
    return index if index is not None and index < current else None


def _copy_ref(ref: str, current: int, names: dict[str, int], count: int) -> int | str | None:
    """The stage a `COPY --from` names, None for an image, or an error message."""
    key = ref.lower()
    if key.isascii() and key.isdigit():
        index = int(key) if len(key) < 10 else count  # too long to be a stage index
        if index >= count:
            return f"there is no stage {index} (stages are numbered 0 to {count - 1})"
    elif key in names:
        index = names[key]
    else:
        return None
    if index == current:
        return "a stage cannot copy from itself; name an earlier stage"
    return index


def _check_cycles(stages: list[Stage], name: str) -> None:
    # BuildKit lets COPY --from name a later stage, so the stage graph may loop.
    state: dict[int, int] = {}  # 1: on the current path, 2: done

    def visit(stage: Stage) -> None:
        state[stage.index] = 1
        edges = [(c.stage, stage.instructions[c.index].start_line) for c in stage.copy_from]
        edges.append((stage.base_stage, stage.from_.start_line))
        for dep, line in edges:
            if dep is None:
                continue
            if state.get(dep) == 1:
                raise DockerfileError(
                    f"circular dependency: stage {stage.label} needs stage "
                    f"{stages[dep].label}, which needs it; break the cycle",
                    file=name,
                    line=line,
                )
            if dep not in state:
                visit(stages[dep])
        state[stage.index] = 2

    for stage in stages:
        if stage.index not in state:
            visit(stage)


def plan_stages(
    dockerfile: Dockerfile,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
) -> StagePlan:
    """Split `dockerfile` into stages; raises DockerfileError naming the offending line."""
    build_args = build_args or {}
    name, escape = dockerfile.name, dockerfile.escape
    head: list[Arg] = []
    groups: list[tuple[From, list[Instruction]]] = []
    for instr in dockerfile.instructions:
        if isinstance(instr, From):
            groups.append((instr, []))
        elif groups:
            groups[-1][1].append(instr)
        elif isinstance(instr, Arg):
            head.append(instr)
        else:
            raise DockerfileError(
                f"{instr.keyword} before the first FROM: only ARG may come before FROM",
                file=name,
                line=instr.start_line,
            )
    if not groups:
        raise DockerfileError(
            "no FROM instruction: a Dockerfile starts a stage with FROM", file=name
        )
    global_env = global_scope(head, build_args, escape, name)
    names: dict[str, int] = {}
    for i, (from_, _) in enumerate(groups):
        if from_.name is not None:
            if from_.name in names:
                raise DockerfileError(
                    f"duplicate stage name {from_.name!r}; give each stage its own name",
                    file=name,
                    line=from_.start_line,
                )
            names[from_.name] = i
    stages: list[Stage] = []
    for index, (from_, body) in enumerate(groups):
        resolved = expand(from_, global_env, escape=escape, name=name)
        assert isinstance(resolved, From)
        if resolved.image == "":
            raise DockerfileError(
                f"FROM {from_.image} is empty after substitution; give the ARG a value",
                file=name,
                line=from_.start_line,
            )
        base = _base_ref(resolved.image, index, names)
        copies: list[CopyFrom] = []
        scope = Scope(build_args, global_env, escape=escape, name=name)
        for position, instr in enumerate(body):
            variables = scope.variables
            resolved_instr, scope = scope.step(instr)
            if isinstance(resolved_instr, Copy) and resolved_instr.from_ is not None:
                refs = [("COPY --from", resolved_instr.from_)]
            elif isinstance(resolved_instr, Run):
                refs = [("RUN --mount=…,from", r) for r in _mount_froms(resolved_instr, variables)]
            else:
                continue
            for what, ref in refs:
                found = _copy_ref(ref, index, names, len(groups))
                if isinstance(found, str):
                    raise DockerfileError(
                        f"{what}={ref}: {found}", file=name, line=instr.start_line
                    )
                if found is None and not any(c in ref for c in ":/@"):
                    known = ", ".join(n for n in names) or "none are named"
                    raise DockerfileError(
                        f"{what}={ref}: undefined stage (stages: {known}); "
                        f"to use an image write {what.split()[-1]}={ref}:latest",
                        file=name,
                        line=instr.start_line,
                    )
                copies.append(CopyFrom(position, found, ref if found is None else None))
        stages.append(
            Stage(
                index=index,
                name=from_.name,
                base=resolved.image,
                base_stage=base,
                platform=resolved.platform,
                from_=from_,
                instructions=tuple(body),
                copy_from=tuple(copies),
            )
        )
    _check_cycles(stages, name)
    return StagePlan(tuple(stages), global_env, _target(stages, target, name))


def _mount_froms(run: Run, variables: Mapping[str, str]) -> list[str]:
    """The `from=` of RUN's bind mounts: stages it needs built first (BuildKit)."""
    froms: list[str] = []
    for spec in run.mounts:
        try:
            mount = parse_mount(spec, variables)
        except MountError:
            continue  # reported with its line when the step runs
        if mount.from_:
            froms.append(mount.from_)
    return froms


def _target(stages: list[Stage], target: str | None, name: str) -> int:
    if target is None:
        return len(stages) - 1
    for stage in stages:
        if stage.name is not None and stage.name == target.lower():
            return stage.index
    known = ", ".join(s.name for s in stages if s.name) or "none are named"
    raise DockerfileError(
        f"target stage {target!r} could not be found; stages: {known}; use FROM … AS {target}",
        file=name,
    )
