"""The convergence planner: desired project + observed state → actions, with no engine."""

from __future__ import annotations

import pytest

from dockyard.compose.convert import (
    CONFIG_HASH,
    NUMBER,
    ONEOFF,
    PROJECT,
    SERVICE,
    ProjectMeta,
    container_labels,
)
from dockyard.compose.engine_client import ContainerInfo
from dockyard.compose.model import Project
from dockyard.compose.observe import Observed
from dockyard.compose.plan import (
    DownOptions,
    Kind,
    UpOptions,
    plan_down,
    plan_up,
    with_restart_dependents,
)
from dockyard.errors import InvalidArgument, NotFound

from .helpers import project

STACK = """
services:
  db:
    image: busybox
    command: [sleep, "100"]
    healthcheck: {test: [CMD, "true"]}
  cache:
    image: busybox
  web:
    image: busybox
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
    volumes: [data:/data]
volumes:
  data: {}
"""
IMAGE_ID = "sha256:" + "a" * 64


def running(p: Project, service: str, number: int = 1, *, status: str = "running") -> ContainerInfo:
    """A container as the engine would report it for `service` of `p`, up to date."""
    labels = container_labels(ProjectMeta(p.name, p.working_dir), p.services[service], number)
    return ContainerInfo(
        id=f"{service}{number}".ljust(64, "0"),
        name=f"{p.name}-{service}-{number}",
        image="busybox",
        image_id=IMAGE_ID,
        labels=labels,
        status=status,
    )


def observed(p: Project, *containers: ContainerInfo, volumes: tuple[str, ...] = ()) -> Observed:
    return Observed(
        project=p.name,
        containers=containers,
        volumes=frozenset(volumes),
        networks=frozenset({"test_default"}),
        images={"busybox": IMAGE_ID},
        networking=True,
    )


def kinds(plan_actions: list[object]) -> list[tuple[str, str]]:
    return [(a.kind.value, a.name) for a in plan_actions]  # type: ignore[attr-defined]


def everything_up(p: Project) -> Observed:
    return observed(
        p, running(p, "db"), running(p, "cache"), running(p, "web"), volumes=("test_data",)
    )


def test_fresh_project_creates_volume_then_services_in_dependency_waves() -> None:
    p = project(STACK)
    plan = plan_up(p, observed(p), UpOptions())
    assert kinds(list(plan.resources)) == [("create volume", "test_data")]
    waves = [[step.service for step in wave] for wave in plan.waves]
    assert waves == [["db", "cache"], ["web"]]
    assert kinds(plan.actions())[1:] == [
        ("create", "test-db-1"),
        ("create", "test-cache-1"),
        ("create", "test-web-1"),
    ]
    web = plan.waves[1][0]
    assert [(d.service, d.condition.value) for d in web.waits] == [
        ("db", "service_healthy"),
        ("cache", "service_started"),
    ]


def test_second_up_with_nothing_changed_plans_nothing() -> None:
    p = project(STACK)
    assert plan_up(p, everything_up(p), UpOptions()).empty


def test_changed_service_is_recreated_and_the_rest_left_alone() -> None:
    before = project(STACK)
    after = project(
        STACK.replace("image: busybox\n  web:", "image: busybox\n    tty: true\n  web:")
    )
    plan = plan_up(after, everything_up(before), UpOptions())
    assert [(a.kind, a.name, a.reason) for a in plan.actions()] == [
        (Kind.RECREATE, "test-cache-1", "configuration changed")
    ]


def test_changed_image_recreates() -> None:
    p = project(STACK)
    state = everything_up(p)
    state = Observed(**{**state.__dict__, "images": {"busybox": "sha256:" + "b" * 64}})
    plan = plan_up(p, state, UpOptions())
    assert {a.kind for a in plan.actions()} == {Kind.RECREATE}
    assert len(plan.actions()) == 3


def test_no_recreate_keeps_a_changed_container() -> None:
    before = project(STACK)
    after = project(STACK.replace('sleep, "100"', 'sleep, "200"'))
    assert plan_up(after, everything_up(before), UpOptions(no_recreate=True)).empty


def test_stopped_container_is_started_not_recreated() -> None:
    p = project(STACK)
    state = observed(
        p,
        running(p, "db", status="exited"),
        running(p, "cache"),
        running(p, "web"),
        volumes=("test_data",),
    )
    assert kinds(plan_up(p, state, UpOptions()).actions()) == [("start", "test-db-1")]


def test_force_recreate_applies_to_named_services_only() -> None:
    p = project(STACK)
    plan = plan_up(p, everything_up(p), UpOptions(services=("web",), force_recreate=True))
    assert kinds(plan.actions()) == [("recreate", "test-web-1")]
    everything = plan_up(p, everything_up(p), UpOptions(force_recreate=True))
    assert sorted(kinds(everything.actions())) == [
        ("recreate", "test-cache-1"),
        ("recreate", "test-db-1"),
        ("recreate", "test-web-1"),
    ]


