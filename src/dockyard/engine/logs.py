"""Container logs in Docker's json-file format, rotated (max-size times max-file) as Docker does.

Each line is `{"log": "...\\n", "stream": "stdout", "time": "2026-11-28T10:00:00.123456789Z"}`;
output without a newline is flushed as a partial line after 16 KiB, as Docker's log driver does.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PARTIAL = 16 * 1024


def now_rfc3339() -> str:
    """The current time with nanoseconds, as Docker writes it."""
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(secs, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z"


def parse_time(text: str) -> float:
    """An RFC 3339 timestamp (nanoseconds allowed) as seconds since the epoch."""
    base, _, frac = text.rstrip("Z").partition(".")
    when = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC)
    return when.timestamp() + (float("0." + frac) if frac else 0.0)


class LogWriter:
    """Appends a container's output to `path`, rotating into path.1 … path.(files-1)."""

    def __init__(self, path: Path, max_size: int = 10 * 1024 * 1024, max_files: int = 3) -> None:
        self.path = path
        self.max_size = max_size
        self.max_files = max(1, max_files)
        self._pending: dict[str, bytes] = {}
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self._size = os.fstat(self._fd).st_size

    def write(self, stream: str, data: bytes) -> None:
        """Record output; complete lines are written now, the rest when a newline comes."""
        buf = self._pending.get(stream, b"") + data
        while True:
            cut = buf.find(b"\n")
            if cut < 0:
                if len(buf) >= PARTIAL:
                    self._emit(stream, buf)
                    buf = b""
                break
            self._emit(stream, buf[: cut + 1])
            buf = buf[cut + 1 :]
        self._pending[stream] = buf

    def flush(self) -> None:
        """Write any partial lines (the container exited without a final newline)."""
        for stream, buf in self._pending.items():
            if buf:
                self._emit(stream, buf)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        os.close(self._fd)

    def _emit(self, stream: str, chunk: bytes) -> None:
        line = (
            json.dumps(
                {
                    "log": chunk.decode("utf-8", errors="replace"),
                    "stream": stream,
                    "time": now_rfc3339(),
                },
                ensure_ascii=False,
            ).encode()
            + b"\n"
        )
        if self.max_size > 0 and self._size + len(line) > self.max_size and self._size > 0:
            self._rotate()
        os.write(self._fd, line)
        self._size += len(line)

    def _rotate(self) -> None:
        os.close(self._fd)
        if self.max_files == 1:
            os.truncate(self.path, 0)
        else:
            for i in range(self.max_files - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{i}")
                newer = self.path if i == 1 else self.path.with_name(f"{self.path.name}.{i - 1}")
                if newer.exists():
                    os.replace(newer, older)
        self._fd = os.open(
            self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_TRUNC, 0o640
        )
        self._size = 0


@dataclass(frozen=True)
class LogEntry:
    """One line of a container's log."""

    stream: str
    text: str
    time: str


def log_files(path: Path, max_files: int = 10) -> list[Path]:
    """The log and its rotated files, oldest first."""
    files = [path.with_name(f"{path.name}.{i}") for i in range(max_files, 0, -1)]
    return [p for p in [*files, path] if p.exists()]


def read_entries(
    path: Path, since: float | None = None, until: float | None = None
) -> list[LogEntry]:
    """Every entry in the log files, oldest first, filtered by time."""
    entries: list[LogEntry] = []
    for file in log_files(path):
        with open(file, encoding="utf-8") as f:
            for line in f:
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash
                if since is not None or until is not None:
                    when = parse_time(doc["time"])
                    if (since is not None and when < since) or (until is not None and when > until):
                        continue
                entries.append(LogEntry(doc["stream"], doc["log"], doc["time"]))
    return entries


def follow(path: Path, start_size: int, alive: object) -> Iterator[LogEntry]:
    """Entries appended to `path` after `start_size`, until `alive()` is false and all is read."""
    assert callable(alive)
    position = start_size
    buf = b""
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size < position:  # rotated
            position = 0
        if size > position:
            with open(path, "rb") as f:
                f.seek(position)
                chunk = f.read()
            position += len(chunk)
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                doc = json.loads(line)
                yield LogEntry(doc["stream"], doc["log"], doc["time"])
            continue
        if not alive():
            return
        time.sleep(0.05)
