"""ADD of a URL (a local HTTP server), and a built image saved and read by skopeo."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root


@pytest.fixture
def http_root(scratch: Path) -> Iterator[tuple[Path, str]]:
    """A directory served on 127.0.0.1 at a free port; yields (dir, base URL)."""
    served = scratch / "www"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_add_url_downloads_the_file(dy: Dockyard, ctx: Path, http_root: tuple[Path, str]) -> None:
    served, base = http_root
    (served / "payload.txt").write_text("downloaded\n")
    write(ctx, {"Dockerfile": f"FROM busybox\nADD {base}/payload.txt /dl/\n"})
    done = dy("build", "-t", "url:1", str(ctx))
    assert done.returncode == 0, done.stderr
    out = dy("run", "--rm", "url:1", "sh", "-c", "cat /dl/payload.txt; stat -c %a /dl/payload.txt")
    assert out.stdout.splitlines() == ["downloaded", "600"]
    again = dy("build", str(ctx))
    assert "Using cache" in again.stdout
    (served / "payload.txt").write_text("changed\n")
    changed = dy("build", str(ctx))
    assert "Using cache" not in changed.stdout


def test_missing_url_is_an_error(dy: Dockyard, ctx: Path, http_root: tuple[Path, str]) -> None:
    _, base = http_root
    write(ctx, {"Dockerfile": f"FROM busybox\nADD {base}/absent.txt /x\n"})
    done = dy("build", str(ctx))
    assert done.returncode == 125
    assert "HTTP 404" in done.stderr


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_saved_build_is_read_by_skopeo(dy: Dockyard, ctx: Path, scratch: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN echo hi > /hi\nLABEL built=yes\n"})
    dy("build", "-q", "-t", "saved:1", str(ctx), check=True)
    archive = scratch / "saved.tar"
    dy("save", "-o", str(archive), "saved:1", check=True)
    proc = subprocess.run(
        ["skopeo", "inspect", f"docker-archive:{archive}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"built": "yes"' in proc.stdout
