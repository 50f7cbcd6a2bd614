"""Each instruction, with examples from Docker's Dockerfile reference, and its to_source()."""

from __future__ import annotations

import pytest

from dockyard.build.dockerfile import (
    Add,
    Arg,
    Cmd,
    CommandLine,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Instruction,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
    parse,
)

SECOND = 1_000_000_000


def only(text: str) -> Instruction:
    (instr,) = parse(text).instructions
    return instr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM ubuntu", From(image="ubuntu")),
        ("FROM scratch", From(image="scratch")),
        ("FROM golang:1.21 AS build", From(image="golang:1.21", name="build")),
        ("FROM --platform=$BUILDPLATFORM alpine", From(image="alpine", platform="$BUILDPLATFORM")),
        ("FROM base:${CODE_VERSION}", From(image="base:${CODE_VERSION}")),
        ("RUN apt-get update", Run(command=CommandLine(("apt-get update",)))),
        (
            'RUN ["/bin/bash", "-c", "echo hello"]',
            Run(command=CommandLine(("/bin/bash", "-c", "echo hello"), False)),
        ),
        (
            "RUN --network=none pip install x",
            Run(command=CommandLine(("pip install x",)), network="none"),
        ),
        (
            "RUN --security=insecure cat /proc/self/status",
            Run(command=CommandLine(("cat /proc/self/status",)), security="insecure"),
        ),
        (
            "RUN --mount=type=cache,target=/a --mount=type=secret,id=b make",
            Run(
                command=CommandLine(("make",)), mounts=("type=cache,target=/a", "type=secret,id=b")
            ),
        ),
        (
            'CMD ["executable","param1","param2"]',
            Cmd(command=CommandLine(("executable", "param1", "param2"), False)),
        ),
        ('CMD ["param1","param2"]', Cmd(command=CommandLine(("param1", "param2"), False))),
        (
            'CMD echo "This is a test." | wc -',
            Cmd(command=CommandLine(('echo "This is a test." | wc -',))),
        ),
        ("CMD []", Cmd(command=CommandLine((), False))),
        ('ENTRYPOINT ["top", "-b"]', Entrypoint(command=CommandLine(("top", "-b"), False))),
        ("ENTRYPOINT exec top -b", Entrypoint(command=CommandLine(("exec top -b",)))),
        ('SHELL ["powershell", "-command"]', Shell(args=("powershell", "-command"))),
        (
            'ENV MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog MY_CAT=fluffy',
            Env(
                pairs=(
                    KeyValue("MY_NAME", '"John Doe"'),
                    KeyValue("MY_DOG", "Rex\\ The\\ Dog"),
                    KeyValue("MY_CAT", "fluffy"),
                )
            ),
        ),
        ("ENV MY_VAR my-value", Env(pairs=(KeyValue("MY_VAR", "my-value"),), legacy=True)),
        (
            "ENV ONE TWO= THREE=world",
            Env(pairs=(KeyValue("ONE", "TWO= THREE=world"),), legacy=True),
        ),
        ("ENV EMPTY=", Env(pairs=(KeyValue("EMPTY", ""),))),
        ("ARG user1", Arg(args=(KeyValue("user1", None),))),
        ("ARG buildno=1", Arg(args=(KeyValue("buildno", "1"),))),
        ("ARG a b=2 c=", Arg(args=(KeyValue("a", None), KeyValue("b", "2"), KeyValue("c", "")))),
        (
            'LABEL "com.example.vendor"="ACME Incorporated"',
            Label(pairs=(KeyValue('"com.example.vendor"', '"ACME Incorporated"'),)),
        ),
        (
            'LABEL version="1.0" description="x y"',
            Label(pairs=(KeyValue("version", '"1.0"'), KeyValue("description", '"x y"'))),
        ),
        ("LABEL maintainer me", Label(pairs=(KeyValue("maintainer", "me"),), legacy=True)),
        ("EXPOSE 80/udp 80/tcp 8080", Expose(ports=("80/udp", "80/tcp", "8080"))),
        ('VOLUME ["/data"]', Volume(paths=("/data",), json_form=True)),
        ("VOLUME /var/log /var/db", Volume(paths=("/var/log", "/var/db"))),
        ("WORKDIR /a/b c", Workdir(path="/a/b c")),
        ("WORKDIR $DIRPATH/$DIRNAME", Workdir(path="$DIRPATH/$DIRNAME")),
        ("USER patrick", User(user="patrick")),
        ("USER 1000:1000", User(user="1000:1000")),
        ("STOPSIGNAL SIGKILL", StopSignal(signal="SIGKILL")),
        ("MAINTAINER Jane Doe <jane@example.com>", Maintainer(name="Jane Doe <jane@example.com>")),
        ("COPY hom* /mydir/", Copy(sources=("hom*",), dest="/mydir/")),
        ('COPY ["a b", "c", "/d/"]', Copy(sources=("a b", "c"), dest="/d/", json_form=True)),
        (
            "COPY --from=build /bin/app /app",
            Copy(sources=("/bin/app",), dest="/app", from_="build"),
        ),
        (
            "COPY --chown=55:mygroup --chmod=644 --link files* /somedir/",
            Copy(sources=("files*",), dest="/somedir/", chown="55:mygroup", chmod="644", link=True),
        ),
        ("COPY --link=false a b", Copy(sources=("a",), dest="b")),
        (
            "COPY --exclude=*.txt --exclude=*.md . /x",
            Copy(sources=(".",), dest="/x", excludes=("*.txt", "*.md")),
        ),
        ("COPY --parents ./x/*.txt /y/", Copy(sources=("./x/*.txt",), dest="/y/", parents=True)),
        ("ADD hom?.txt /mydir/", Add(sources=("hom?.txt",), dest="/mydir/")),
        (
            "ADD --checksum=sha256:24454f830 https://example.com/a.tar.gz /",
            Add(sources=("https://example.com/a.tar.gz",), dest="/", checksum="sha256:24454f830"),
        ),
        (
            "ADD --keep-git-dir=true https://x/y.git#v1 /b",
            Add(sources=("https://x/y.git#v1",), dest="/b", keep_git_dir=True),
        ),
        ("HEALTHCHECK NONE", Healthcheck(command=None)),
        (
            "HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1",
            Healthcheck(
                command=CommandLine(("curl -f http://localhost/ || exit 1",)),
                interval=300 * SECOND,
                timeout=3 * SECOND,
            ),
        ),
        (
            'HEALTHCHECK --start-period=1.5s --start-interval=100ms --retries=3 CMD ["true"]',
            Healthcheck(
                command=CommandLine(("true",), False),
                start_period=1_500_000_000,
                start_interval=100_000_000,
                retries=3,
            ),
        ),
        ("ONBUILD ADD . /app/src", Onbuild(instruction=Add(sources=(".",), dest="/app/src"))),
        (
            "ONBUILD RUN /usr/local/bin/python-build --dir /app/src",
            Onbuild(
                instruction=Run(
                    command=CommandLine(("/usr/local/bin/python-build --dir /app/src",))
                )
            ),
        ),
    ],
)
def test_reference_examples(text: str, expected: Instruction) -> None:
    instr = only(text + "\n")
    assert instr == expected
    assert only(instr.to_source()) == instr


