"""What compose prints while it works: one status line per resource (`✔ Container app-web-1
Started`), live on a terminal (rich) and plain otherwise, and service logs prefixed `web-1  | `.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.live import Live

# Compose's rotation of prefix colours (ANSI SGR codes), one per service.
COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


@dataclass(frozen=True)
class Event:
    """A resource changed state: `kind` is Container/Network/Volume/Image."""

    kind: str
    name: str
    status: str
    done: bool = True
    error: bool = False


class Progress(Protocol):
    """Receives events from the executor (from several threads at once)."""

    def event(self, event: Event) -> None: ...

    def close(self) -> None: ...


def _mark(event: Event) -> str:
    return "✘" if event.error else "✔" if event.done else "⠿"


class PlainProgress:
    """A line per finished step, for logs and pipes."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.lock = threading.Lock()

    def event(self, event: Event) -> None:
        if not event.done and not event.error:
            return
        with self.lock:
            self.out.write(f" {_mark(event)} {event.kind} {event.name}  {event.status}\n")
            self.out.flush()

    def close(self) -> None:
        pass


class LiveProgress:
    """Compose's live list on a terminal: one row per resource, updated in place."""

    def __init__(self, out: IO[str]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.rows: dict[tuple[str, str], Event] = {}
        self.lock = threading.Lock()
        self.live: Live = Live(console=Console(file=out), refresh_per_second=10, transient=False)
        self.live.start()

    def _render(self) -> object:
        from rich.table import Table

        table = Table.grid(padding=(0, 1))
        for event in self.rows.values():
            style = "red" if event.error else "green" if event.done else "blue"
            table.add_row(
                f"[{style}]{_mark(event)}[/]",
                f"{event.kind} {event.name}",
                f"[{style}]{event.status}[/]",
            )
        return table

    def event(self, event: Event) -> None:
        with self.lock:
            self.rows[(event.kind, event.name)] = event
            self.live.update(self._render())  # type: ignore[arg-type]

    def close(self) -> None:
        with self.lock:
            self.live.update(self._render())  # type: ignore[arg-type]
            self.live.stop()


class QuietProgress:
    """Prints nothing (`-q`, `--dry-run` callers that print the plan themselves)."""

    def event(self, event: Event) -> None:
        pass

    def close(self) -> None:
        pass


def progress_for(out: IO[str], *, quiet: bool = False) -> Progress:
    """Live on a terminal, plain lines otherwise."""
    if quiet:
        return QuietProgress()
    if out.isatty():
        return LiveProgress(out)
    return PlainProgress(out)


class LogPrinter:
    """Writes container output prefixed by its container's short name, coloured per service."""

    def __init__(self, out: IO[str], *, colour: bool, width: int = 0) -> None:
        self.out = out
        self.colour = colour
        self.width = width
        self.lock = threading.Lock()
        self.colours: dict[str, str] = {}

    def prefix(self, service: str, name: str) -> str:
        text = f"{name:<{self.width}}  | "
        if not self.colour:
            return text
        code = self.colours.setdefault(service, COLOURS[len(self.colours) % len(COLOURS)])
        return f"\x1b[{code}m{text}\x1b[0m"

    def line(self, service: str, name: str, text: str, stamp: str = "") -> None:
        body = f"{stamp} {text}" if stamp else text
        if not body.endswith("\n"):
            body += "\n"
        with self.lock:
            self.out.write(self.prefix(service, name) + body)
            self.out.flush()

    def message(self, text: str) -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()


def short_name(project: str, name: str) -> str:
    """`app-web-1` → `web-1` in log prefixes, as Compose shows them."""
    return name.removeprefix(f"{project}-")
