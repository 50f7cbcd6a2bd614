"""`events`: the container events table, as Docker's event messages, past and live.

Every state change is a row of `container_events` written in the same transaction as the
change, so reading the table (and polling it for new rows) misses nothing and needs no daemon.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dockyard.engine.service import Engine
from dockyard.errors import InvalidArgument, NotFound

POLL_INTERVAL = 0.1
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
FILTER_KEYS = ("container", "event", "image", "label", "type")


@dataclass(frozen=True)
class Event:
    """One event in Docker's message shape (`Type`, `Action`, `Actor`, `time`, `timeNano`)."""

    seq: int
    time: float
    action: str
    actor_id: str
    attributes: dict[str, str]

    def message(self) -> dict[str, Any]:
        """Docker's JSON event message."""
        return {
            "status": self.action,
            "id": self.actor_id,
            "from": self.attributes.get("image", ""),
            "Type": "container",
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": self.attributes},
            "scope": "local",
            "time": int(self.time),
            "timeNano": int(self.time * 1e9),
        }

    def fields(self) -> dict[str, Any]:
        """The Go template fields of Docker's event message (`{{.Action}}`, `{{.Actor.ID}}`)."""
        return {
            "Status": self.action,
            "ID": self.actor_id,
            "From": self.attributes.get("image", ""),
            "Type": "container",
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": self.attributes},
            "Scope": "local",
            "Time": int(self.time),
            "TimeNano": int(self.time * 1e9),
        }

    def line(self) -> str:
        """Docker's default text: `TIME container ACTION ID (k=v, …)`."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.time))
        nanos = round((self.time % 1) * 1e9) % 1_000_000_000
        attrs = ", ".join(f"{k}={v}" for k, v in sorted(self.attributes.items()))
        return f"{stamp}.{nanos:09d}Z container {self.action} {self.actor_id} ({attrs})"


def parse_time(text: str, now: float) -> float:
    """`--since`/`--until`: Unix seconds (`1700000000.5`), RFC 3339, or a duration ago (`10m`)."""
    value = text.strip()
    match = _DURATION.match(value)
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return float(value)
    except ValueError:
        pass
    from datetime import UTC, datetime

    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"invalid time {text!r}: use Unix seconds, RFC 3339 or a duration such as 10m"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def parse_filters(items: list[str]) -> dict[str, set[str]]:
    """`--filter key=value` pairs (repeatable; one key's values are ORed, keys are ANDed)."""
    out: dict[str, set[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in FILTER_KEYS:
            raise InvalidArgument(
                f"invalid filter {item!r}: use KEY=VALUE with KEY one of {', '.join(FILTER_KEYS)}"
            )
        out.setdefault(key, set()).add(value)
    return out


def matches(event: Event, filters: dict[str, set[str]]) -> bool:
    """Whether the event passes every filter (Docker's semantics)."""
    for key, values in filters.items():
        if key == "type" and "container" not in values:
            return False
        if key == "event" and not any(
            event.action == v or event.action.split(":")[0] == v for v in values
        ):
            return False
        if key == "container" and not any(
            event.actor_id.startswith(v) or event.attributes.get("name") == v for v in values
        ):
            return False
        if key == "image" and event.attributes.get("image") not in values:
            return False
        if key == "label":
            ok = False
            for v in values:
                k, sep, val = v.partition("=")
                if k in event.attributes and (not sep or event.attributes[k] == val):
                    ok = True
            if not ok:
                return False
    return True


class EventReader:
    """Reads events after a position in the table, naming each container as it was known."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seq = 0
        self._actors: dict[str, dict[str, str]] = {}

    def _attributes(self, container_id: str, stored: dict[str, Any]) -> dict[str, str]:
        known = self._actors.get(container_id)
        if known is None:
            known = {}
            try:
                row = self.engine.containers.get(container_id)
            except NotFound:
                pass
            else:
                labels = (row.config.get("Config") or {}).get("Labels") or {}
                known = {**{str(k): str(v) for k, v in labels.items()}}
                known.update(image=row.image, name=row.name)
            self._actors[container_id] = known
        known.update({k: str(v) for k, v in stored.items()})
        return dict(known)

    def read(self) -> list[Event]:
        """The events written since the last read."""
        events = []
        for raw in self.engine.containers.events(self.seq):
            self.seq = int(raw["seq"])
            attrs = self._attributes(str(raw["id"]), dict(raw["attributes"]))
            if raw["action"] == "die":
                with contextlib.suppress(NotFound):
                    attrs["exitCode"] = str(self.engine.containers.get(str(raw["id"])).exit_code)
            events.append(Event(self.seq, float(raw["time"]), str(raw["action"]), raw["id"], attrs))
        return events


def stream(
    engine: Engine,
    *,
    since: float | None,
    until: float | None,
    filters: dict[str, set[str]],
    follow: bool,
) -> Iterator[Event]:
    """Past events from `since`, then (with `follow`) live ones until `until` or forever."""
    reader = EventReader(engine)
    start = time.time()
    if since is None:
        # Without --since only new events are shown; skip what the table already holds.
        for _ in reader.read():
            pass
    while True:
        for event in reader.read():
            if since is not None and event.time < since:
                continue
            if until is not None and event.time > until:
                return
            if matches(event, filters):
                yield event
        now = time.time()
        if (
            not follow
            or (until is not None and now >= until)
            or (until is not None and until <= start)
        ):
            return
        time.sleep(POLL_INTERVAL if until is None else max(0.0, min(POLL_INTERVAL, until - now)))
