"""Property tests: the parser fails only with DockerfileError, and round-trips what it accepts."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.build.dockerfile import DockerfileError, parse
from dockyard.build.dockerfile.expand import expand
from dockyard.build.dockerfile.parser import Dockerfile
from dockyard.build.dockerfile.stages import plan_stages

# derandomize: the same examples every run, so the suite stays deterministic.
PROPERTY = settings(
    max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)

KEYWORDS = [
    "FROM", "RUN", "CMD", "ENTRYPOINT", "ENV", "ARG", "LABEL", "EXPOSE", "VOLUME", "WORKDIR",
    "USER", "COPY", "ADD", "SHELL", "HEALTHCHECK", "HEALTHCHECK CMD", "STOPSIGNAL", "ONBUILD RUN",
    "ONBUILD", "MAINTAINER", "COPY --from=a", "FROM a AS", "run", "from", "RUN --mount=target=/x",
]  # fmt: skip
TOKENS = [
    " ", "a", "b=c", "/x", "\\", "`", "\\\n", "#", "<<EOF", "<<-E", "<<'Q'", '"', "'", "=", "[",
    "]", '["a"]', '["a", "b c"]', "--from=x", "--link", "--", "-- --x", "$A", "${A:-b}", "\t",
    "\v", "\xa0", "\x1c", " AS ", "NONE", "--interval=1s", ",", "\r", "\\\\", "'a b'", '"a b"',
    "--mount=", "--mount=type=cache,target=/c", "--mount=type=tmpfs,size=", "9", ".", "ro", "-",
]  # fmt: skip
BODIES = ["EOF\n", "\tE\n", "Q\n", "x\n", "\n", "E\n", "  # c\n", "\\\n"]

token = st.one_of(
    st.sampled_from(["a", " ", "b=c", "/x"]), st.sampled_from(TOKENS), st.text(max_size=3)
)
line = st.builds(
    lambda kw, words, body: f"{kw} {words}\n{body}",
    st.sampled_from(KEYWORDS),
    st.lists(token, max_size=8).map("".join),
    st.lists(st.sampled_from(BODIES), max_size=3).map("".join),
)
head = st.sampled_from(["", "# escape=`\n", "# syntax=foo\n", "#escape=\\\n", "\ufeff", "\n"])
dockerfile_like = st.builds(
    lambda h, ls: h + "".join(ls), head, st.lists(line, min_size=1, max_size=3)
)


def parse_or_none(text: str) -> Dockerfile | None:
    try:
        return parse(text)
    except DockerfileError:
        return None


@PROPERTY
@given(st.text())
def test_arbitrary_text_fails_only_with_dockerfile_error(text: str) -> None:
    parse_or_none(text)


@PROPERTY
@given(dockerfile_like)
def test_dockerfile_like_text_fails_only_with_dockerfile_error(text: str) -> None:
    parse_or_none(text)


@PROPERTY
@given(dockerfile_like)
def test_round_trip(text: str) -> None:
    parsed = parse_or_none(text)
    if parsed is None:
        return
    again = parse(parsed.to_source())
    assert again == parsed
    assert again.to_source() == parsed.to_source()


@PROPERTY
@given(dockerfile_like, st.sampled_from([None, "a", "b"]))
def test_stages_and_substitution_fail_only_with_dockerfile_error(
    text: str, target: str | None
) -> None:
    parsed = parse_or_none(text)
    if parsed is None:
        return
    for instr in parsed.instructions:
        with contextlib.suppress(DockerfileError):
            expand(instr, {"A": "a b", "B": ""}, escape=parsed.escape)
    with contextlib.suppress(DockerfileError):
        plan_stages(parsed, build_args={"A": "x"}, target=target)
