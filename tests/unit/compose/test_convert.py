"""Service → engine ContainerConfig, names, attachments (pure)."""

from __future__ import annotations

import pytest

from dockyard.compose.convert import (
    attachments,
    container_name,
    image_name,
    links,
    network_mode,
    to_config,
)
from dockyard.errors import InvalidArgument

from .helpers import project

STACK = """
services:
  web:
    image: busybox
    command: [httpd, -f]
    entrypoint: [/bin/sh, -c]
    environment: {A: "1"}
    ports: ["8080:80", "9000"]
    expose: ["7000"]
    volumes: [data:/data, /host:/h:ro, /anon]
    tmpfs: [/run]
    restart: unless-stopped
    healthcheck: {test: [CMD, "true"], interval: 2s, retries: 3}
    mem_limit: 64m
    cpus: 0.5
    stop_grace_period: 3s
    stop_signal: SIGINT
    cap_add: [net_admin]
    networks:
      front: {aliases: [www]}
    links: ["db:database"]
  db:
    image: busybox
    container_name: the-db
  built:
    build: .
networks:
  front: {}
volumes:
  data: {}
"""


def test_config_carries_the_service() -> None:
    p = project(STACK)
    cfg = to_config(p, p.services["web"], {"x": "y"}, mode="test_front")
    assert cfg.image == "busybox"
    assert cfg.cmd == ("httpd", "-f")
    assert cfg.entrypoint == ("/bin/sh", "-c")
    assert cfg.env == ("A=1",)
    assert cfg.labels["x"] == "y"
    assert cfg.exposed_ports == ("7000/tcp", "80/tcp", "9000/tcp")
    assert [(b.host_port, b.container_port) for b in cfg.host.port_bindings] == [
        (8080, 80),
        (0, 9000),
    ]
    mounts = {(m.type, m.source, m.target, m.readonly) for m in cfg.host.mounts}
    assert mounts == {
        ("volume", "test_data", "/data", False),
        ("bind", "/host", "/h", True),
        ("volume", "", "/anon", False),
    }
    assert cfg.host.tmpfs == {"/run": ""}
    assert cfg.host.restart_policy.name == "unless-stopped"
    assert cfg.healthcheck is not None
    assert cfg.healthcheck.interval == 2_000_000_000 and cfg.healthcheck.retries == 3
    assert cfg.host.memory == 64 << 20
    assert cfg.host.nano_cpus == 500_000_000
    assert cfg.stop_timeout == 3 and cfg.stop_signal == "SIGINT"
    assert cfg.host.cap_add == ("CAP_NET_ADMIN",)
    assert cfg.host.network_mode == "test_front"


def test_names() -> None:
    p = project(STACK)
    assert container_name("test", p.services["web"], 2) == "test-web-2"
    assert container_name("test", p.services["db"], 1) == "the-db"
    assert container_name("test", p.services["db"], 1, oneoff=True) == "test-db-run-1"
    assert image_name(p, p.services["built"]) == "test-built"


def test_attachments_aliases_and_links() -> None:
    p = project(STACK)
    nets = attachments(p, p.services["web"], networking=True)
    assert [(a.network, a.aliases) for a in nets] == [("test_front", ("web", "www"))]
    assert network_mode(p.services["web"], nets, {}) == "test_front"
    assert attachments(p, p.services["web"], networking=False) == []
    assert links(p, p.services["web"]) == ("the-db:database",)


def test_network_mode_service_needs_its_container() -> None:
    p = project(
        "services:\n  a:\n    image: busybox\n  b:\n    image: busybox\n"
        "    network_mode: service:a\n"
    )
    assert network_mode(p.services["b"], [], {"a": "abc"}) == "container:abc"
    with pytest.raises(InvalidArgument, match='"a"'):
        network_mode(p.services["b"], [], {})


def test_disabled_healthcheck_and_unsupported_log_driver() -> None:
    p = project(
        "services:\n  a:\n    image: busybox\n    healthcheck: {disable: true}\n"
        "  b:\n    image: busybox\n    logging: {driver: syslog}\n"
    )
    cfg = to_config(p, p.services["a"], {})
    assert cfg.healthcheck is not None and cfg.healthcheck.test == ("NONE",)
    with pytest.raises(InvalidArgument, match="syslog"):
        to_config(p, p.services["b"], {})
