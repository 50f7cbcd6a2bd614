"""Whatever a compose file holds, loading ends in a Project or a one-line compose error."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.compose.errors import ComposeError

from .helpers import project

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(["", "x", "80:80", "1m", "/a:/b", "a=b", "true", "512m", "${X:-1}", "db"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["target", "source", "type", "condition", "soft", "hard", "test", "db"]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "image", "command", "environment", "ports", "volumes", "networks", "depends_on",
        "healthcheck", "restart", "ulimits", "mem_limit", "cpus", "deploy", "extra_hosts",
        "secrets", "build", "logging", "tmpfs", "scale", "read_only", "links", "expose",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_any_service_loads_or_fails_with_a_compose_error(service: dict[str, object]) -> None:
    text = yaml.safe_dump({"services": {"web": service, "db": {"image": "x"}}})
    try:
        project(text)
    except ComposeError as exc:
        assert "\n" not in str(exc)
