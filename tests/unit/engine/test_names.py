"""Container names and ids."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.engine.names import (
    ADJECTIVES,
    SURNAMES,
    is_full_id,
    new_id,
    random_name,
    short_id,
    validate_name,
)
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize("name", ["web", "db_1", "a.b-c", "/web", "0x"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name.removeprefix("/")


@pytest.mark.parametrize("name", ["x y", "a", "", "_x", "-x", "x/y", "名前", "x:y"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        validate_name(name)
    assert str(e.value) == (
        f'Invalid container name ("{name}"), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'
    )


def test_ids() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    for cid in ids:
        assert is_full_id(cid)
        assert short_id(cid) == cid[:12]
    assert not is_full_id("abc")


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=3))
def test_random_names_are_valid(seed: int, retry: int) -> None:
    name = random_name(retry, random.Random(seed))
    assert validate_name(name) == name
    adjective, _, rest = name.partition("_")
    assert adjective in ADJECTIVES
    assert rest.rstrip("0123456789") in SURNAMES
    assert name != "boring_wozniak"
    assert (rest != rest.rstrip("0123456789")) == (retry > 0)


def test_lists_are_big_enough() -> None:
    assert len(ADJECTIVES) >= 50 and len(SURNAMES) >= 50
