"""ADD of a URL: download the file next to the step, named as the URL's last path element."""

from __future__ import annotations

import email.utils
import hashlib
import os
import posixpath
import urllib.parse
from pathlib import Path

from dockyard.errors import InvalidArgument, Unavailable


def url_name(url: str) -> str:
    """The file name ADD gives a download: the URL path's last element."""
    name = posixpath.basename(urllib.parse.urlsplit(url).path)
    if not name or name in (".", ".."):
        raise InvalidArgument(f"ADD {url}: cannot take a file name from the URL; end DEST with one")
    return name


def download(url: str, directory: Path, checksum: str | None = None) -> str:
    """Fetch `url` into `directory`; returns the file's name. Verifies `--checksum` if given."""
    import httpx

    name = url_name(url)
    target = directory / name
    sha = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise Unavailable(f"ADD {url}: HTTP {response.status_code}; check the URL")
            with open(target, "wb") as out:
                for chunk in response.iter_bytes():
                    sha.update(chunk)
                    out.write(chunk)
            modified = response.headers.get("last-modified")
    except httpx.HTTPError as exc:
        raise Unavailable(f"ADD {url}: {exc}; check the URL and the network") from None
    if checksum is not None and checksum != "sha256:" + sha.hexdigest():
        raise InvalidArgument(f"ADD {url}: checksum mismatch: got sha256:{sha.hexdigest()}")
    if modified:
        parsed = email.utils.parsedate_to_datetime(modified)
        os.utime(target, (parsed.timestamp(), parsed.timestamp()))
    return name
