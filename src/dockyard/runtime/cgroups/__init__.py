"""dockyard.runtime.cgroups: cgroup v1, v2 and hybrid management through cgroupfs."""

from dockyard.runtime.cgroups.layout import CgroupLayout, detect_layout
from dockyard.runtime.cgroups.manager import CgroupManager
from dockyard.runtime.cgroups.path import resolve_path
from dockyard.runtime.cgroups.plan import EitherOrder, Plan, Write
from dockyard.runtime.cgroups.stats import CgroupStats

__all__ = [
    "CgroupLayout",
    "CgroupManager",
    "CgroupStats",
    "EitherOrder",
    "Plan",
    "Write",
    "detect_layout",
    "resolve_path",
]
