"""Registry credentials in Docker's `config.json` format (`auths` with a base64 `auth`).

Only inline `auths` entries are read and written; credential helpers (`credsStore`,
`credHelpers`) are left untouched in the file but not consulted.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.image.reference import DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN

# Docker stores Docker Hub credentials under its v1 index URL, not under docker.io.
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or token) for one registry."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<hidden>)"


def default_docker_config() -> Path:
    """`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`."""
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def auth_key(registry: str) -> str:
    """The key of `registry` in `auths` (Docker Hub's is its legacy index URL)."""
    if registry in (DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, "registry-1.docker.io"):
        return DOCKER_HUB_AUTH_KEY
    return registry


def _normalize_key(key: str) -> str:
    # Docker also accepts keys written as URLs (`https://host/v1/`); compare on the host.
    host = key.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return auth_key(host)


class CredentialStore:
    """Reads and writes the `auths` section of a Docker `config.json` at an injectable path."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_docker_config()

    def _load(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidArgument(f"{self.path}: not valid JSON ({exc}): fix the file") from None
        if not isinstance(doc, dict):
            raise InvalidArgument(f"{self.path}: expected a JSON object: fix the file")
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write-then-rename so a crash never leaves a half-written file with secrets in it.
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, indent="\t")
                f.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise

    def get(self, registry: str) -> Credentials | None:
        """The stored credentials for `registry`, or None."""
        auths = self._load().get("auths")
        if not isinstance(auths, dict):
            return None
        want = auth_key(registry)
        for key, entry in auths.items():
            if _normalize_key(key) != want or not isinstance(entry, dict):
                continue
            encoded = entry.get("auth")
            if not isinstance(encoded, str) or not encoded:
                return None
            try:
                decoded = base64.b64decode(encoded, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise InvalidArgument(
                    f"{self.path}: the auth of {key} is not base64 user:password: "
                    f"run `dockyard login {registry}` again"
                ) from None
            user, sep, password = decoded.partition(":")
            if not sep:
                raise InvalidArgument(
                    f"{self.path}: the auth of {key} has no ':': "
                    f"run `dockyard login {registry}` again"
                )
            return Credentials(user, password)
        return None

    def store(self, registry: str, credentials: Credentials) -> None:
        """Save `credentials` for `registry`, keeping every other key of the file."""
        doc = self._load()
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            auths = doc["auths"] = {}
        token = f"{credentials.username}:{credentials.password}".encode()
        auths[auth_key(registry)] = {"auth": base64.b64encode(token).decode()}
        self._save(doc)

    def erase(self, registry: str) -> bool:
        """Forget the credentials of `registry`; False if there were none."""
        doc = self._load()
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return False
        want = auth_key(registry)
        keys = [key for key in auths if _normalize_key(key) == want]
        for key in keys:
            del auths[key]
        if keys:
            self._save(doc)
        return bool(keys)
