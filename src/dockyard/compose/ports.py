"""`ports:` short and long syntax → `PortMapping`s (Compose spec, services.ports).

Short: `[HOST_IP:][HOST[-END]:]CONTAINER[-END][/PROTOCOL]`; equal-length ranges pair up one to
one, a host range with one container port publishes on any free port of the range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.compose.model import PortMapping, PortRange, Protocol

_MAX_PORT = 65535


def _show(spec: object) -> str:
    if isinstance(spec, Mapping):
        return "{" + ", ".join(f"{k}: {v}" for k, v in spec.items()) + "}"
    return f'"{spec}"'


def _protocol(text: str, spec: object) -> Protocol:
    try:
        return Protocol(text.lower())
    except ValueError:
        raise ValueError(f"invalid port {_show(spec)}: protocol must be tcp, udp or sctp") from None


def _range(text: str, spec: object, *, allow_zero: bool = False) -> PortRange:
    low, dash, high = text.partition("-")
    try:
        start = int(low)
        end = int(high) if dash else start
    except ValueError:
        raise ValueError(f"invalid port {_show(spec)}: {text!r} is not a port number") from None
    lowest = 0 if allow_zero else 1
    if not (lowest <= start <= _MAX_PORT and lowest <= end <= _MAX_PORT):
        raise ValueError(f"invalid port {_show(spec)}: ports are 1-65535")
    if end < start:
        raise ValueError(f"invalid port {_show(spec)}: range {text} ends before it starts")
    return PortRange(start, end)


def parse_short(spec: str | int) -> list[PortMapping]:
    """Expand one short-syntax entry (`"127.0.0.1:8080-8081:80-81/udp"`) into mappings."""
    text = str(spec).strip()
    body, slash, proto = text.partition("/")
    protocol = _protocol(proto, spec) if slash else Protocol.TCP
    parts = body.rsplit(":", 2)
    host_ip: str | None = None
    published_text = ""
    if len(parts) == 3:
        host_ip, published_text, target_text = parts
        host_ip = host_ip.strip("[]") or None
    elif len(parts) == 2:
        published_text, target_text = parts
    else:
        target_text = parts[0]
    target = _range(target_text, spec)
    if not published_text:
        return [
            PortMapping(port, None, host_ip, protocol)
            for port in range(target.start, target.end + 1)
        ]
    published = _range(published_text, spec, allow_zero=True)
    size = target.end - target.start
    if size == 0:
        return [PortMapping(target.start, published, host_ip, protocol)]
    if published.end - published.start != size:
        raise ValueError(f"invalid port {_show(spec)}: host and container ranges differ in length")
    return [
        PortMapping(
            target.start + i, PortRange(published.start + i, published.start + i), host_ip, protocol
        )
        for i in range(size + 1)
    ]


def parse_long(spec: Mapping[str, Any]) -> PortMapping:
    """One long-syntax entry (`{target: 80, published: "8080", protocol: udp}`)."""
    target_value = spec.get("target")
    if target_value is None:
        raise ValueError(f"invalid port {_show(spec)}: target is required")
    target = _range(str(target_value), dict(spec))
    if target.start != target.end:
        raise ValueError(f"invalid port {_show(spec)}: target must be one port")
    published_value = spec.get("published")
    published = (
        None
        if published_value in (None, "")
        else _range(str(published_value), dict(spec), allow_zero=True)
    )
    return PortMapping(
        target=target.start,
        published=published,
        host_ip=spec.get("host_ip") or None,
        protocol=_protocol(str(spec.get("protocol") or "tcp"), dict(spec)),
        name=spec.get("name"),
        app_protocol=spec.get("app_protocol"),
    )


def parse_port(spec: Any) -> list[PortMapping]:
    """Either syntax; raises ValueError with `invalid port "…"` on bad input."""
    if isinstance(spec, Mapping):
        return [parse_long(spec)]
    if isinstance(spec, str | int) and not isinstance(spec, bool):
        return parse_short(spec)
    raise ValueError(f"invalid port {_show(spec)}: write HOST:CONTAINER or a mapping")
