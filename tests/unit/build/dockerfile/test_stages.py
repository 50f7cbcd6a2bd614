"""Stages: splitting, global ARGs in FROM, references to earlier stages, --target."""

from __future__ import annotations

import pytest

from dockyard.build.dockerfile import DockerfileError, parse
from dockyard.build.dockerfile.stages import CopyFrom, plan_stages

MULTI = """\
ARG GO=1.21
ARG BASE
FROM golang:${GO} AS build
RUN go build -o /out/app .
FROM build AS test
RUN go test ./...
FROM ${BASE:-alpine}:3.19 AS runtime
COPY --from=build /out/app /usr/bin/app
COPY --from=0 /etc/passwd /etc/passwd
COPY --from=nginx:latest /etc/nginx/nginx.conf /etc/
"""


def test_split_and_resolve() -> None:
    plan = plan_stages(parse(MULTI))
    build, test, runtime = plan.stages
    assert [s.name for s in plan.stages] == ["build", "test", "runtime"]
    assert (build.base, build.base_stage) == ("golang:1.21", None)
    assert (test.base, test.base_stage) == ("build", 0)
    assert (runtime.base, runtime.base_stage) == ("alpine:3.19", None)
    assert runtime.copy_from == (
        CopyFrom(0, stage=0),
        CopyFrom(1, stage=0),
        CopyFrom(2, image="nginx:latest"),
    )
    assert len(build.instructions) == 1 and build.from_.start_line == 3
    assert plan.global_args == {"GO": "1.21"}
    assert plan.target == 2
    assert plan.required() == (0, 2)


def test_build_args_override_global_defaults() -> None:
    plan = plan_stages(parse(MULTI), build_args={"GO": "1.22", "BASE": "debian"})
    assert plan.stages[0].base == "golang:1.22"
    assert plan.stages[2].base == "debian:3.19"


def test_global_arg_default_may_use_an_earlier_one() -> None:
    plan = plan_stages(parse("ARG V=1\nARG IMG=app:$V\nFROM $IMG\n"))
    assert plan.stages[0].base == "app:1"


def test_target_selects_a_stage_and_its_dependencies() -> None:
    plan = plan_stages(parse(MULTI), target="TEST")
    assert plan.target == 1
    assert plan.required() == (0, 1)


def test_unknown_target_lists_the_stages() -> None:
    with pytest.raises(
        DockerfileError, match="'nope' could not be found; stages: build, test, runtime"
    ):
        plan_stages(parse(MULTI), target="nope")


def test_from_an_earlier_stage_by_index() -> None:
    plan = plan_stages(parse("FROM busybox\nRUN x\nFROM 0\n"))
    assert plan.stages[1].base_stage == 0


def test_from_a_later_stage_name_is_an_image() -> None:
    plan = plan_stages(parse("FROM later\nFROM busybox AS later\n"))
    assert plan.stages[0].base_stage is None


def test_copy_from_a_later_stage_as_buildkit_allows() -> None:
    plan = plan_stages(parse("FROM a AS app\nCOPY --from=tools /t /t\nFROM b AS tools\n"))
    assert plan.stages[0].copy_from == (CopyFrom(0, stage=1),)
    assert plan_stages(parse("FROM a\nCOPY --from=1 /t /t\nFROM b\n"), target=None).target == 1
    assert plan_stages(
        parse("FROM a AS app\nCOPY --from=tools /t /t\nFROM b AS tools\n"), target="app"
    ).required() == (1, 0)


def test_copy_from_stage_argument_in_the_stage() -> None:
    text = "FROM a AS one\nFROM b\nARG SRC=one\nCOPY --from=$SRC /x /y\n"
    assert plan_stages(parse(text)).stages[1].copy_from == (CopyFrom(1, stage=0),)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("FROM a\nCOPY --from=builder /x /y\n", 2, "COPY --from=builder: undefined stage"),
        ("FROM a AS one\nCOPY --from=one /x /y\n", 2, "cannot copy from itself"),
        ("FROM a\nCOPY --from=0 /x /y\n", 2, "cannot copy from itself"),
        ("FROM a\nCOPY --from=3 /x /y\n", 2, "there is no stage 3 (stages are numbered 0 to 0)"),
        ("FROM a AS x\nFROM b AS x\n", 2, "duplicate stage name 'x'"),
        (
            "FROM a AS one\nCOPY --from=two /x /y\nFROM one AS two\n",
            3,
            "circular dependency: stage two needs stage one",
        ),
        (
            "FROM a AS one\nCOPY --from=two /x /y\nFROM b AS two\nCOPY --from=one /y /z\n",
            4,
            "circular dependency",
        ),
        ("ENV A=1\nFROM a\n", 1, "ENV before the first FROM"),
        ("ARG A\n", 0, "no FROM instruction"),
        ("ARG IMG\nFROM $IMG\n", 2, "empty after substitution"),
        ("FROM ${A\n", 1, "missing '}'"),
    ],
)
def test_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(DockerfileError) as info:
        plan_stages(parse(text, name="Dockerfile.dev"))
    assert info.value.line == line and info.value.file == "Dockerfile.dev"
    assert fragment in str(info.value)
