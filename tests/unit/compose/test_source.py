"""YAML loading: YAML 1.2 scalars as Compose reads them, line numbers, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.compose.errors import ComposeError, ComposeFileNotFound, Location
from dockyard.compose.source import Override, Reset, load_yaml, parse_yaml


def test_yaml_12_scalars() -> None:
    data = parse_yaml(
        "ports: [22:22, 80]\n"
        "flags: [yes, no, on, off, true, False]\n"
        "numbers: [017, 0o17, 0x1f, 1.5, 1e3, 08]\n"
        "date: 2001-12-14\n"
        "empty:\n",
        "c.yaml",
    ).data
    assert data == {
        "ports": ["22:22", 80],
        "flags": ["yes", "no", "on", "off", True, False],
        "numbers": [15, 15, 31, 1.5, 1000.0, 8],
        "date": "2001-12-14",
        "empty": None,
    }


def test_lines_of_every_key_path() -> None:
    doc = parse_yaml(
        "services:\n  web:\n    image: x\n    ports:\n      - 80\n      - 81\n", "c.yaml"
    )
    assert doc.lines[("services", "web", "image")] == 3
    assert doc.lines[("services", "web", "ports", 1)] == 6
    assert doc.locate(("services", "web", "ports", 1, "target")) == Location("c.yaml", 6)
    assert doc.locate(("nowhere",)) is None


def test_anchors_and_merge_keys() -> None:
    data = parse_yaml(
        "x-base: &base\n  image: busybox\n  init: true\n"
        "services:\n  web:\n    <<: *base\n    init: false\n",
        "c.yaml",
    ).data
    assert data["services"]["web"] == {"image": "busybox", "init": False}


def test_reset_and_override_tags() -> None:
    data = parse_yaml("a: !reset []\nb: !override [1]\nc: !override {x: 1}\n", "c.yaml").data
    assert data == {"a": Reset(), "b": Override([1]), "c": Override({"x": 1})}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("services:\n  web:\n    image: [\n", 4),
        ("services:\n  web:\n  image: x\n   bad: y\n", 4),
        ("a: 'unterminated\n", 2),
        ("services:\n\tweb: {}\n", 2),
    ],
)
def test_invalid_yaml_is_one_line_with_file_and_line(text: str, line: int) -> None:
    with pytest.raises(ComposeError) as caught:
        parse_yaml(text, "compose.yaml")
    message = str(caught.value)
    assert message.startswith(f"compose.yaml:{line}: invalid YAML: ")
    assert "\n" not in message


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(ComposeError, match=r"^c\.yaml:3: services: duplicate key 'web'"):
        parse_yaml("services:\n  web: {}\n  web: {}\n", "c.yaml")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ComposeError, match="top level must be a mapping"):
        parse_yaml("- a\n- b\n", "c.yaml")


def test_empty_document() -> None:
    assert parse_yaml("", "c.yaml").data == {}


def test_missing_file(scratch: Path) -> None:
    with pytest.raises(ComposeFileNotFound, match="does not exist"):
        load_yaml(scratch / "compose.yaml")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab: -[]{}'\"\n\t#&*!<>|?%@`,0x.~")), max_size=40))
def test_arbitrary_text_gives_a_document_or_a_compose_error(text: str) -> None:
    try:
        parse_yaml(text, "c.yaml")
    except ComposeError as exc:
        assert "\n" not in str(exc)
