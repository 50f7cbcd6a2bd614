"""The image a stage has built so far: layers, config, history and its cache chain key."""

from __future__ import annotations

import copy
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
