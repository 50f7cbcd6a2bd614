"""`--progress=tty`: the live build view drawn with rich on a terminal.

Only this module imports rich, and only the tty path imports this module (start-up time).
Events update a `ProgressModel` under a lock; rich's refresh thread renders it, so a RUN's
elapsed time ticks while it runs. Leaving the block stops the view with its final frame kept
on the screen (with the failed step and its output when the build raised).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO, TYPE_CHECKING

from dockyard.build.progress_view import ProgressModel, render

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live


class _View:
    """A rich renderable that draws the model as it is at refresh time."""

    def __init__(self, model: ProgressModel, lock: threading.Lock) -> None:
        self.model = model
        self.lock = lock

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        with self.lock:
            lines = render(self.model, self.model.clock(), options.max_width)
        for line in lines:
            yield Text(line.text, style=line.style, no_wrap=True, overflow="ellipsis")


class TtyProgress:
    """The `Progress` events drawn live on `out` (a terminal; colours and cursor moves)."""

    def __init__(self, out: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.model = ProgressModel()
        self.lock = threading.Lock()
        console = Console(file=out, force_terminal=True)
        self.live: Live = Live(
            _View(self.model, self.lock), console=console, refresh_per_second=8, transient=False
        )

    def __enter__(self) -> TtyProgress:
        self.live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            with self.lock:
                self.model.fail()
        self.live.stop()  # draws the final frame

    def step(self, number: int, total: int, text: str) -> None:
        with self.lock:
            self.model.step(number, total, text)

    def note(self, text: str) -> None:
        with self.lock:
            self.model.note(text)

    def cached(self) -> None:
        with self.lock:
            self.model.cached()

    def running(self, short_id: str) -> None:
        with self.lock:
            self.model.running(short_id)

    def output(self, chunk: bytes) -> None:
        with self.lock:
            self.model.output(chunk)

    def step_done(self, short_id: str) -> None:
        with self.lock:
            self.model.step_done(short_id)

    def built(self, image_id: str, tags: Sequence[str]) -> None:
        with self.lock:
            self.model.built(image_id, tags)
