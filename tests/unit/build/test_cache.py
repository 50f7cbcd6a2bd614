"""The build cache: keys change with every input, entries persist in the state DB, prune."""

from __future__ import annotations

from pathlib import Path

from dockyard.build.cache import BuildCache, CacheEntry, prune_cache, step_key
from dockyard.errors import Conflict, NotFound
from dockyard.state.db import StateDB


def test_step_key_depends_on_every_input() -> None:
    base = step_key("sha256:p", "RUN x", {"A": "1"}, "c")
    assert base == step_key("sha256:p", "RUN x", {"A": "1"}, "c")
    assert base != step_key("sha256:q", "RUN x", {"A": "1"}, "c")
    assert base != step_key("sha256:p", "RUN y", {"A": "1"}, "c")
    assert base != step_key("sha256:p", "RUN x", {"A": "2"}, "c")
    assert base != step_key("sha256:p", "RUN x", {"A": "1"}, "d")
    assert step_key("p", "x", {"A": "1", "B": "2"}) == step_key("p", "x", {"B": "2", "A": "1"})


def test_entries_round_trip_through_the_database(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        cache = BuildCache(db)
        assert cache.get("k") is None
        cache.put("k", CacheEntry("sha256:" + "a" * 64, 10, "2024-01-01T00:00:00Z"))
        cache.put("cfg", CacheEntry(None, 0, "2024-01-01T00:00:00Z"))
        assert cache.get("k") == CacheEntry("sha256:" + "a" * 64, 10, "2024-01-01T00:00:00Z")
        assert {k for k, _ in cache.entries()} == {"k", "cfg"}
        cache.remove(["k"])
        assert cache.get("k") is None


class _Layers:
    """A layer store stand-in: `used` layers are held by images, `gone` ones already pruned."""

    def __init__(self, used: set[str], gone: set[str]) -> None:
        self.used, self.gone, self.removed = used, gone, []  # type: ignore[var-annotated]

    def remove(self, diff_id: str) -> None:
        if diff_id in self.gone:
            raise NotFound(diff_id)
        if diff_id in self.used:
            raise Conflict(diff_id)
        self.removed.append(diff_id)


def test_prune_keeps_what_images_use_unless_all(tmp_path: Path) -> None:
    with StateDB(tmp_path) as db:
        cache = BuildCache(db)
        cache.put("used", CacheEntry("u", 5, "t"))
        cache.put("free", CacheEntry("f", 7, "t"))
        cache.put("gone", CacheEntry("g", 9, "t"))
        cache.put("cfg", CacheEntry(None, 0, "t"))
        layers = _Layers(used={"u"}, gone={"g"})
        assert prune_cache(cache, layers, everything=False) == (2, 7)
        assert {k for k, _ in cache.entries()} == {"used", "cfg"}
        assert prune_cache(cache, layers, everything=True) == (2, 0)
        assert cache.entries() == []
