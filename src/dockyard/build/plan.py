"""What a build will do, as data: the stages the target needs, in order, and every step.

Steps are numbered across those stages (FROM lines included) the way Docker prints them,
`Step 3/8 : RUN …`; nothing here touches the engine, so `--dry-run`-style listing is free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dockyard.build.dockerfile import Dockerfile, Instruction, StagePlan, plan_stages


@dataclass(frozen=True)
class PlannedStep:
    """One step: its number, the stage it belongs to, and the instruction as written."""

    number: int
    stage: int
    instruction: Instruction  # the FROM itself for a stage's first step

    @property
    def text(self) -> str:
        """The instruction's first line as printed after `Step N/M :`."""
        return self.instruction.to_source().split("\n", 1)[0]


@dataclass(frozen=True)
class BuildPlan:
    """The stages to build (dependencies first) and their steps."""

    stages: StagePlan
    order: tuple[int, ...]
    steps: tuple[PlannedStep, ...]

    @property
    def total(self) -> int:
        """How many steps the build prints."""
        return len(self.steps)

    def stage_steps(self, stage: int) -> tuple[PlannedStep, ...]:
        """The steps of one stage, its FROM first."""
        return tuple(s for s in self.steps if s.stage == stage)


def make_plan(
    dockerfile: Dockerfile, build_args: Mapping[str, str], target: str | None
) -> BuildPlan:
    """Plan a build; Dockerfile errors (unknown target, undefined stage) name their line."""
    stages = plan_stages(dockerfile, build_args, target)
    order = stages.required()
    steps: list[PlannedStep] = []
    for index in order:
        stage = stages.stages[index]
        for instr in (stage.from_, *stage.instructions):
            steps.append(PlannedStep(len(steps) + 1, index, instr))
    return BuildPlan(stages, order, tuple(steps))
