"""Secrets and configs (file, environment, content) and anonymous volumes on recreate (pure)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.compose.convert import GrantFile, file_grants, inherit_anonymous, to_config
from dockyard.compose.errors import ComposeError
from dockyard.compose.serialize import to_json, to_yaml
from dockyard.engine.config import ContainerConfig
from dockyard.engine.options import MountSpec
from dockyard.errors import InvalidArgument

from .helpers import project, shell

STACK = """
services:
  app:
    image: busybox
    secrets:
      - from_file
      - {source: token, target: api, uid: "100", gid: "101", mode: 0400}
    configs:
      - motd
      - {source: level, target: /etc/level, mode: "0640"}
secrets:
  from_file: {file: ./secret.txt}
  token: {environment: TOKEN}
configs:
  motd: {content: "hello ${WHO}"}
  level: {environment: LEVEL}
"""
ENV = shell(TOKEN="s3cr3t", LEVEL="debug", WHO="world")


def test_file_grants_bind_files_and_write_the_rest() -> None:
    p = project(STACK, env=ENV)
    grants = file_grants(p, p.services["app"], "/root/compose/test/test-app-1")
    assert grants.mounts == (
        MountSpec(type="bind", source="/project/secret.txt", target="/run/secrets/from_file",
                  readonly=True),
        MountSpec(type="bind", source="/root/compose/test/test-app-1/secrets/1_token",
                  target="/run/secrets/api", readonly=True),
        MountSpec(type="bind", source="/root/compose/test/test-app-1/configs/0_motd",
                  target="/motd", readonly=True),
        MountSpec(type="bind", source="/root/compose/test/test-app-1/configs/1_level",
                  target="/etc/level", readonly=True),
    )  # fmt: skip
    assert grants.files == (
        GrantFile("secrets/1_token", "s3cr3t", uid=100, gid=101, mode=0o400),
        GrantFile("configs/0_motd", "hello world"),  # content is interpolated; 0444 root
        GrantFile("configs/1_level", "debug", mode=0o640),  # a string mode is octal
    )


def test_to_config_mounts_the_grants_read_only() -> None:
    p = project(STACK, env=ENV)
    cfg = to_config(p, p.services["app"], {}, files_dir="/d")
    binds = {m.target: m for m in cfg.host.mounts if m.type == "bind"}
    assert set(binds) == {"/run/secrets/from_file", "/run/secrets/api", "/motd", "/etc/level"}
    assert all(m.readonly for m in binds.values())


def test_an_unset_environment_variable_is_a_located_error() -> None:
    with pytest.raises(ComposeError) as info:
        project(STACK, env=shell(LEVEL="x"))
    assert 'secret "token" reads environment variable "TOKEN", which is not set' in str(info.value)
    assert "secrets.token.environment" in str(info.value)


def test_an_unused_environment_secret_may_be_unset() -> None:
    p = project("services:\n  a: {image: x}\nsecrets:\n  s: {environment: NOPE}\n")
    assert p.secrets["s"].env_value is None


def test_external_secrets_need_a_swarm() -> None:
    with pytest.raises(ComposeError, match='secret "s" is external, which needs a swarm'):
        project("services:\n  a: {image: x, secrets: [s]}\nsecrets:\n  s: {external: true}\n")


def test_non_numeric_owner_is_refused() -> None:
    p = project(
        "services:\n  a: {image: x, configs: [{source: c, uid: bob}]}\n"
        "configs:\n  c: {content: x}\n"
    )
    with pytest.raises(InvalidArgument, match='uid "bob" of "c" is not a number'):
        file_grants(p, p.services["a"], "/d")


def test_bad_mode_is_a_located_error() -> None:
    with pytest.raises(ComposeError, match='mode "rw" is not an octal number'):
        project(
            "services:\n  a: {image: x, configs: [{source: c, mode: rw}]}\n"
            "configs:\n  c: {content: x}\n"
        )


def test_config_output_never_shows_a_secret_value() -> None:
    p = project(STACK, env=ENV)
    for text in (to_yaml(p), to_json(p)):
        assert "s3cr3t" not in text and "debug" not in text
        assert "TOKEN" in text


def _config(mounts: tuple[MountSpec, ...], tmpfs: dict[str, str] | None = None) -> ContainerConfig:
    p = project("services:\n  a: {image: x}\n")
    cfg = to_config(p, p.services["a"], {})
    return dataclasses.replace(
        cfg, host=dataclasses.replace(cfg.host, mounts=mounts, tmpfs=tmpfs or {})
    )


def test_recreate_keeps_anonymous_volumes_not_mounted_elsewhere() -> None:
    anon = MountSpec(type="volume", source="", target="/data")
    named = MountSpec(type="volume", source="p_cache", target="/cache")
    bind = MountSpec(type="bind", source="/h", target="/h")
    cfg = _config((anon, named, bind), {"/tmp": ""})
    previous = {"/data": "a1", "/cache": "a2", "/h": "a3", "/tmp": "a4", "/image-vol": "a5"}
    out = inherit_anonymous(cfg, previous)
    assert out.host.mounts == (
        named,
        bind,
        MountSpec(type="volume", source="a1", target="/data"),  # the service's anonymous one
        MountSpec(type="volume", source="a5", target="/image-vol"),  # an image VOLUME's
    )


@given(st.dictionaries(st.from_regex(r"/[a-z]{1,5}", fullmatch=True), st.text(min_size=1)))
def test_every_target_is_mounted_once(previous: dict[str, str]) -> None:
    anon = MountSpec(type="volume", source="", target="/a")
    out = inherit_anonymous(_config((anon,)), previous)
    targets = [m.target for m in out.host.mounts]
    assert len(targets) == len(set(targets))
    assert set(targets) == {"/a", *previous}
