"""Image references: Docker's grammar and normalisation, errors, and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dockyard.errors import InvalidArgument
from dockyard.image.reference import Reference, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("busybox", Reference("docker.io", "library/busybox", "latest")),
        ("busybox:1.36", Reference("docker.io", "library/busybox", "1.36")),
        ("library/busybox:1.36", Reference("docker.io", "library/busybox", "1.36")),
        ("docker.io/busybox", Reference("docker.io", "library/busybox", "latest")),
        ("index.docker.io/library/busybox", Reference("docker.io", "library/busybox", "latest")),
        ("index.docker.io/user/app:v1", Reference("docker.io", "user/app", "v1")),
        ("user/app", Reference("docker.io", "user/app", "latest")),
        ("localhost/app", Reference("localhost", "app", "latest")),
        ("localhost:5000/ns/app:1", Reference("localhost:5000", "ns/app", "1")),
        ("127.0.0.1:5000/ns/sub/app", Reference("127.0.0.1:5000", "ns/sub/app", "latest")),
        ("quay.io/coreos/etcd:v3.5", Reference("quay.io", "coreos/etcd", "v3.5")),
        (f"host:5000/ns/name@{DIGEST}", Reference("host:5000", "ns/name", None, DIGEST)),
        (f"busybox@{DIGEST}", Reference("docker.io", "library/busybox", None, DIGEST)),
        (f"name:tag@{DIGEST}", Reference("docker.io", "library/name", "tag", DIGEST)),
        ("a__b-c---e/f.g_h:T_1.x-y", Reference("docker.io", "a__b-c---e/f.g_h", "T_1.x-y")),
        ("Example.COM/app", Reference("Example.COM", "app", "latest")),
        # A name with a port-like tag is still a tag on Docker Hub, as in Docker.
        ("host:5000", Reference("docker.io", "library/host", "5000")),
    ],
)
def test_parse(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty image reference"),
        ("UPPER:tag", "repository name must be lowercase"),
        ("user/App", "repository name must be lowercase"),
        ("a:b:c", "too many ':'"),
        ("host:5000/a:b:c", "too many ':'"),
        ("busybox@sha256:abc", "64 lowercase hex digits"),
        ("busybox@sha256:" + "AB" * 32, "64 lowercase hex digits"),
        ("busybox@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("busybox@", "invalid digest"),
        (f"busybox@{DIGEST}@{DIGEST}", "more than one '@'"),
        ("busybox:", "invalid tag"),
        ("busybox:-x", "invalid tag"),
        ("busybox:" + "a" * 129, "invalid tag"),
        (":tag", "no repository name"),
        ("a b", "white space"),
        ("-bad/app", "invalid repository name component"),
        ("app-", "invalid repository name component"),
        ("a..b", "invalid repository name component"),
        ("a//b", "invalid repository name component"),
        ("host-.com/app", "invalid registry host"),
        ("ab" * 32, "image ID"),
        ("a/" + "b" * 250, "longer than 255"),
    ],
)
def test_errors_are_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^[^\n]*$") as caught:
        parse_reference(text)
    assert message in str(caught.value)


def test_string_forms() -> None:
    ref = parse_reference("busybox")
    assert str(ref) == "docker.io/library/busybox:latest"
    assert ref.familiar() == "busybox:latest"
    assert ref.name == "docker.io/library/busybox"
    assert parse_reference("user/app:1").familiar() == "user/app:1"
    assert parse_reference("library/a/b:1").familiar() == "library/a/b:1"
    assert parse_reference("localhost:5000/x").familiar() == "localhost:5000/x:latest"
    pinned = parse_reference(f"busybox:1@{DIGEST}")
    assert pinned.object == DIGEST
    assert ref.with_digest(DIGEST) == Reference("docker.io", "library/busybox", None, DIGEST)
    assert ref.with_tag("2").object == "2"
    assert parse_reference("busybox", default_tag=False).tag is None
    with pytest.raises(InvalidArgument):
        ref.with_tag("no:colons")


# Strategies built from distribution/reference's grammar.
_alnum = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_separator = st.sampled_from([".", "_", "__", "-", "--"])
_component = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    _alnum,
    st.lists(st.tuples(_separator, _alnum), max_size=2),
)
_path = st.lists(_component, min_size=1, max_size=3).map("/".join)
_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
_domain = st.one_of(
    st.just("localhost"),
    st.builds(lambda a, b: f"{a}.{b}", _label, _label),
    st.builds(lambda h, p: f"{h}:{p}", _label, st.integers(1, 65535)),
)
_tag = st.from_regex(r"[\w][\w.-]{0,20}", fullmatch=True).filter(str.isascii)
_digest = st.from_regex(r"[a-f0-9]{64}", fullmatch=True).map(lambda h: "sha256:" + h)


@st.composite
def reference_texts(draw: st.DrawFn) -> str:
    text = draw(_path)
    if draw(st.booleans()):
        text = f"{draw(_domain)}/{text}"
    else:
        # Without a registry, a first component with '.' would be read as a host (Docker's rule).
        assume("/" not in text or "." not in text.split("/", 1)[0])
    if draw(st.booleans()):
        text += ":" + draw(_tag)
    if draw(st.booleans()):
        text += "@" + draw(_digest)
    return text


@given(reference_texts())
def test_round_trip(text: str) -> None:
    ref = parse_reference(text)
    assert parse_reference(str(ref)) == ref
    assert parse_reference(ref.familiar()) == ref


@given(st.text(max_size=80))
def test_parser_raises_only_invalid_argument(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidArgument as exc:
        assert "\n" not in str(exc)
    else:
        assert parse_reference(str(ref)) == ref


@given(st.text("abcAB09:/@._-", max_size=30))
def test_parser_on_reference_like_noise(text: str) -> None:
    try:
        ref = parse_reference(text)
    except InvalidArgument:
        return
    assert parse_reference(str(ref)) == ref
