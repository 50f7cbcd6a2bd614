"""The image a stage has built so far: layers, config, history and its cache chain key."""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(frozen=True)
class LayerRef:
    """One layer of the image: its manifest descriptor fields and its diff-ID."""

    media_type: str
    digest: str
    size: int
    diff_id: str


@dataclass(frozen=True)
class ImageState:
    """A stage's image between steps; `key` is the cache key of the last step (or base id)."""

    key: str
    layers: tuple[LayerRef, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)  # the OCI config's `config` object
    history: tuple[dict[str, Any], ...] = ()
    shell: tuple[str, ...] = DEFAULT_SHELL
    cmd_set: bool = False  # a CMD in this stage (ENTRYPOINT keeps it; else it resets Cmd)

    @property
    def diff_ids(self) -> tuple[str, ...]:
        """The layers' diff-IDs, base first."""
        return tuple(layer.diff_id for layer in self.layers)

    def with_config(self, config: dict[str, Any], **changes: Any) -> ImageState:
        """A copy with a new config object (and other fields changed)."""
        return replace(self, config=copy.deepcopy(config), **changes)

    def step(self, key: str, created: str, created_by: str, layer: LayerRef | None) -> ImageState:
        """The state after a step: its history entry, and its layer when it made one."""
        entry: dict[str, Any] = {"created": created, "created_by": created_by}
        if layer is None:
            entry["empty_layer"] = True
        layers = self.layers + ((layer,) if layer is not None else ())
        return replace(self, key=key, layers=layers, history=(*self.history, entry))

    def latest_created(self) -> str | None:
        """The newest history `created` (None when there is none readable).

        Cached steps keep the time recorded when they ran, so an image built wholly from
        the cache gets the same `created`, hence the same config bytes and id (as BuildKit).
        """
        newest: tuple[datetime.datetime, str] | None = None
        for entry in self.history:
            text = entry.get("created")
            if not isinstance(text, str):
                continue
            when = _parse_time(text)
            if when is not None and (newest is None or when > newest[0]):
                newest = (when, text)
        return newest[1] if newest else None


def _parse_time(text: str) -> datetime.datetime | None:
    """An RFC 3339 time as an aware datetime (fromisoformat cuts Go's nanoseconds)."""
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    # A base image's time without a zone is taken as UTC, so all compare.
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
