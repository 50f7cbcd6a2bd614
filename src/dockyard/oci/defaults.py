"""Values of moby's default container spec (`oci/defaults.go`) that more than one layer needs.

Containers (`engine/spec.py`) and build steps (`build/steps/run_spec.py`) both run as Docker
would run them, so they share these.
"""

from __future__ import annotations

from dockyard.oci.runtime_spec import DeviceCgroup

# The device cgroup rules of moby's default spec plus runc's always-allowed full, ptys and tun
# (the runtime creates /dev/full with the other default devices).
DEFAULT_DEVICE_RULES: tuple[DeviceCgroup, ...] = (
    {"allow": False, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},  # zero
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},  # null
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},  # urandom
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},  # random
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},  # full
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},  # tty
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},  # console
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},  # ptmx
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},  # /dev/pts/*
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},  # net/tun
    {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"},  # fuse
)
