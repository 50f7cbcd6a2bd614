"""Plan for the hybrid layout: v1 controllers, plus a cgroup2 mount that may hold a few others.

Every controller mounted on v1 is driven through v1 (as runc does); a controller that only the
cgroup2 mount offers (e.g. hugetlb on some kernels) is driven through v2 files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockyard.errors import Unavailable
from dockyard.runtime.cgroups.plan import EitherOrder, Plan, Step
from dockyard.runtime.cgroups.v1 import plan_v1
from dockyard.runtime.cgroups.v2 import plan_v2

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import CPU, Resources


# v1 controller name → the v2 controller that does its job.
V2_NAME = {"blkio": "io"}


def step_controller(step: Step) -> str:
    """The controller whose hierarchy a step writes to."""
    return step.first.controller if isinstance(step, EitherOrder) else step.controller


def plan_hybrid(
    resources: Resources | None,
    *,
    v1_controllers: frozenset[str],
    v2_controllers: frozenset[str],
    swap_accounting: bool,
) -> Plan:
    """v1 writes for controllers mounted on v1, v2 writes for those only the cgroup2 mount has."""
    v1_plan = plan_v1(resources, swap_accounting=swap_accounting)
    missing = {step_controller(s) for s in v1_plan} - v1_controllers
    if not missing or resources is None:
        return v1_plan
    unserved = sorted(
        c for c in missing if c == "devices" or V2_NAME.get(c, c) not in v2_controllers
    )
    if unserved:
        raise Unavailable(
            f"cgroup controller(s) {', '.join(unserved)} are not available on this host; "
            "remove the matching linux.resources settings"
        )
    v2_plan = plan_v2(_subset(resources, missing), swap_accounting=False)
    wanted = {V2_NAME.get(c, c) for c in missing}
    kept = tuple(s for s in v1_plan if step_controller(s) not in missing)
    return kept + tuple(s for s in v2_plan if step_controller(s) in wanted)


def _subset(resources: Resources, controllers: set[str]) -> Resources:
    """Only the spec fields that the given v1 controllers would have handled."""
    out: Resources = {}
    if "hugetlb" in controllers and "hugepageLimits" in resources:
        out["hugepageLimits"] = resources["hugepageLimits"]
    if "pids" in controllers and "pids" in resources:
        out["pids"] = resources["pids"]
    if "memory" in controllers and "memory" in resources:
        out["memory"] = resources["memory"]
    if "blkio" in controllers and "blockIO" in resources:
        out["blockIO"] = resources["blockIO"]
    empty: CPU = {}
    cpu = resources.get("cpu", empty)
    picked: CPU = {}
    for key, value in cpu.items():
        is_cpuset = key in ("cpus", "mems")
        if ("cpuset" in controllers and is_cpuset) or ("cpu" in controllers and not is_cpuset):
            picked[key] = value  # type: ignore[literal-required]
    if picked:
        out["cpu"] = picked
    return out
