"""The live build view's model and its rendering to lines, as pure code (no terminal, no rich).

`ProgressModel` takes the builder's `Progress` events with times from an injected clock and
keeps each started step: number, instruction, state (running, cached, done, error), start and
end, and the tail of a RUN's output. `render` turns it into styled lines, as buildx's tty view:

    [+] Building 2.4s (3/5)
     => [1/5] FROM busybox                                        0.0s
     => CACHED [2/5] COPY app/ /app/                              0.0s
     => [3/5] RUN make                                            2.1s
     => => # cc -o app main.c
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from dockyard.build.progress import tag_name

TAIL_LINES = 6


class StepState(Enum):
    """Where a step is."""

    RUNNING = "running"
    CACHED = "cached"
    DONE = "done"
    ERROR = "error"


@dataclass
class StepView:
    """One started step as the view shows it."""

    number: int
    total: int
    text: str
    started: float
    state: StepState = StepState.RUNNING
    finished: float | None = None
    tail: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=TAIL_LINES)
    )
    partial: str = ""  # output after the last newline

    def elapsed(self, now: float) -> float:
        """Seconds the step took, or has taken so far."""
        return (self.finished if self.finished is not None else now) - self.started


@dataclass(frozen=True)
class Line:
    """One rendered line and its style (a rich style name, "" for none)."""

    text: str
    style: str = ""


@dataclass
class ProgressModel:
    """The build so far; implements the `Progress` events."""

    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    steps: list[StepView] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    image_id: str = ""
    tags: tuple[str, ...] = ()
    finished: float | None = None
    failed: bool = False

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def current(self) -> StepView | None:
        """The step being worked on, if any."""
        if self.steps and self.steps[-1].state is StepState.RUNNING:
            return self.steps[-1]
        return None

    def _end_current(self, state: StepState) -> None:
        step = self.current
        if step is not None:
            step.state = state
            step.finished = self.clock()

    def step(self, number: int, total: int, text: str) -> None:
        self._end_current(StepState.DONE)
        self.steps.append(StepView(number, total, text, self.clock()))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def cached(self) -> None:
        step = self.current
        if step is not None:
            step.state = StepState.CACHED
            step.finished = self.clock()
        elif self.steps:  # a cached step of ONBUILD triggers under the FROM
            self.steps[-1].state = StepState.CACHED

    def running(self, short_id: str) -> None:
        step = self.steps[-1] if self.steps else None
        if step is not None and step.state is not StepState.RUNNING:
            step.state, step.finished = StepState.RUNNING, None

    def output(self, chunk: bytes) -> None:
        step = self.current
        if step is None:
            return
        text = step.partial + chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        *lines, step.partial = text.split("\n")
        for line in lines:
            step.tail.append(line.rsplit("\r", 1)[-1])

    def step_done(self, short_id: str) -> None:
        step = self.steps[-1] if self.steps else None
        if step is None:
            return
        if step.state is StepState.RUNNING:
            step.state = StepState.DONE
            step.finished = self.clock()
        elif step.finished is None:
            step.finished = self.clock()

    def built(self, image_id: str, tags: Sequence[str]) -> None:
        self._end_current(StepState.DONE)
        self.image_id, self.tags = image_id, tuple(tags)
        self.finished = self.clock()

    def fail(self) -> None:
        """The build stopped with an error: the current step is marked, its output kept."""
        self._end_current(StepState.ERROR)
        self.failed = True
        self.finished = self.clock()


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render(model: ProgressModel, now: float, width: int = 80) -> list[Line]:
    """The view as lines no wider than `width`."""
    end = model.finished if model.finished is not None else now
    total = model.steps[-1].total if model.steps else 0
    done = sum(1 for s in model.steps if s.state in (StepState.DONE, StepState.CACHED))
    status = " ERROR" if model.failed else " FINISHED" if model.image_id else ""
    header = f"[+] Building {end - model.started:.1f}s ({done}/{total}){status}"
    lines = [Line(_fit(header, width), "bold red" if model.failed else "bold")]
    for step in model.steps:
        prefix = {StepState.CACHED: "CACHED ", StepState.ERROR: "ERROR "}.get(step.state, "")
        label = f" => {prefix}[{step.number}/{step.total}] {step.text.splitlines()[0]}"
        seconds = f"{step.elapsed(now):.1f}s"
        room = max(width - len(seconds) - 1, 10)
        label = _fit(label, room)
        style = {
            StepState.RUNNING: "blue",
            StepState.CACHED: "cyan",
            StepState.DONE: "green",
            StepState.ERROR: "red",
        }[step.state]
        lines.append(Line(f"{label:<{room}} {seconds}", style))
        if step.state in (StepState.RUNNING, StepState.ERROR):
            tail = [*step.tail, *([step.partial] if step.partial else [])][-TAIL_LINES:]
            lines.extend(Line(_fit(f" => => # {t}", width), "dim") for t in tail)
    lines.extend(Line(_fit(f" => {note}", width), "dim") for note in model.notes[-2:])
    if model.image_id:
        lines.append(Line(_fit(f" => writing image {model.image_id}", width), "green"))
        lines.extend(
            Line(_fit(f" => => naming to {tag_name(t)}", width), "green") for t in model.tags
        )
    return lines
