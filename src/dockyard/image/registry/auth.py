"""Registry authentication: `WWW-Authenticate` challenges, Basic auth and the Bearer token flow.

The token flow is distribution's `docs/spec/auth/token.md`: on a 401 with
`Bearer realm=…,service=…,scope=…`, GET the realm with `service` and one `scope` per
repository action (with Basic credentials when we have them) and retry with the token.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockyard.errors import Unavailable
from dockyard.image.registry.credentials import Credentials
from dockyard.image.registry.errors import Unauthorized

if TYPE_CHECKING:
    import httpx

# RFC 7235: auth-param = token "=" ( token / quoted-string ).
_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')
_SCHEME = re.compile(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+|$)")
# Tokens without `expires_in` live 60 s (token.md); refresh a little before the end.
DEFAULT_TOKEN_LIFETIME = 60.0
EXPIRY_MARGIN = 5.0

CredentialLookup = Callable[[str], Credentials | None]


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header: a lower-case scheme and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a `WWW-Authenticate` value (one or more challenges) into `Challenge`s."""
    challenges: list[Challenge] = []
    pos = 0
    while pos < len(header):
        scheme = _SCHEME.match(header, pos)
        if not scheme:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        while pos < len(header):
            param = _PARAM.match(header, pos)
            if not param:
                break
            value = param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[param.group(1).lower()] = value
            pos = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
        while pos < len(header) and header[pos] in ", ":
            pos += 1
    return challenges


def repository_scope(path: str, *actions: str) -> str:
    """The token scope for actions on a repository, e.g. `repository:library/busybox:pull`."""
    return f"repository:{path}:{','.join(actions)}"


def basic_header(credentials: Credentials) -> str:
    """The `Authorization` value for Basic auth."""
    token = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(token).decode()


def login_hint(registry: str) -> str:
    """The one command that fixes an authentication problem with `registry`."""
    return f"run `dockyard login {registry}`"


class Authorizer:
    """Answers registry challenges and remembers the result per host and scope set."""

    def __init__(
        self, credentials: CredentialLookup, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, frozenset[str]], tuple[str, float]] = {}

    def credentials(self, key: str) -> Credentials | None:
        """The credentials this authorizer would send to registry `key`."""
        return self._credentials(key)

    def cached(
        self, client: httpx.Client, host: str, key: str, scopes: Iterable[str]
    ) -> str | None:
        """An `Authorization` value for a request to `host`, if the host challenged us before."""
        challenge = self._challenges.get(host)
        if challenge is None:
            return None
        wanted = frozenset(scopes)
        if challenge.scheme == "bearer":
            token = self._tokens.get((host, wanted))
            if token and token[1] > self._clock():
                return token[0]
        return self._answer(client, host, key, challenge, wanted)

    def authorize(
        self, client: httpx.Client, host: str, key: str, header: str, scopes: Iterable[str]
    ) -> str:
        """Answer the `WWW-Authenticate` `header` of a 401; `key` names the credentials."""
        challenges = {c.scheme: c for c in parse_challenges(header)}
        challenge = challenges.get("bearer") or challenges.get("basic")
        if challenge is None:
            raise Unavailable(
                f"registry {host} asks for unsupported authentication {header!r}: "
                "use a registry with Basic or Bearer token auth"
            )
        self._challenges[host] = challenge
        wanted = frozenset(scopes)
        # The registry's own scope says what this request needs (e.g. push on an upload).
        if challenge.scheme == "bearer" and (scope := challenge.params.get("scope")):
            wanted |= set(scope.split(" "))
        return self._answer(client, host, key, challenge, wanted)

    def _answer(
        self,
        client: httpx.Client,
        host: str,
        key: str,
        challenge: Challenge,
        scopes: frozenset[str],
    ) -> str:
        credentials = self._credentials(key)
        if challenge.scheme == "basic":
            if credentials is None:
                raise Unauthorized(f"authentication required for {key}: {login_hint(key)}")
            return basic_header(credentials)
        value, lifetime = self._fetch_token(client, key, challenge, scopes, credentials)
        self._tokens[(host, scopes)] = (value, self._clock() + lifetime - EXPIRY_MARGIN)
        return value

    def _fetch_token(
        self,
        client: httpx.Client,
        key: str,
        challenge: Challenge,
        scopes: frozenset[str],
        credentials: Credentials | None,
    ) -> tuple[str, float]:
        from dockyard.image.registry.transport import translate_errors

        realm = challenge.params.get("realm")
        if not realm:
            raise Unavailable(f"registry {key} sent a Bearer challenge without a realm")
        params: list[tuple[str, str | int | float | bool | None]] = []
        if service := challenge.params.get("service"):
            params.append(("service", service))
        params.extend(("scope", scope) for scope in sorted(scopes))
        headers = {"Authorization": basic_header(credentials)} if credentials else {}
        with translate_errors(realm):
            response = client.get(realm, params=params, headers=headers)
        if response.status_code in (401, 403):
            if credentials is None:
                raise Unauthorized(f"authentication required for {key}: {login_hint(key)}")
            raise Unauthorized(f"wrong credentials for {key}: {login_hint(key)}")
        if response.status_code != 200:
            raise Unavailable(
                f"token server {realm} for {key} answered {response.status_code}: try again later"
            )
        try:
            body = response.json()
        except ValueError:
            raise Unavailable(f"token server {realm} for {key} sent no JSON") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise Unavailable(f"token server {realm} for {key} sent no token")
        expires = body.get("expires_in")
        lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else 0.0
        return "Bearer " + token, max(lifetime, DEFAULT_TOKEN_LIFETIME)
