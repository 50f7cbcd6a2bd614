"""`compose config` output: Compose syntax that loads back into the same project."""

from __future__ import annotations

import json

from dockyard.compose.hash import config_hash
from dockyard.compose.serialize import project_data, to_json, to_yaml

from .helpers import project
from .test_normalize import FULL, FULL_ENV


def test_yaml_output_loads_back_into_the_same_project() -> None:
    original = project(FULL, env=FULL_ENV)
    again = project(to_yaml(original), env=FULL_ENV)
    assert dict(again.services) == dict(original.services)
    assert dict(again.networks) == dict(original.networks)
    assert dict(again.volumes) == dict(original.volumes)
    assert dict(again.secrets) == dict(original.secrets)
    assert dict(again.configs) == dict(original.configs)
    for name, service in original.services.items():
        assert config_hash(again.services[name]) == config_hash(service)


def test_json_output_is_the_same_data() -> None:
    original = project(FULL, env=FULL_ENV)
    assert json.loads(to_json(original)) == project_data(original)


def test_defaults_are_left_out() -> None:
    data = project_data(project("services:\n  web: {image: x, read_only: false}\n"))
    assert data == {
        "name": "test",
        "services": {"web": {"image": "x", "networks": {"default": None}}},
        "networks": {"default": {"name": "test_default"}},
    }


def test_output_is_deterministic() -> None:
    assert to_yaml(project(FULL, env=FULL_ENV)) == to_yaml(project(FULL, env=FULL_ENV))
