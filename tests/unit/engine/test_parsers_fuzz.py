"""Every flag parser, fed arbitrary user text, returns or raises InvalidArgument, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.engine import options as o
from dockyard.engine.envfile import parse_env_args, parse_env_file
from dockyard.engine.names import validate_name
from dockyard.errors import InvalidArgument

PARSERS: list[Callable[[str], object]] = [
    o.parse_bytes,
    o.parse_cpus,
    o.parse_ulimit,
    o.parse_restart,
    o.parse_duration,
    o.parse_signal,
    o.parse_cpuset,
    o.parse_user,
    o.parse_security_opt,
    o.parse_network,
    o.parse_label,
    o.parse_add_host,
    o.parse_publish,
    o.parse_expose,
    o.parse_volume,
    o.parse_mount,
    o.parse_tmpfs,
    o.parse_device,
    o.parse_sysctl,
    lambda t: o.parse_int(t, "--pids-limit", minimum=-1),
    lambda t: o.parse_bytes(t, "--memory-swap", allow_unlimited=True),
    lambda t: o.normalize_capabilities([t]),
    lambda t: parse_env_args([t], {}),
    lambda t: parse_env_file(t.encode("utf-8", "surrogatepass"), "f", {}),
    validate_name,
]

# Text that looks like flag values: digits, separators, units and a little of everything else.
_flagish = st.text(alphabet="0123456789:/.-=,[]abcgkmsuxzAGKMTZ_ \t", max_size=30) | st.text(
    max_size=30
)


@pytest.mark.parametrize("parser", PARSERS)
@settings(max_examples=150, deadline=None)
@given(text=_flagish)
def test_parsers_only_raise_invalid_argument(parser: Callable[[str], object], text: str) -> None:
    try:
        parser(text)
    except InvalidArgument as e:
        assert "\n" not in str(e).strip("\n") or "\n" in text  # one line, unless echoing input


@given(
    st.sampled_from(["", "127.0.0.1", "[::1]"]),
    st.integers(0, 65535),
    st.integers(1, 65535),
    st.sampled_from(["", "/tcp", "/udp", "/sctp"]),
)
def test_publish_property(ip: str, host: int, ctr: int, proto: str) -> None:
    text = f"{ip}:{host}:{ctr}{proto}" if ip else f"{host}:{ctr}{proto}"
    (binding,) = o.parse_publish(text)
    assert binding == o.PortBinding(ip.strip("[]"), host, ctr, (proto[1:] or "tcp"))  # type: ignore[arg-type]


@given(
    st.from_regex(r"/[a-z0-9_]{1,8}(/[a-z0-9_.-]{1,8}){0,3}", fullmatch=True),
    st.from_regex(r"/[a-z0-9_]{1,8}(/[a-z0-9_.-]{1,8}){0,3}", fullmatch=True),
    st.sampled_from(["", ":ro", ":rw", ":ro,rslave", ":z"]),
)
def test_volume_property(source: str, target: str, mode: str) -> None:
    spec = o.parse_volume(f"{source}:{target}{mode}")
    assert (spec.type, spec.source, spec.target) == ("bind", source, target)
    assert spec.readonly == mode.startswith(":ro")
