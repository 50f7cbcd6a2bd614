"""Write new files on worker threads while the unpacker reads on.

Creating a file is a few system calls of mostly waiting on the file system journal, which
releases the GIL: on a disk, two to four writers create small files about twice as fast as
one. The unpacker hands over only files that no earlier entry touched and keeps every other
decision (replacements, hardlinks, directories) on its own thread, waiting for the jobs a
decision depends on.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from dockyard.storage.layers import DEFAULT_WORKERS

MAX_IN_FLIGHT = 64 << 20  # bytes of file data held in memory for pending jobs


class WritePool:
    """Runs jobs keyed by path; `workers` <= 1 runs each job at once on the caller's thread."""

    def __init__(self, workers: int = DEFAULT_WORKERS, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self._pool = ThreadPoolExecutor(workers, "layer-writer") if workers > 1 else None
        self._pending: OrderedDict[str, tuple[Future[None], int]] = OrderedDict()
        self._in_flight = 0
        self._max = max_in_flight

    def submit(self, key: str, job: Callable[[], None], nbytes: int) -> None:
        """Run `job` (which writes `nbytes` held in memory) for the path `key`."""
        if self._pool is None:
            job()
            return
        while self._pending and self._in_flight + nbytes > self._max:
            self.wait(next(iter(self._pending)))
        self._pending[key] = (self._pool.submit(job), nbytes)
        self._in_flight += nbytes

    def wait(self, key: str) -> None:
        """Wait for the job of `key`, if any; raises what the job raised."""
        entry = self._pending.pop(key, None)
        if entry is not None:
            future, nbytes = entry
            self._in_flight -= nbytes
            future.result()

    def wait_all(self) -> None:
        """Wait for every pending job; raises the first failure."""
        while self._pending:
            self.wait(next(iter(self._pending)))

    def close(self) -> None:
        """Wait for the workers to stop (jobs' errors are dropped: the caller is failing)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
        self._in_flight = 0
