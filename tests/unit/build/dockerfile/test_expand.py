"""Substitution happens only in the instructions Docker allows, splitting only for EXPOSE."""

from __future__ import annotations

import pytest

from dockyard.build.dockerfile import (
    Add,
    Arg,
    Copy,
    DockerfileError,
    Env,
    Expose,
    From,
    Instruction,
    KeyValue,
    Label,
    StopSignal,
    User,
    Volume,
    Workdir,
    parse,
)
from dockyard.build.dockerfile.expand import expand

ENV = {"DIR": "/app", "NAME": "web", "PORTS": "80 443/udp", "USR": "1000", "SIG": "SIGINT"}


def expanded(line: str, env: dict[str, str] = ENV, escape: str = "\\") -> Instruction:
    head = "# escape=`\n" if escape == "`" else ""
    (instr,) = parse(head + line + "\n").instructions
    return expand(instr, env, escape=escape)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ENV A=$DIR/x B=${NAME:-d}", Env(pairs=(KeyValue("A", "/app/x"), KeyValue("B", "web")))),
        ('ENV A="$DIR with space"', Env(pairs=(KeyValue("A", "/app with space"),))),
        ("ENV A $DIR and more", Env(pairs=(KeyValue("A", "/app and more"),), legacy=True)),
        ("ENV A='$DIR'", Env(pairs=(KeyValue("A", "$DIR"),))),
        ("ENV A=\\$DIR", Env(pairs=(KeyValue("A", "$DIR"),))),
        ("ENV MY_DOG=Rex\\ The\\ Dog", Env(pairs=(KeyValue("MY_DOG", "Rex The Dog"),))),
        ('LABEL "app.name"="$NAME"', Label(pairs=(KeyValue("app.name", "web"),))),
        ("ARG X=$DIR Y", Arg(args=(KeyValue("X", "/app"), KeyValue("Y", None)))),
        ("EXPOSE $PORTS 8080", Expose(ports=("80", "443/udp", "8080"))),
        ("VOLUME $DIR/data", Volume(paths=("/app/data",))),
        ('VOLUME ["$DIR/a b"]', Volume(paths=("/app/a b",), json_form=True)),
        ("WORKDIR ${DIR}/src", Workdir(path="/app/src")),
        ("USER $USR:$USR", User(user="1000:1000")),
        ("STOPSIGNAL $SIG", StopSignal(signal="SIGINT")),
        ("FROM --platform=$P ${NAME}:1 AS b", From(image="web:1", name="b", platform="")),
        (
            "COPY --chown=$USR --from=$NAME $DIR/a* $DIR/",
            Copy(sources=("/app/a*",), dest="/app/", chown="1000", from_="web"),
        ),
        ("ADD --chmod=$USR $NAME.tar /", Add(sources=("web.tar",), dest="/", chmod="1000")),
    ],
)
def test_substituted(line: str, expected: Instruction) -> None:
    assert expanded(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "RUN echo $DIR",
        'CMD ["echo", "$DIR"]',
        "ENTRYPOINT $DIR/bin",
        'SHELL ["$DIR"]',
        "HEALTHCHECK CMD curl $DIR",
        "MAINTAINER $NAME",
        "ONBUILD COPY $DIR /x",
    ],
)
def test_left_alone(line: str) -> None:
    (instr,) = parse(line + "\n").instructions
    assert expand(instr, ENV) is instr


def test_heredoc_sources_are_not_substituted() -> None:
    copy = expanded("COPY <<EOF $DIR/conf\nx\nEOF")
    assert isinstance(copy, Copy)
    assert copy.sources == ("<<EOF",) and copy.dest == "/app/conf"


def test_backtick_escape() -> None:
    env = expanded("ENV A=`$DIR B=c:\\x", escape="`")
    assert env == Env(pairs=(KeyValue("A", "$DIR"), KeyValue("B", "c:\\x")))


def test_bad_substitution_names_the_line() -> None:
    (_, instr) = parse("FROM a\nWORKDIR ${DIR\n", name="df").instructions
    with pytest.raises(DockerfileError, match=r"df:2: syntax error: missing '}'"):
        expand(instr, ENV, name="df")


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    (instr,) = parse("WORKDIR " + "${a:-" * 3000 + "\n").instructions
    with pytest.raises(DockerfileError, match="nested deeper"):
        expand(instr, {})
