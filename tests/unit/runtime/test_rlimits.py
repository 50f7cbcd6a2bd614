"""Resource limit planning: validation and clamping to the hard limit we have (no root)."""

from __future__ import annotations

import resource

import pytest

from dockyard.oci.runtime_spec import Rlimit
from dockyard.runtime.errors import BadConfig
from dockyard.runtime.rlimits import RlimitSetting, plan_rlimits

UNLIMITED = 2**64 - 1
INF = resource.RLIM_INFINITY


def _rl(name: str, soft: int, hard: int) -> Rlimit:
    return {"type": name, "soft": soft, "hard": hard}


def _finite_hard() -> tuple[str, int, int]:
    """A limit whose hard value is finite here (RLIMIT_NOFILE always is on Linux)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard != INF
    return "RLIMIT_NOFILE", resource.RLIMIT_NOFILE, hard


def test_within_limits_is_kept() -> None:
    name, res, hard = _finite_hard()
    assert plan_rlimits([_rl(name, 64, hard)], can_raise=False) == [
        RlimitSetting(name, res, 64, hard, False)
    ]


def test_order_is_kept() -> None:
    plan = plan_rlimits([_rl("RLIMIT_CORE", 0, 0), _rl("RLIMIT_NOFILE", 8, 8)], can_raise=False)
    assert [(s.name, s.resource) for s in plan] == [
        ("RLIMIT_CORE", resource.RLIMIT_CORE),
        ("RLIMIT_NOFILE", resource.RLIMIT_NOFILE),
    ]


def test_hard_above_ours_is_clamped() -> None:
    name, res, hard = _finite_hard()
    [s] = plan_rlimits([_rl(name, 16, hard + 1000)], can_raise=False)
    assert s == RlimitSetting(name, res, 16, hard, True)


def test_soft_and_hard_above_ours_are_both_clamped() -> None:
    name, res, hard = _finite_hard()
    [s] = plan_rlimits([_rl(name, hard + 10, hard + 20)], can_raise=False)
    assert s == RlimitSetting(name, res, hard, hard, True)


def test_unlimited_is_clamped_to_a_finite_hard_limit() -> None:
    name, res, hard = _finite_hard()
    [s] = plan_rlimits([_rl(name, UNLIMITED, UNLIMITED)], can_raise=False)
    assert s == RlimitSetting(name, res, hard, hard, True)


def test_nothing_is_clamped_when_we_may_raise() -> None:
    name, res, hard = _finite_hard()
    [s] = plan_rlimits([_rl(name, hard + 10, hard + 20)], can_raise=True)
    assert s == RlimitSetting(name, res, hard + 10, hard + 20, False)


def test_unlimited_maps_to_rlim_infinity() -> None:
    [s] = plan_rlimits([_rl("RLIMIT_CORE", UNLIMITED, UNLIMITED)], can_raise=True)
    assert (s.soft, s.hard, s.clamped) == (INF, INF, False)
    [s] = plan_rlimits([_rl("RLIMIT_CORE", 2**63 - 1, UNLIMITED)], can_raise=True)
    assert s.soft == INF


def test_finite_soft_under_unlimited_hard() -> None:
    [s] = plan_rlimits([_rl("RLIMIT_CORE", 1024, UNLIMITED)], can_raise=True)
    assert (s.soft, s.hard) == (1024, INF)


@pytest.mark.parametrize(("soft", "hard"), [(10, 5), (UNLIMITED, 5)])
def test_soft_above_hard_is_an_error(soft: int, hard: int) -> None:
    with pytest.raises(BadConfig, match=r"rlimit RLIMIT_NOFILE: soft limit .* above the hard"):
        plan_rlimits([_rl("RLIMIT_NOFILE", soft, hard)], can_raise=True)


@pytest.mark.parametrize("name", ["RLIMIT_BOGUS", "NOFILE", "", "RLIM_INFINITY", "getrlimit"])
def test_unknown_type(name: str) -> None:
    with pytest.raises(BadConfig, match=f"unknown rlimit type {name!r}"):
        plan_rlimits([_rl(name, 1, 1)], can_raise=True)
