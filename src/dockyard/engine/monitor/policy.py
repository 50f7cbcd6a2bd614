"""Restart policies and healthcheck bookkeeping (pure, as Docker defines them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Docker: the delay starts at 100 ms and doubles after each restart; it resets once a container
# has run for 10 s; it is capped at one minute.
BACKOFF_START = 0.1
BACKOFF_MAX = 60.0
BACKOFF_RESET_AFTER = 10.0

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
HEALTH_LOG_ENTRIES = 5


@dataclass(frozen=True)
class RestartPolicy:
    """`no`, `always`, `unless-stopped` or `on-failure` with a retry limit (0: no limit)."""

    name: str = "no"
    max_retries: int = 0

    @classmethod
    def from_host_config(cls, host_config: dict[str, Any]) -> RestartPolicy:
        policy = host_config.get("RestartPolicy") or {}
        return cls(policy.get("Name") or "no", int(policy.get("MaximumRetryCount") or 0))


def should_restart(
    policy: RestartPolicy, exit_code: int, restart_count: int, manually_stopped: bool
) -> bool:
    """Whether the monitor brings the container back after it exited with `exit_code`."""
    if manually_stopped or policy.name in ("", "no"):
        return False
    if policy.name in ("always", "unless-stopped"):
        return True
    if policy.name == "on-failure":
        return exit_code != 0 and (policy.max_retries == 0 or restart_count < policy.max_retries)
    return False


def restart_delay(previous_delay: float, ran_for: float) -> float:
    """The next back-off delay given the last one and how long the container ran."""
    if ran_for >= BACKOFF_RESET_AFTER or previous_delay <= 0:
        return BACKOFF_START
    return min(previous_delay * 2, BACKOFF_MAX)


@dataclass(frozen=True)
class Healthcheck:
    """A container's healthcheck; durations in seconds."""

    command: tuple[str, ...]
    interval: float
    timeout: float
    retries: int
    start_period: float
    start_interval: float = 0.0  # 0: `interval` during the start period too

    def next_delay(self, since_start: float, status: str) -> float:
        """Seconds to the next probe: `start_interval` while starting within the start period."""
        # moby's getInterval; unlike moby, an unset StartInterval does not mean 5 s here, so
        # checks written before API 1.44 keep their timing.
        if self.start_interval and status == "starting" and since_start < self.start_period:
            return self.start_interval
        return self.interval

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Healthcheck | None:
        """From Docker's `Config.Healthcheck` (durations in nanoseconds); None if disabled."""
        check = config.get("Healthcheck") or {}
        test = list(check.get("Test") or [])
        if not test or test[0] == "NONE":
            return None
        if test[0] == "CMD-SHELL":
            command: tuple[str, ...] = ("/bin/sh", "-c", " ".join(test[1:]))
        elif test[0] == "CMD":
            command = tuple(test[1:])
        else:
            command = ("/bin/sh", "-c", " ".join(test))
        if not command:
            return None

        def seconds(key: str, default: float) -> float:
            value = check.get(key) or 0
            return value / 1e9 if value else default

        return cls(
            command=command,
            interval=seconds("Interval", DEFAULT_INTERVAL),
            timeout=seconds("Timeout", DEFAULT_TIMEOUT),
            retries=int(check.get("Retries") or DEFAULT_RETRIES),
            start_period=seconds("StartPeriod", 0.0),
            start_interval=seconds("StartInterval", 0.0),
        )


def record_probe(
    health: dict[str, Any] | None,
    check: Healthcheck,
    *,
    exit_code: int,
    output: str,
    start: str,
    end: str,
    in_start_period: bool,
) -> dict[str, Any]:
    """Docker's `State.Health` after one probe: Status, FailingStreak, the last 5 results."""
    health = dict(health or {"Status": "starting", "FailingStreak": 0, "Log": []})
    log = list(health.get("Log") or [])
    log.append({"Start": start, "End": end, "ExitCode": exit_code, "Output": output})
    health["Log"] = log[-HEALTH_LOG_ENTRIES:]
    if exit_code == 0:
        health["Status"] = "healthy"
        health["FailingStreak"] = 0
    elif not in_start_period:
        streak = int(health.get("FailingStreak") or 0) + 1
        health["FailingStreak"] = streak
        if streak >= check.retries:
            health["Status"] = "unhealthy"
    return health
