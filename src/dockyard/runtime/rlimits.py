"""Resource limits: runtime-spec `process.rlimits`, never above the caller's hard limit."""

from __future__ import annotations

import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.runtime.errors import BadConfig

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Rlimit


@dataclass(frozen=True)
class RlimitSetting:
    """One limit to set; `clamped` records that the request exceeded the hard limit we have."""

    name: str
    resource: int
    soft: int
    hard: int
    clamped: bool


def _as_limit(value: int) -> int:
    # The spec writes "unlimited" as 2^64-1; resource.RLIM_INFINITY is -1.
    return resource.RLIM_INFINITY if value >= 2**63 - 1 else value


def _le(a: int, b: int) -> bool:
    inf = resource.RLIM_INFINITY
    return b == inf or (a != inf and a <= b)


def plan_rlimits(rlimits: list[Rlimit], can_raise: bool) -> list[RlimitSetting]:
    """Each requested limit, clamped to the current hard limit unless we may raise it."""
    plan: list[RlimitSetting] = []
    for rl in rlimits:
        name = rl.get("type", "")
        res = getattr(resource, name, None)
        if not name.startswith("RLIMIT_") or not isinstance(res, int):
            raise BadConfig(f"unknown rlimit type {name!r}")
        soft, hard = _as_limit(rl["soft"]), _as_limit(rl["hard"])
        if not _le(soft, hard):
            raise BadConfig(f"rlimit {name}: soft limit {soft} is above the hard limit {hard}")
        clamped = False
        if not can_raise:
            _, cur_hard = resource.getrlimit(res)
            if not _le(hard, cur_hard):
                hard, clamped = cur_hard, True
            if not _le(soft, hard):
                soft, clamped = hard, True
        plan.append(RlimitSetting(name, res, soft, hard, clamped))
    return plan


def apply_rlimits(plan: list[RlimitSetting]) -> None:
    """Set every planned limit on the calling process."""
    for setting in plan:
        resource.setrlimit(setting.resource, (setting.soft, setting.hard))