def test_named_service_brings_its_dependencies_unless_no_deps() -> None:
    p = project(STACK)
    with_deps = plan_up(p, observed(p), UpOptions(services=("web",)))
    assert [s.service for w in with_deps.waves for s in w] == ["db", "cache", "web"]
    alone = plan_up(p, observed(p), UpOptions(services=("web",), no_deps=True))
    assert [s.service for w in alone.waves for s in w] == ["web"]
    assert alone.waves[0][0].waits == ()


def test_scale_up_adds_the_next_numbers_and_scale_down_removes_the_highest() -> None:
    p = project(STACK)
    state = everything_up(p)
    up = plan_up(p, state, UpOptions(scale={"cache": 3}))
    assert kinds(up.actions()) == [("create", "test-cache-2"), ("create", "test-cache-3")]
    three = observed(
        p,
        running(p, "db"),
        running(p, "cache", 1),
        running(p, "cache", 2),
        running(p, "cache", 3),
        running(p, "web"),
        volumes=("test_data",),
    )
    down = plan_up(p, three, UpOptions(scale={"cache": 1}))
    assert kinds(down.actions()) == [("remove", "test-cache-3"), ("remove", "test-cache-2")]


def test_scale_fills_a_gap_in_numbers() -> None:
    p = project(STACK)
    state = observed(
        p, running(p, "db"), running(p, "cache", 2), running(p, "web"), volumes=("test_data",)
    )
    plan = plan_up(p, state, UpOptions(scale={"cache": 2}))
    assert kinds(plan.actions()) == [("create", "test-cache-1")]


def test_scale_with_container_name_is_refused() -> None:
    p = project("services:\n  a:\n    image: busybox\n    container_name: only\n")
    with pytest.raises(InvalidArgument, match="container_name"):
        plan_up(p, observed(p), UpOptions(scale={"a": 2}))


def test_orphans_are_reported_and_removed_only_when_asked() -> None:
    p = project(STACK)
    old = project("services:\n  old:\n    image: busybox\n")
    gone = running(old, "old")
    state = Observed(
        **{**everything_up(p).__dict__, "containers": (*everything_up(p).containers, gone)}
    )
    plan = plan_up(p, state, UpOptions())
    assert plan.empty and plan.orphans == ("test-old-1",)
    removing = plan_up(p, state, UpOptions(remove_orphans=True))
    assert kinds(removing.actions()) == [("remove", "test-old-1")]


def test_unknown_service_and_incompatible_flags_fail_before_anything() -> None:
    p = project(STACK)
    with pytest.raises(NotFound, match="nosuch"):
        plan_up(p, observed(p), UpOptions(services=("nosuch",)))
    with pytest.raises(InvalidArgument, match="incompatible"):
        plan_up(p, observed(p), UpOptions(force_recreate=True, no_recreate=True))


def test_network_is_created_when_missing() -> None:
    p = project(STACK)
    state = Observed(**{**observed(p).__dict__, "networks": frozenset()})
    plan = plan_up(p, state, UpOptions())
    assert ("create network", "test_default") in kinds(list(plan.resources))


def test_external_volume_that_does_not_exist_fails() -> None:
    p = project(
        "services:\n  a:\n    image: busybox\n    volumes: [ext:/x]\n"
        "volumes:\n  ext:\n    external: true\n"
    )
    with pytest.raises(NotFound, match="external"):
        plan_up(p, observed(p), UpOptions())


def test_down_removes_dependents_first_then_network_and_volumes_with_v() -> None:
    p = project(STACK)
    plan = plan_down(p, everything_up(p), DownOptions(volumes=True))
    names = kinds(plan.actions())
    assert names[0] == ("remove", "test-web-1")
    assert set(names[1:3]) == {("remove", "test-db-1"), ("remove", "test-cache-1")}
    assert names[3:] == [("remove network", "test_default"), ("remove volume", "test_data")]
    keep = plan_down(p, everything_up(p), DownOptions())
    assert ("remove volume", "test_data") not in kinds(keep.actions())


def test_labels_are_composes() -> None:
    p = project(STACK)
    labels = container_labels(
        ProjectMeta("test", "/project", ("/project/compose.yaml",)), p.services["web"], 2
    )
    assert labels[PROJECT] == "test"
    assert labels[SERVICE] == "web"
    assert labels[NUMBER] == "2"
    assert labels[ONEOFF] == "False"
    assert len(labels[CONFIG_HASH]) == 64
    assert (
        labels["com.docker.compose.depends_on"]
        == "db:service_healthy:false,cache:service_started:false"
    )


def test_restart_takes_dependents_declared_with_restart_true() -> None:
    p = project(
        "services:\n  db:\n    image: busybox\n"
        "  api:\n    image: busybox\n    depends_on:\n"
        "      db: {condition: service_started, restart: true}\n"
        "  ui:\n    image: busybox\n    depends_on:\n"
        "      api: {condition: service_started, restart: true}\n"
        "  batch:\n    image: busybox\n    depends_on: [db]\n"
    )
    assert with_restart_dependents(p, ["db"]) == ["db", "api", "ui"]
    assert with_restart_dependents(p, ["batch"]) == ["batch"]
