"""Image references in Docker's grammar (distribution/reference), normalised as Docker does.

`busybox` is `docker.io/library/busybox:latest`; `host:5000/ns/name@sha256:…` names a registry.
A `Reference` is always fully qualified; `familiar()` gives back the short form Docker prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.errors import InvalidArgument
from dockyard.oci.image_spec import validate_digest

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_NAMESPACE = "library"
DEFAULT_TAG = "latest"
NAME_MAX = 255

# distribution/reference regexp.go, piece by piece.
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_HEX_ID = re.compile(r"[a-f0-9]{64}")


@dataclass(frozen=True)
class Reference:
    """A fully qualified image reference: registry domain, repository path, tag and/or digest."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The repository name with its domain, e.g. `docker.io/library/busybox`."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def familiar(self) -> str:
        """The short form Docker shows: `busybox:latest`, `user/app:1`, `host:5000/x:y`."""
        if self.domain == DEFAULT_DOMAIN:
            path = self.path.removeprefix(OFFICIAL_NAMESPACE + "/")
            # `library/a/b` is not the official `a/b`: keep the namespace when it is ambiguous.
            name = path if "/" not in path else self.path
        else:
            name = self.name
        text = name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def object(self) -> str:
        """What /v2/<name>/manifests/ is asked for: the digest if any, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        """This repository with `tag` and no digest."""
        if not _TAG.fullmatch(tag):
            raise InvalidArgument(f"invalid tag {tag!r}: use letters, digits, '_', '.' and '-'")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        """This repository pinned to `digest` (the tag is dropped)."""
        return Reference(self.domain, self.path, None, validate_digest(digest))


def _bad(text: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"invalid reference {text!r}: {problem}")


def _split_domain(name: str) -> tuple[str, str]:
    # Docker treats the first component as a registry only when it looks like a host
    # (has '.' or ':', is localhost, or has upper case); `user/app` is a Docker Hub repository.
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    return domain, path


def parse_reference(text: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalise `text`; with `default_tag`, a bare name gets the tag `latest`."""
    if not text:
        raise InvalidArgument("empty image reference: give a name such as busybox:latest")
    if any(c.isspace() for c in text):
        raise _bad(text, "contains white space")
    remainder, at, digest = text.partition("@")
    if at:
        if "@" in digest:
            raise _bad(text, "more than one '@'")
        try:
            validate_digest(digest)
        except InvalidArgument as exc:
            raise _bad(text, str(exc)) from None
    # A ':' after the last '/' separates the tag; one before it is a registry port.
    tag: str | None = None
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise _bad(text, f"invalid tag {tag!r}: use up to 128 letters, digits, '_', '.', '-'")
    if not remainder:
        raise _bad(text, "no repository name")
    if not at and tag is None and _HEX_ID.fullmatch(remainder):
        raise _bad(text, "a 64-hex-digit string is an image ID, not a repository name")
    domain, path = _split_domain(remainder)
    if domain != DEFAULT_DOMAIN and not _DOMAIN.fullmatch(domain):
        raise _bad(text, f"invalid registry host {domain!r}")
    for component in path.split("/"):
        if ":" in component:
            raise _bad(text, "too many ':' (expected name[:tag][@digest])")
        if component.lower() != component:
            raise _bad(text, "repository name must be lowercase")
        if not _PATH_COMPONENT.fullmatch(component):
            raise _bad(
                text,
                f"invalid repository name component {component!r}: use a-z, 0-9 and "
                "single '.', '_', '__' or '-' separators",
            )
    if len(domain) + 1 + len(path) > NAME_MAX:
        raise _bad(text, f"repository name longer than {NAME_MAX} characters")
    if tag is None and not at and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest if at else None)
