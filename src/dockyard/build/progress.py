"""What a build reports as it goes, and the plain (Docker classic) way of printing it.

The builder calls a `Progress` with events; `PlainProgress` prints them as `docker build`'s
classic output (`Step 3/8 : RUN …`, ` ---> Using cache`), `progress_tty.TtyProgress` draws a
live view on a terminal (`--progress=tty`), and no progress at all is `-q`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Protocol


class Progress(Protocol):
    """Events of one build, in order: per step `step`, then `cached` or `running` + `output`…,
    then `step_done`; `note` for anything else worth a line; `built` at the end."""

    def step(self, number: int, total: int, text: str) -> None: ...
    def note(self, text: str) -> None: ...
    def cached(self) -> None: ...
    def running(self, short_id: str) -> None: ...
    def output(self, chunk: bytes) -> None: ...
    def step_done(self, short_id: str) -> None: ...
    def built(self, image_id: str, tags: Sequence[str]) -> None: ...


class PlainProgress:
    """Docker's classic builder output, one line per event, RUN output streamed as is."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def step(self, number: int, total: int, text: str) -> None:
        self._line(f"Step {number}/{total} : {text}")

    def note(self, text: str) -> None:
        self._line(text)

    def cached(self) -> None:
        self._line(" ---> Using cache")

    def running(self, short_id: str) -> None:
        self._line(f" ---> Running in {short_id}")

    def output(self, chunk: bytes) -> None:
        self.out.write(chunk.decode("utf-8", "replace"))
        self.out.flush()

    def step_done(self, short_id: str) -> None:
        self._line(f" ---> {short_id}")

    def built(self, image_id: str, tags: Sequence[str]) -> None:
        self._line(f"Successfully built {image_id.removeprefix('sha256:')[:12]}")
        for tag in tags:
            self._line(f"Successfully tagged {tag_name(tag)}")


def tag_name(tag: str) -> str:
    """The tag as Docker prints it: as given, `:latest` added when it has none."""
    if "@" in tag or ":" in tag.rsplit("/", 1)[-1]:
        return tag
    return f"{tag}:latest"
