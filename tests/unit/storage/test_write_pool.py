"""WritePool: jobs keyed by path, waited for on demand, bounded memory, errors surface."""

from __future__ import annotations

import threading

import pytest

from dockyard.storage.write_pool import WritePool


def test_inline_pool_runs_jobs_at_once() -> None:
    done: list[str] = []
    pool = WritePool(workers=1)
    pool.submit("a", lambda: done.append("a"), 10)
    assert done == ["a"]
    pool.wait("a")
    pool.close()


def test_wait_blocks_until_the_job_of_that_key_ran() -> None:
    gate = threading.Event()
    done: list[str] = []

    def slow() -> None:
        gate.wait(5)
        done.append("slow")

    pool = WritePool(workers=4)
    pool.submit("slow", slow, 1)
    pool.submit("fast", lambda: done.append("fast"), 1)
    pool.wait("fast")
    assert done == ["fast"]
    gate.set()
    pool.wait("slow")
    assert done == ["fast", "slow"]
    pool.wait("never-submitted")
    pool.close()


def test_memory_bound_waits_for_the_oldest_jobs() -> None:
    running = threading.Semaphore(0)
    gate = threading.Event()

    def job() -> None:
        running.release()
        gate.wait(5)

    pool = WritePool(workers=4, max_in_flight=100)
    pool.submit("a", job, 60)
    assert running.acquire(timeout=5)
    t = threading.Thread(target=pool.submit, args=("b", job, 60))
    t.start()
    t.join(0.2)
    assert t.is_alive()  # 120 bytes would exceed the bound: waits for "a"
    gate.set()
    t.join(5)
    assert not t.is_alive()
    pool.wait_all()
    pool.close()


def test_job_errors_surface_on_wait() -> None:
    def boom() -> None:
        raise OSError(28, "No space left on device")

    pool = WritePool(workers=2)
    pool.submit("x", boom, 1)
    with pytest.raises(OSError, match="No space"):
        pool.wait_all()
    pool.submit("y", boom, 1)
    pool.close()  # a failing caller closes without seeing more errors
