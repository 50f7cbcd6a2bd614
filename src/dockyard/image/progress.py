"""Progress of image transfers (pull, push, load) as `docker pull` shows it.

The transfer code reports events to a `Progress`; which one it gets is the CLI's choice: a rich
live display with a bar per layer (bytes, speed) on a terminal, Docker's plain status lines when
output is not a terminal, or nothing (`-q`). Reporters are called from worker threads.
"""

from __future__ import annotations

import enum
import threading
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.progress import Progress as RichBars
    from rich.progress import TaskID


class Status(enum.Enum):
    """Docker's per-layer status words."""

    PULLING = "Pulling fs layer"
    WAITING = "Waiting"
    DOWNLOADING = "Downloading"
    VERIFYING = "Verifying Checksum"
    DOWNLOADED = "Download complete"
    EXTRACTING = "Extracting"
    PULLED = "Pull complete"
    EXISTS = "Already exists"
    PREPARING = "Preparing"
    PUSHING = "Pushing"
    PUSHED = "Pushed"
    MOUNTED = "Mounted from"
    LAYER_EXISTS = "Layer already exists"
    LOADING = "Loading layer"
    LOADED = "Loaded"


# Statuses that the plain (non-terminal) output prints; the others only move bars.
_PLAIN = frozenset(Status) - {Status.DOWNLOADING, Status.EXTRACTING, Status.PUSHING}


class Progress(Protocol):
    """Receives transfer events; `key` is a layer's short id (12 hex digits of its digest)."""

    def message(self, text: str) -> None: ...
    def layer(self, key: str, status: Status, detail: str = "") -> None: ...
    def advance(self, key: str, done: int, total: int) -> None: ...
    def close(self) -> None: ...


def short_id(digest: str) -> str:
    """The 12 hex digits Docker shows for a layer or image digest."""
    return digest.split(":", 1)[-1][:12]


class QuietProgress:
    """Reports nothing (`-q`)."""

    def message(self, text: str) -> None:
        pass

    def layer(self, key: str, status: Status, detail: str = "") -> None:
        pass

    def advance(self, key: str, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class PlainProgress:
    """Docker's output when stdout is not a terminal: one line per status change."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def message(self, text: str) -> None:
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()

    def layer(self, key: str, status: Status, detail: str = "") -> None:
        if status in _PLAIN:
            text = f"{status.value} {detail}" if detail else status.value
            self.message(f"{key}: {text}")

    def advance(self, key: str, done: int, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """A live display on a terminal: one row per layer with its status, bar, bytes and speed."""

    def __init__(self, out: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._bars: RichBars = Progress(
            TextColumn("{task.fields[key]}: {task.description:<18}"),
            BarColumn(bar_width=40),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(file=out),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._bars.start()

    def _task(self, key: str) -> TaskID:
        with self._lock:
            if key not in self._tasks:
                self._tasks[key] = self._bars.add_task("", key=key, total=None)
            return self._tasks[key]

    def message(self, text: str) -> None:
        self._bars.console.print(text, highlight=False, markup=False)

    def layer(self, key: str, status: Status, detail: str = "") -> None:
        task = self._task(key)
        text = f"{status.value} {detail}" if detail else status.value
        if status in (Status.PULLED, Status.EXISTS, Status.PUSHED, Status.LAYER_EXISTS):
            self._bars.update(task, description=text, refresh=True)
            self._bars.stop_task(task)
        else:
            self._bars.update(task, description=text)

    def advance(self, key: str, done: int, total: int) -> None:
        self._bars.update(self._task(key), completed=done, total=total)

    def close(self) -> None:
        self._bars.stop()


def progress_for(out: IO[str], *, quiet: bool = False) -> Progress:
    """The reporter Docker would use for `out`: rich on a terminal, plain lines otherwise."""
    if quiet:
        return QuietProgress()
    if out.isatty():
        return RichProgress(out)
    return PlainProgress(out)
