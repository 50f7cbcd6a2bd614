"""The healthcheck schedule: interval, and start_interval during the start period (moby's rule)."""

from __future__ import annotations

from dockyard.engine.monitor.policy import Healthcheck


def _check(**kw: float) -> Healthcheck:
    base: dict[str, float] = {"interval": 30.0, "timeout": 5.0, "start_period": 10.0}
    base.update(kw)
    return Healthcheck(command=("true",), retries=3, **base)


def test_start_interval_applies_while_starting_within_the_start_period() -> None:
    check = _check(start_interval=0.5)
    assert check.next_delay(0.0, "starting") == 0.5
    assert check.next_delay(9.9, "starting") == 0.5


def test_interval_after_the_start_period_or_once_healthy() -> None:
    check = _check(start_interval=0.5)
    assert check.next_delay(10.0, "starting") == 30.0
    assert check.next_delay(1.0, "healthy") == 30.0
    assert check.next_delay(1.0, "unhealthy") == 30.0


def test_without_start_interval_the_interval_is_kept() -> None:
    # Unlike moby's 5 s default: checks written before API 1.44 keep their timing.
    assert _check().next_delay(0.0, "starting") == 30.0


def test_start_interval_read_from_docker_config_in_nanoseconds() -> None:
    check = Healthcheck.from_config(
        {
            "Healthcheck": {
                "Test": ["CMD", "true"],
                "StartPeriod": 10**10,
                "StartInterval": 2 * 10**8,
            }
        }
    )
    assert check is not None
    assert check.start_interval == 0.2
    assert check.start_period == 10.0
