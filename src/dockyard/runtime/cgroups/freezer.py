"""Freezing and thawing a cgroup: v1 freezer.state, v2 cgroup.freeze; both wait until done."""

from __future__ import annotations

import errno
import os
import time

from dockyard.errors import KernelError
from dockyard.runtime.cgroups.fs import read_text, write_file
from dockyard.runtime.cgroups.stats import flat_keyed

DEFAULT_TIMEOUT = 5.0


def _pause(path: str, current: str, deadline: float, delay: float) -> float:
    """Sleep before the next poll, or raise once the deadline has passed; returns next delay."""
    if time.monotonic() > deadline:
        raise KernelError("freeze", path, errno.ETIMEDOUT, detail=f"state is {current!r}")
    time.sleep(delay)
    return min(delay * 2, 0.05)


def set_v1_state(directory: str, state: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Write FROZEN or THAWED to freezer.state and wait until the kernel reports it."""
    path = os.path.join(directory, "freezer.state")
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        # Re-writing FROZEN while FREEZING makes the kernel retry tasks that were busy
        # (runc does the same loop).
        write_file(path, state)
        current = (read_text(path) or "").strip()
        if current == state:
            return
        delay = _pause(path, current, deadline, delay)


def set_v2_frozen(directory: str, frozen: bool, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Write cgroup.freeze and wait until cgroup.events reports the same "frozen" value."""
    write_file(os.path.join(directory, "cgroup.freeze"), "1" if frozen else "0")
    events = os.path.join(directory, "cgroup.events")
    want = 1 if frozen else 0
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        current = flat_keyed(read_text(events) or "").get("frozen", want)
        if current == want:
            return
        delay = _pause(events, f"frozen {current}", deadline, delay)
