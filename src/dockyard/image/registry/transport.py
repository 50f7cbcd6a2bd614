"""The HTTP seam of the registry client: building the httpx client, translating its errors.

httpx is imported here only inside functions: the CLI imports the image layer on every start,
and most commands never talk to a registry.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dockyard.errors import Unavailable

if TYPE_CHECKING:
    import httpx

USER_AGENT = "dockyard/0.1"


def make_http_client(transport: httpx.BaseTransport | None, timeout: float) -> httpx.Client:
    """An httpx client over `transport` (the real network when None)."""
    import httpx

    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    )


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _is_tls(exc: BaseException) -> bool:
    # httpx wraps httpcore's error, which wraps the ssl module's: walk the chain.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_retryable(exc: BaseException) -> bool:
    """Whether `exc` is a dropped or stalled connection worth retrying (not a refusal or TLS)."""
    import httpx

    return isinstance(
        exc, httpx.ReadError | httpx.RemoteProtocolError | httpx.ReadTimeout | httpx.WriteError
    )


@contextmanager
def translate_errors(host: str) -> Iterator[None]:
    """Turn httpx transport errors into `Unavailable` naming `host` and the reason."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        if _is_tls(exc):
            raise Unavailable(
                f"cannot reach registry {host} over HTTPS ({_reason(exc)}): if it serves "
                "plain HTTP, list it in insecure-registries of registries.json"
            ) from exc
        raise Unavailable(f"cannot reach registry {host}: {_reason(exc)}") from exc
