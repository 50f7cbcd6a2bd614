"""Interpolation against the Compose specification's documented forms (interpolation.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.compose.errors import ComposeError, Location
from dockyard.compose.interpolate import SourceKind, Variable, interpolate, substitute
from dockyard.compose.source import parse_yaml

from .helpers import shell

ENV = {
    **shell(SET="value", EMPTY="", FOO="foo"),
    "DOT": Variable("from-dotenv", SourceKind.DOTENV, Location(".env", 3)),
}


def expand(text: str) -> str:
    return substitute(text, ENV.get)[0]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$SET", "value"),
        ("${SET}", "value"),
        ("pre-${SET}-post", "pre-value-post"),
        ("$SET.txt", "value.txt"),
        # ${VAR:-default}: VAR if set and non-empty, otherwise default.
        ("${SET:-default}", "value"),
        ("${EMPTY:-default}", "default"),
        ("${UNSET:-default}", "default"),
        # ${VAR-default}: VAR if set, otherwise default.
        ("${EMPTY-default}", ""),
        ("${UNSET-default}", "default"),
        # ${VAR:+replacement}: replacement if VAR is set and non-empty, otherwise empty.
        ("${SET:+replacement}", "replacement"),
        ("${EMPTY:+replacement}", ""),
        ("${UNSET:+replacement}", ""),
        # ${VAR+replacement}: replacement if VAR is set, otherwise empty.
        ("${EMPTY+replacement}", "replacement"),
        ("${UNSET+replacement}", ""),
        # Required forms pass through when set.
        ("${SET:?must be set}", "value"),
        ("${EMPTY?must be set}", ""),
        # Nested (the spec's examples: ${VARIABLE:-${FOO}}, ${VARIABLE:-${FOO:-default}}).
        ("${UNSET:-${FOO}}", "foo"),
        ("${UNSET:-${ALSO_UNSET:-default}}", "default"),
        ("${SET:-${UNSET:?never evaluated}}", "value"),
        ("${UNSET:-a-${FOO}-b}", "a-foo-b"),
        # $$ is a literal dollar sign, never interpolated.
        ("$$VAR_NOT_INTERPOLATED_BY_COMPOSE", "$VAR_NOT_INTERPOLATED_BY_COMPOSE"),
        ("$${SET}", "${SET}"),
        ("${UNSET:-$$}", "$"),
        # A dollar sign that starts no variable stays as it is.
        ("cost: 5$", "cost: 5$"),
        ("$ 5", "$ 5"),
        ("$1", "$1"),
        ("no variables", "no variables"),
        ("", ""),
    ],
)
def test_documented_forms(template: str, expected: str) -> None:
    assert expand(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${UNSET:?set it please}", "required variable UNSET is missing a value: set it please"),
        ("${EMPTY:?not empty}", "required variable EMPTY is missing a value: not empty"),
        ("${UNSET?err}", "required variable UNSET is missing a value: err"),
        ("${UNSET:?}", "required variable UNSET is missing a value: UNSET must be set"),
        ("${UNSET?$FOO is needed}", "missing a value: foo is needed"),
    ],
)
def test_required_variables(template: str, message: str) -> None:
    with pytest.raises(ComposeError, match=message):
        expand(template)


@pytest.mark.parametrize(
    "template", ["${", "${SET", "${}", "${1X}", "${SET:x}", "${SET!}", "a ${B"]
)
def test_invalid_templates(template: str) -> None:
    with pytest.raises(ComposeError, match="invalid interpolation format"):
        expand(template)


def test_substitutions_record_their_source() -> None:
    _, records = substitute("${SET} ${DOT} ${UNSET:-d} ${UNSET2} ${SET:+alt}", ENV.get)
    kinds = [(r.variable, r.value, r.kind) for r in records]
    assert kinds == [
        ("SET", "value", SourceKind.SHELL),
        ("DOT", "from-dotenv", SourceKind.DOTENV),
        ("UNSET", "d", SourceKind.DEFAULT),
        ("UNSET2", "", SourceKind.UNSET),
        ("SET", "alt", SourceKind.ALTERNATE),
    ]
    assert records[1].origin == Location(".env", 3)


def test_document_interpolation_keeps_keys_and_warns_for_unset() -> None:
    document = parse_yaml(
        "services:\n  web:\n    image: ${IMAGE}\n    labels:\n      $KEY: ${SET}\n", "c.yaml"
    )
    result = interpolate(document, ENV.get)
    web = result.document.data["services"]["web"]
    assert web == {"image": "", "labels": {"$KEY": "value"}}
    assert [str(w) for w in result.warnings] == [
        "c.yaml:3: services.web.image: variable IMAGE is not set, using an empty string; "
        "set it in the shell or .env"
    ]
    assert result.substitutions[1].location == Location("c.yaml", 5)


def test_required_error_names_file_line_and_path() -> None:
    document = parse_yaml("services:\n  web:\n    image: ${IMAGE:?pick an image}\n", "c.yaml")
    with pytest.raises(ComposeError) as caught:
        interpolate(document, ENV.get)
    assert str(caught.value) == (
        "c.yaml:3: services.web.image: required variable IMAGE is missing a value: pick an image"
    )


def test_non_string_values_are_untouched() -> None:
    document = parse_yaml("a: 1\nb: true\nc: null\nd: [1.5]\n", "c.yaml")
    assert interpolate(document, ENV.get).document.data == {
        "a": 1,
        "b": True,
        "c": None,
        "d": [1.5],
    }


@given(st.text())
def test_never_fails_with_anything_but_compose_error(text: str) -> None:
    try:
        result, _ = substitute(text, ENV.get)
    except ComposeError:
        return
    assert isinstance(result, str)


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("${}:-?+_AZ")))
def test_escaped_dollars_round_trip(text: str) -> None:
    assert substitute(text.replace("$", "$$"), ENV.get)[0] == text


@given(st.text(alphabet=st.characters(exclude_characters="$")))
def test_text_without_dollars_is_unchanged(text: str) -> None:
    assert substitute(text, ENV.get) == (text, [])
