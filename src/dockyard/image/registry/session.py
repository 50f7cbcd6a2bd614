"""One registry conversation's plumbing: endpoints, auth challenges, status codes → errors.

`RegistrySession` owns the httpx client (over an injected transport), the credentials, the
registry configuration and the token cache; the verbs in `client.py` and `blobs.py` use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urljoin

from dockyard.errors import DockyardError, InvalidArgument, NotFound, Unavailable
from dockyard.image.reference import Reference
from dockyard.image.registry.auth import Authorizer, CredentialLookup, login_hint
from dockyard.image.registry.config import Endpoint, RegistryConfig
from dockyard.image.registry.credentials import CredentialStore
from dockyard.image.registry.errors import Unauthorized
from dockyard.image.registry.transport import make_http_client, translate_errors

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
# A request body: bytes, or a factory of chunk iterators so the body can be sent again after
# an auth challenge.
Body = bytes | Callable[[], Iterator[bytes]]


def _error_detail(response: httpx.Response) -> str:
    # distribution's error body: {"errors": [{"code": "...", "message": "...", "detail": ...}]}.
    try:
        first = response.json()["errors"][0]
        return f"{first['code']}: {first['message']}"
    except (ValueError, LookupError, TypeError):
        return response.reason_phrase or "no detail"


class RegistrySession:
    """The shared state of a registry client: HTTP pool, credentials, config, tokens."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None,
        credentials: CredentialStore,
        config: RegistryConfig,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = credentials
        self.config = config
        self._transport = transport
        self._timeout = timeout
        self._clock = clock
        self.auth = self.new_authorizer(credentials.get)
        self._http: httpx.Client | None = None

    def new_authorizer(self, lookup: CredentialLookup) -> Authorizer:
        """An authorizer with an empty token cache that takes credentials from `lookup`."""
        return Authorizer(lookup, self._clock)

    def reset_auth(self) -> None:
        """Forget cached tokens and challenges (after the stored credentials changed)."""
        self.auth = self.new_authorizer(self.store.get)

    def http(self) -> httpx.Client:
        """The httpx client, created on first use."""
        if self._http is None:
            self._http = make_http_client(self._transport, self._timeout)
        return self._http

    def close(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            self._http.close()
            self._http = None

    @staticmethod
    def key(endpoint: Endpoint, ref: Reference) -> str:
        """The credentials entry for `endpoint`: the registry's name, or a mirror's own host."""
        return endpoint.host if endpoint.mirror else ref.domain

    def upstream(self, domain: str) -> Endpoint:
        """The registry itself (never a mirror): where pushes and logins go."""
        return self.config.endpoints(domain, push=True)[-1]

    def each_endpoint(self, ref: Reference, call: Callable[[Endpoint], T]) -> T:
        """Run `call` on the mirrors of `ref`'s registry in order, then on the registry."""
        endpoints = self.config.endpoints(ref.domain)
        for endpoint in endpoints[:-1]:
            try:
                return call(endpoint)
            except DockyardError:
                continue  # a mirror that fails or lacks the content is skipped, as Docker does
        return call(endpoints[-1])

    def send(
        self,
        endpoint: Endpoint,
        key: str,
        method: str,
        url: str,
        *,
        scopes: Sequence[str],
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        body: Body | None = None,
        stream: bool = False,
        auth: Authorizer | None = None,
    ) -> httpx.Response:
        """Send one request, answering one auth challenge; `key` names the credentials."""
        import httpx

        client = self.http()
        auth = auth or self.auth
        # httpx replaces a URL's query with `params`; an upload Location's `_state` must stay.
        full_url = httpx.URL(urljoin(endpoint.base_url + "/", url))
        if params:
            full_url = full_url.copy_merge_params(dict(params))
        all_headers = dict(headers or {})
        if cached := auth.cached(client, endpoint.host, key, scopes):
            all_headers["Authorization"] = cached
        for attempt in range(2):
            content = body() if callable(body) else body
            request = client.build_request(method, full_url, headers=all_headers, content=content)
            with translate_errors(endpoint.host):
                response = client.send(request, stream=stream)
            if response.status_code != 401:
                return response
            response.close()
            challenge = response.headers.get("WWW-Authenticate")
            if attempt == 1 or not challenge:
                break
            all_headers["Authorization"] = auth.authorize(
                client, endpoint.host, key, challenge, scopes
            )
        if "Authorization" in all_headers and auth.credentials(key) is not None:
            raise Unauthorized(f"wrong credentials for {key}: {login_hint(key)}")
        raise Unauthorized(f"authentication required for {key}: {login_hint(key)}")

    @staticmethod
    def check(response: httpx.Response, endpoint: Endpoint, what: str) -> None:
        """Raise the dockyard error for a non-2xx `response` about `what`."""
        status = response.status_code
        if status < 300:
            return
        with translate_errors(endpoint.host):
            response.read()  # a streamed error response still carries the registry's reason
        detail = _error_detail(response)
        if status == 404:
            raise NotFound(f"{what} not found on {endpoint.host} ({detail})")
        if status == 403:
            raise Unauthorized(
                f"access to {what} denied by {endpoint.host} ({detail}): "
                f"{login_hint(endpoint.host)} with an account that may use it"
            )
        if status == 429:
            raise Unavailable(f"registry {endpoint.host} is rate limiting requests: retry later")
        if 400 <= status < 500:
            raise InvalidArgument(f"registry {endpoint.host} rejected {what}: {status} {detail}")
        raise Unavailable(f"registry {endpoint.host} failed on {what}: {status} {detail}")
