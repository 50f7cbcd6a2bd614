"""Project-wide checks: host port clashes, container_name, build contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.compose.checks import check_build_contexts
from dockyard.compose.errors import ComposeError, ComposeFileNotFound

from .helpers import project


def two_services(ports_a: str, ports_b: str) -> str:
    return f"services:\n  a: {{image: x, ports: {ports_a}}}\n  b: {{image: x, ports: {ports_b}}}\n"


@pytest.mark.parametrize(
    ("ports_a", "ports_b"),
    [
        ("['8080:80']", "['8080:81']"),
        ("['127.0.0.1:8080:80']", "['8080:80']"),
        ("['8000-8001:80-81']", "['8001:9000']"),
        ("['53:53/udp']", "[{target: 53, published: '53', protocol: udp}]"),
    ],
)
def test_two_services_on_one_host_port(ports_a: str, ports_b: str) -> None:
    with pytest.raises(ComposeError, match=r"^file0\.yaml:3: services\.b\.ports: services a and b"):
        project(
            f"services:\n  a: {{image: x, ports: {ports_a}}}\n  b: {{image: x, ports: {ports_b}}}\n"
        )


@pytest.mark.parametrize(
    ("ports_a", "ports_b"),
    [
        ("['127.0.0.1:8080:80']", "['127.0.0.2:8080:80']"),
        ("['8080:80']", "['8080:80/udp']"),
        ("['8000-8010:80']", "['8000-8010:80']"),
        ("['80']", "['80']"),
    ],
)
def test_ports_that_do_not_clash(ports_a: str, ports_b: str) -> None:
    project(
        f"services:\n  a: {{image: x, ports: {ports_a}}}\n  b: {{image: x, ports: {ports_b}}}\n"
    )


def test_fixed_host_port_with_replicas() -> None:
    with pytest.raises(ComposeError, match="publishes host port 8080 for 3 replicas"):
        project("services:\n  a: {image: x, ports: ['8080:80'], deploy: {replicas: 3}}\n")
    assert (
        project("services:\n  a: {image: x, ports: ['80'], scale: 3}\n").services["a"].replicas == 3
    )


def test_container_name_rules() -> None:
    with pytest.raises(ComposeError, match="sets container_name and 2 replicas"):
        project("services:\n  a: {image: x, container_name: c, scale: 2}\n")
    with pytest.raises(ComposeError, match='services a and b share container_name "c"'):
        project(
            "services:\n  a: {image: x, container_name: c}\n  b: {image: x, container_name: c}\n"
        )


def test_build_context_must_exist(scratch: Path) -> None:
    (scratch / "app").mkdir()
    ok = project(
        "services:\n  a: {build: ./app}\n  b: {build: 'https://example.com/r.git'}\n",
        directory=scratch,
    )
    check_build_contexts(ok.services)
    missing = project("services:\n  a: {build: ./nope}\n", directory=scratch)
    with pytest.raises(ComposeFileNotFound, match=f"build context {scratch}/nope of service a"):
        check_build_contexts(missing.services)
