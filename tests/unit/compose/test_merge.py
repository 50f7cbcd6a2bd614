"""Merge rules, against the Compose specification's examples (merge.md)."""

from __future__ import annotations

import pytest

from dockyard.compose.errors import Location
from dockyard.compose.merge import merge_trees
from dockyard.compose.source import parse_yaml
from dockyard.compose.tree import tree_of

from .helpers import merged


def web(*texts: str) -> object:
    return merged(*texts)["services"]["web"]  # type: ignore[index]


def test_mappings_merge_and_scalars_are_replaced() -> None:
    assert web(
        "services:\n  web:\n    image: a\n    environment:\n      TZ: utc\n      PORT: 80\n",
        "services:\n  web:\n    image: b\n    environment:\n      PORT: 8080\n",
    ) == {"image": "b", "environment": {"TZ": "utc", "PORT": "8080"}}


def test_list_and_map_environment_merge_by_key() -> None:
    assert web(
        "services:\n  web:\n    environment: [A=1, B=2, C]\n",
        "services:\n  web:\n    environment:\n      B: 3\n      D: true\n",
    ) == {"environment": {"A": "1", "B": "3", "C": None, "D": "true"}}


def test_sequences_are_appended_once() -> None:
    assert web(
        "services:\n  web:\n    security_opt: [label:role:ROLE]\n    dns: 1.1.1.1\n"
        "    expose: [80]\n",
        "services:\n  web:\n    security_opt: [label:user:USER]\n    dns: [1.1.1.1, 8.8.8.8]\n"
        "    expose: [80, 443]\n",
    ) == {
        "security_opt": ["label:role:ROLE", "label:user:USER"],
        "dns": ["1.1.1.1", "8.8.8.8"],
        "expose": [80, 443],
    }


@pytest.mark.parametrize("key", ["command", "entrypoint"])
def test_shell_commands_are_replaced(key: str) -> None:
    assert web(
        f"services:\n  web:\n    {key}: [a, b]\n",
        f"services:\n  web:\n    {key}: [c]\n",
    ) == {key: ["c"]}


def test_healthcheck_test_is_replaced_but_the_rest_merged() -> None:
    assert web(
        "services:\n  web:\n    healthcheck:\n      test: [CMD, a]\n      interval: 5s\n",
        "services:\n  web:\n    healthcheck:\n      test: [CMD, b]\n      retries: 3\n",
    ) == {"healthcheck": {"test": ["CMD", "b"], "interval": "5s", "retries": 3}}


def test_volumes_are_unique_by_target() -> None:
    assert web(
        "services:\n  web:\n    volumes:\n      - /host/path:/container/path\n"
        "      - named:/data\n",
        "services:\n  web:\n    volumes:\n      - /other:/container/path:ro\n"
        "      - type: tmpfs\n        target: /tmp\n",
    ) == {
        "volumes": [
            "/other:/container/path:ro",
            "named:/data",
            {"type": "tmpfs", "target": "/tmp"},
        ]
    }


def test_ports_are_unique_by_ip_target_published_protocol() -> None:
    assert web(
        "services:\n  web:\n    ports: ['8080:80', '53:53/udp']\n",
        "services:\n  web:\n    ports:\n      - 8080:80\n      - 53:53\n"
        "      - target: 80\n        published: '8080'\n",
    ) == {"ports": [{"target": 80, "published": "8080"}, "53:53/udp", "53:53"]}


def test_secrets_and_configs_are_unique_by_target() -> None:
    assert web(
        "services:\n  web:\n    secrets: [a, {source: b, target: /x}]\n",
        "services:\n  web:\n    secrets: [{source: c, target: a}, {source: d, target: /x}]\n",
    ) == {"secrets": [{"source": "c", "target": "a"}, {"source": "d", "target": "/x"}]}


def test_depends_on_and_networks_list_and_map_forms_merge() -> None:
    assert web(
        "services:\n  web:\n    depends_on: [db]\n    networks: [front]\n",
        "services:\n  web:\n    depends_on:\n      db:\n        condition: service_healthy\n"
        "    networks:\n      back:\n        aliases: [w]\n",
    ) == {
        "depends_on": {"db": {"condition": "service_healthy", "required": True}},
        "networks": {"front": None, "back": {"aliases": ["w"]}},
    }


def test_build_string_and_mapping_merge() -> None:
    assert web(
        "services:\n  web:\n    build: ./dir\n",
        "services:\n  web:\n    build:\n      args: [A=1]\n",
    ) == {"build": {"context": "./dir", "args": {"A": "1"}}}


def test_reset_removes_inherited_values() -> None:
    assert web(
        "services:\n  web:\n    image: myapp\n    ports: ['8080:80']\n"
        "    environment:\n      FOO: BAR\n      KEEP: 1\n",
        "services:\n  web:\n    image: myapp\n    ports: !reset []\n"
        "    environment:\n      FOO: !reset null\n",
    ) == {"image": "myapp", "environment": {"KEEP": "1"}}


def test_override_replaces_instead_of_merging() -> None:
    assert web(
        "services:\n  web:\n    ports: ['8080:80']\n    environment: {A: 1, B: 2}\n",
        "services:\n  web:\n    ports: !override ['8443:443']\n    environment: !override [C=3]\n",
    ) == {"ports": ["8443:443"], "environment": {"C": "3"}}


def test_logging_with_another_driver_is_replaced() -> None:
    assert web(
        "services:\n  web:\n    logging:\n      driver: json-file\n      options: {a: 1}\n",
        "services:\n  web:\n    logging:\n      driver: syslog\n      options: {b: 2}\n",
    ) == {"logging": {"driver": "syslog", "options": {"b": 2}}}


def test_top_level_resources_merge_and_new_services_are_added() -> None:
    data = merged(
        "services:\n  web: {image: a}\nnetworks:\n  n: {driver: bridge}\nvolumes:\n  v: {}\n",
        "services:\n  db: {image: b}\nnetworks:\n  n: {internal: true}\nname: other\n",
    )
    assert data == {
        "services": {"web": {"image": "a"}, "db": {"image": "b"}},
        "networks": {"n": {"driver": "bridge", "internal": True}},
        "volumes": {"v": {}},
        "name": "other",
    }


def test_locations_follow_the_file_that_wrote_the_value() -> None:
    base = tree_of(parse_yaml("services:\n  web:\n    ports: ['1:1']\n    image: a\n", "a.yaml"))
    over = tree_of(parse_yaml("services:\n\n  web:\n    ports: ['2:2']\n", "b.yaml"))
    result = merge_trees(base, over)
    assert result.locate(("services", "web", "ports", 0)) == Location("a.yaml", 3)
    assert result.locate(("services", "web", "ports", 1)) == Location("b.yaml", 4)
    assert result.locate(("services", "web", "image")) == Location("a.yaml", 4)
