"""A cgroup plan: the ordered file writes that apply runtime-spec `linux.resources`.

Planners (`v1.plan_v1`, `v2.plan_v2`) are pure; `apply.apply_plan` writes the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import BlockIO, ThrottleDevice


@dataclass(frozen=True)
class Write:
    """Write `value` to the file `file` of the container's cgroup in `controller`'s hierarchy."""

    controller: str
    file: str
    value: str


@dataclass(frozen=True)
class EitherOrder:
    """Two writes the kernel accepts in only one order, depending on the current values.

    The executor writes `first` then `second`; if `first` fails with EINVAL it writes `second`
    and then `first` (runc does this for memory/memsw limits and cfs period/quota).
    """

    first: Write
    second: Write


Step = Write | EitherOrder
Plan = tuple[Step, ...]

_PAGE_SIZE = re.compile(r"^[0-9]+[KMGT]B$")


def flatten(plan: Plan) -> list[tuple[str, str, str]]:
    """The plan's writes in their default order as (controller, file, value) triples."""
    out: list[tuple[str, str, str]] = []
    for step in plan:
        writes = (step.first, step.second) if isinstance(step, EitherOrder) else (step,)
        out.extend((w.controller, w.file, w.value) for w in writes)
    return out


def limit_str(value: int) -> str:
    """A limit as cgroup files take it: -1 (or any negative) means unlimited ("max")."""
    return "max" if value < 0 else str(value)


def check_page_size(page_size: str) -> str:
    """Validate a hugepage size ("2MB"); it becomes part of a file name, so it must be tame."""
    if not _PAGE_SIZE.match(page_size):
        raise InvalidArgument(
            f"hugepage size {page_size!r} is malformed; use a size such as '2MB' or '1GB'"
        )
    return page_size


def check_int(value: object, field: str) -> int:
    """Return `value` if it is a JSON integer, else raise naming the runtime-spec field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"linux.resources.{field} must be an integer, got {value!r}")
    return value


def throttle_lists(block_io: BlockIO) -> list[tuple[str, list[ThrottleDevice]]]:
    """The four throttle lists keyed "read_bps", "write_bps", "read_iops", "write_iops"."""
    return [
        ("read_bps", block_io.get("throttleReadBpsDevice", [])),
        ("write_bps", block_io.get("throttleWriteBpsDevice", [])),
        ("read_iops", block_io.get("throttleReadIOPSDevice", [])),
        ("write_iops", block_io.get("throttleWriteIOPSDevice", [])),
    ]
