"""The executor: applies a cgroup plan's writes, in order, to the container's directories."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from dockyard.errors import Unavailable
from dockyard.runtime.cgroups.fs import translate, write_raw
from dockyard.runtime.cgroups.plan import EitherOrder, Plan, Write

DirFor = Callable[[str], str | None]


def _path(write: Write, dir_for: DirFor) -> str:
    directory = dir_for(write.controller)
    if directory is None:
        raise Unavailable(
            f"cgroup controller {write.controller} is not mounted; "
            f"remove the setting that writes {write.file}"
        )
    return os.path.join(directory, write.file)


def _write(write: Write, dir_for: DirFor) -> None:
    path = _path(write, dir_for)
    try:
        write_raw(path, write.value)
    except OSError as e:
        raise translate(e, path, write.value) from e


def apply_plan(plan: Plan, dir_for: DirFor) -> None:
    """Write every step; `dir_for(controller)` gives that controller's cgroup directory."""
    for step in plan:
        if not isinstance(step, EitherOrder):
            _write(step, dir_for)
            continue
        path = _path(step.first, dir_for)
        try:
            write_raw(path, step.first.value)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise translate(e, path, step.first.value) from e
            # The current values forbid this order (e.g. a new limit above the old memsw).
            _write(step.second, dir_for)
            _write(step.first, dir_for)
        else:
            _write(step.second, dir_for)
