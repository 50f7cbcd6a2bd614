"""The config hash: deterministic; key order, list/map forms and defaults do not matter."""

from __future__ import annotations

import json
import random

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.compose.hash import config_hash
from dockyard.compose.model import Service

from .helpers import project

NAMES = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)
VALUES = st.text(alphabet=st.characters(codec="ascii", exclude_characters="\x00$"), max_size=12)
ENVIRONMENTS = st.dictionaries(NAMES, VALUES, max_size=8)


def web(service: dict[str, object]) -> Service:
    return project(yaml.safe_dump({"services": {"web": service}})).services["web"]


def web_json(service: dict[str, object]) -> Service:
    return project(json.dumps({"services": {"web": service}})).services["web"]


def test_hash_is_sha256_hex_and_stable() -> None:
    digest = config_hash(web({"image": "busybox"}))
    assert len(digest) == 64
    assert digest == config_hash(web({"image": "busybox"}))


def test_changes_that_shape_the_container_change_the_hash() -> None:
    base = config_hash(web({"image": "busybox"}))
    assert config_hash(web({"image": "alpine"})) != base
    assert config_hash(web({"image": "busybox", "environment": {"A": "1"}})) != base
    assert config_hash(web({"image": "busybox", "ports": ["80:80"]})) != base


def test_defaults_and_ignored_keys_do_not_change_the_hash() -> None:
    base = config_hash(web({"image": "busybox"}))
    assert (
        config_hash(
            web(
                {
                    "image": "busybox",
                    "read_only": False,
                    "restart": "no",
                    "privileged": False,
                    "scale": 3,
                    "pull_policy": "always",
                    "profiles": [],
                    "build": ".",
                }
            )
        )
        == base
    )


@settings(max_examples=50, deadline=None)
@given(ENVIRONMENTS, ENVIRONMENTS, st.randoms())
def test_invariant_under_key_order_and_list_or_map_form(
    env: dict[str, str], labels: dict[str, str], rng: random.Random
) -> None:
    as_maps = {"image": "busybox", "environment": env, "labels": labels, "cap_add": ["A", "B"]}
    env_list = [f"{k}={v}" for k, v in env.items()]
    label_list = [f"{k}={v}" for k, v in labels.items()]
    rng.shuffle(env_list)
    rng.shuffle(label_list)
    keys = list(as_maps)
    rng.shuffle(keys)
    as_lists = {
        "labels": label_list,
        "cap_add": ["B", "A"],
        "environment": env_list,
        "image": "busybox",
    }
    shuffled = {key: as_lists[key] for key in keys}
    # JSON (a subset of YAML) quotes every string: YAML 1.1 dumpers leave `0E0` bare, and a
    # YAML 1.2 reader, as Compose's, takes it for a number.
    assert config_hash(web_json(as_maps)) == config_hash(web_json(shuffled))


def test_long_and_short_port_syntax_hash_alike() -> None:
    short = web({"image": "x", "ports": ["127.0.0.1:8080:80"]})
    long = web(
        {"image": "x", "ports": [{"target": 80, "published": "8080", "host_ip": "127.0.0.1"}]}
    )
    assert config_hash(short) == config_hash(long)
