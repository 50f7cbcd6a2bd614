"""ImageState.latest_created: the image's `created` is its newest history time."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from dockyard.build.steps.state import ImageState


def _state(*times: object) -> ImageState:
    return ImageState(key="k", history=tuple({"created": t, "created_by": "x"} for t in times))


def test_no_history_has_no_time() -> None:
    assert ImageState(key="scratch").latest_created() is None


def test_the_newest_wins_whatever_the_order_and_format() -> None:
    state = _state(
        "2024-05-01T10:00:00.123456789Z",  # a base image's Go time, nanoseconds
        "2026-11-28T16:00:00Z",
        "2026-11-28T17:30:00+02:00",  # 15:30 UTC: older than the one before
        "2025-01-01T00:00:00",  # no zone: taken as UTC
    )
    assert state.latest_created() == "2026-11-28T16:00:00Z"


def test_unreadable_times_are_skipped() -> None:
    state = _state("yesterday", None, "2020-01-01T00:00:00Z")
    assert state.latest_created() == "2020-01-01T00:00:00Z"
    assert _state("never").latest_created() is None


@given(
    st.lists(
        st.datetimes(
            min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(9999, 1, 1)
        ),
        min_size=1,
    )
)
def test_latest_is_the_maximum(times: list[datetime.datetime]) -> None:
    texts = [t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for t in times]
    assert _state(*texts).latest_created() == max(texts)