def test_healthcheck_test_list() -> None:
    shell = only("HEALTHCHECK CMD curl -f http://x\n")
    assert isinstance(shell, Healthcheck) and shell.test == ("CMD-SHELL", "curl -f http://x")
    exec_ = only('HEALTHCHECK CMD ["curl", "x"]\n')
    assert isinstance(exec_, Healthcheck) and exec_.test == ("CMD", "curl", "x")
    none = only("HEALTHCHECK NONE\n")
    assert isinstance(none, Healthcheck) and none.test == ("NONE",)


def test_healthcheck_durations_format_back() -> None:
    hc = only("HEALTHCHECK --interval=1h2m3.5s CMD true\n")
    assert hc.to_source() == "HEALTHCHECK --interval=1h2m3s500ms CMD true\n"


def test_line_numbers_are_not_part_of_equality() -> None:
    a, b = parse("FROM a\nRUN x\n").instructions[1], parse("FROM a\n\n\nRUN x\n").instructions[1]
    assert a == b and (a.start_line, b.start_line) == (2, 4)


def test_canonical_source_of_a_whole_file() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "from  golang:1.21   as   build\n"
        "run   --mount=type=cache,target=/root/.cache \\\n"
        "      go build -o /out/app .\n"
        "FROM scratch\n"
        "copy --from=build   /out/app   /app\n"
        'entrypoint   [ "/app" ]\n'
    )
    d = parse(text)
    assert d.to_source() == (
        "# syntax=docker/dockerfile:1\n\n"
        "FROM golang:1.21 AS build\n"
        "RUN --mount=type=cache,target=/root/.cache go build -o /out/app .\n"
        "FROM scratch\n"
        "COPY --from=build /out/app /app\n"
        'ENTRYPOINT ["/app"]\n'
    )
    assert parse(d.to_source()) == d
