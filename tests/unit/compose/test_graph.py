"""Dependency graph: unknown targets, cycles (named), start order in waves."""

from __future__ import annotations

import pytest

from dockyard.compose.errors import ComposeError
from dockyard.compose.graph import find_cycle, start_order

from .helpers import project


def test_start_order_follows_depends_on_links_and_network_mode() -> None:
    p = project(
        "services:\n"
        "  web: {image: x, depends_on: [api], links: ['cache:c']}\n"
        "  api: {image: x, depends_on: {db: {condition: service_healthy}}}\n"
        "  db: {image: x}\n"
        "  cache: {image: x}\n"
        "  sidecar: {image: x, network_mode: 'service:web'}\n"
    )
    assert start_order(p.services) == [["db", "cache"], ["api"], ["web"], ["sidecar"]]


def test_cycle_is_named() -> None:
    with pytest.raises(ComposeError) as caught:
        project(
            "services:\n"
            "  a: {image: x, depends_on: [b]}\n"
            "  b: {image: x, depends_on: [c]}\n"
            "  c: {image: x, depends_on: [a]}\n"
        )
    assert str(caught.value) == (
        "file0.yaml:2: services.a: dependency cycle: a -> b -> c -> a; "
        "remove one of these dependencies"
    )


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(ComposeError, match="dependency cycle: a -> a"):
        project("services:\n  a: {image: x, depends_on: [a]}\n")


def test_unknown_dependency_names_both_services() -> None:
    with pytest.raises(ComposeError) as caught:
        project("services:\n  web:\n    image: x\n    depends_on: [dbb]\n  db: {image: x}\n")
    assert str(caught.value) == (
        'file0.yaml:2: services.web: service "web" depends on undefined service "dbb"; '
        "define it or fix the name"
    )


def test_unknown_link_target() -> None:
    with pytest.raises(ComposeError, match='"web" depends on undefined service "db"'):
        project("services:\n  web: {image: x, links: [db]}\n")


def test_find_cycle_on_plain_edges() -> None:
    assert find_cycle({"a": ["b"], "b": []}) is None
    assert find_cycle({"a": ["b"], "b": ["a"]}) == ["a", "b", "a"]
    assert find_cycle({"x": ["y"], "y": ["z"], "z": ["y"]}) == ["y", "z", "y"]
