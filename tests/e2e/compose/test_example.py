"""The README's main job: examples/web-cache comes up, answers on its port, and goes down."""

from __future__ import annotations

import shutil
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "web-cache"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def test_web_cache_example(
    dockyard: Dockyard, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = scratch / "web-cache"
    shutil.copytree(EXAMPLE, directory)
    port = free_port()
    monkeypatch.setenv("WEB_PORT", str(port))
    file = str(directory / "compose.yaml")
    try:
        dockyard("compose", "-f", file, "up", "-d", "--wait", "--wait-timeout", "30", check=True)
        assert "dockyard web-cache demo" in get(f"http://127.0.0.1:{port}/")
        assert get(f"http://127.0.0.1:{port}/cgi-bin/cache").startswith("cache hit number 1")
        ps = dockyard.json("compose", "-f", file, "ps", "--format", "json")
        assert {c["Name"] for c in ps} == {"web-cache-front", "web-cache-cache-1"}
        # down without -v keeps the hit count in the named volume
        dockyard("compose", "-f", file, "down", check=True)
        dockyard("compose", "-f", file, "up", "-d", "--wait", check=True)
        assert get(f"http://127.0.0.1:{port}/cgi-bin/cache").startswith("cache hit number 2")
    finally:
        dockyard("compose", "-f", file, "down", "-v", check=True)
    assert "web-cache_cache-data" not in dockyard("volume", "ls", "-q").stdout
