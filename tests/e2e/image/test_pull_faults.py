"""Faults during `dockyard pull`: a flipped byte, a truncated blob, a manifest that does not
match its digest, a dropped connection, and the CLI killed with SIGKILL mid-layer. Afterwards
no partial blob or layer is visible and the next pull succeeds."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dockyard.testing.registry import FaultyProxy, RunningRegistry, push_layout, run_registry

pytestmark = pytest.mark.root

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def dockyard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI on `root` with private Docker and registries configs."""
    environ = dict(
        os.environ,
        DOCKER_CONFIG=str(root.parent / "docker-config"),
        DOCKYARD_REGISTRIES_CONFIG=str(root.parent / "registries.json"),
    )
    return subprocess.run(
        [DOCKYARD, "--root", str(root), *args],
        check=False, capture_output=True, text=True, env=environ, stdin=subprocess.DEVNULL,
        timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def private_registry(test_base: Path, busybox_layout: Path) -> Iterator[RunningRegistry]:
    """A registry of this module's own, holding busybox as `e2e/busybox:latest`."""
    with run_registry(test_base / "fault-registry") as running:
        push_layout(busybox_layout, "latest", f"{running.host}/e2e/busybox:latest")
        yield running


def _layer(registry: RunningRegistry) -> tuple[str, Path]:
    """The busybox layer's digest and its data file in the registry's storage."""
    blobs = registry.storage / "docker/registry/v2/blobs/sha256"
    biggest = max(blobs.glob("*/*/data"), key=lambda p: p.stat().st_size)
    return "sha256:" + biggest.parent.name, biggest


def _assert_clean(root: Path, digest: str) -> None:
    """Nothing of the failed pull is visible: no blob, no layer, no image."""
    assert not (root / "content/blobs/sha256" / digest.split(":")[1]).exists()
    layers = root / "storage/layers"
    assert not layers.exists() or not any(layers.iterdir())
    assert _images(root) == ""


def _images(root: Path) -> str:
    proc = dockyard(root, "images", "-q")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _pull_ok(root: Path, ref: str) -> None:
    proc = dockyard(root, "pull", "-q", ref)
    assert proc.returncode == 0, proc.stderr
    assert _images(root) != ""
    assert not any((root / "content/ingest").iterdir())


@pytest.mark.parametrize("fault", ["flipped", "truncated"])
def test_corrupt_blob_is_refused_then_pull_succeeds(
    scratch: Path, private_registry: RunningRegistry, fault: str
) -> None:
    digest, data = _layer(private_registry)
    original = data.read_bytes()
    if fault == "flipped":
        middle = len(original) // 2
        data.write_bytes(original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1 :])
    else:
        data.write_bytes(original[: len(original) // 2])
    root = scratch / "root"
    ref = f"{private_registry.host}/e2e/busybox:latest"
    try:
        proc = dockyard(root, "pull", ref)
    finally:
        data.write_bytes(original)
    assert proc.returncode == 125
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("dockyard: ")
    _assert_clean(root, digest)
    _pull_ok(root, ref)


def test_manifest_not_matching_its_digest(scratch: Path, private_registry: RunningRegistry) -> None:
    root = scratch / "root"
    ref = f"{private_registry.host}/e2e/busybox:latest"
    digest = _ok_digest(root, ref)
    fresh = scratch / "fresh"
    with FaultyProxy(private_registry.host, corrupt_manifests=True) as proxy:
        proc = dockyard(fresh, "pull", f"{proxy.host}/e2e/busybox@{digest}")
    assert proc.returncode == 125
    assert f"but {digest} was asked for" in proc.stderr
    _assert_clean(fresh, _layer(private_registry)[0])
    _pull_ok(fresh, f"{private_registry.host}/e2e/busybox@{digest}")


def _ok_digest(root: Path, ref: str) -> str:
    proc = dockyard(root, "pull", ref)
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("Digest: ")]
    return line.removeprefix("Digest: ")


def test_dropped_connection_is_resumed(scratch: Path, private_registry: RunningRegistry) -> None:
    root = scratch / "root"
    with FaultyProxy(private_registry.host, drop_blob_after=100_000) as proxy:
        _pull_ok(root, f"{proxy.host}/e2e/busybox:latest")
    assert proxy.drops == 1 and proxy.range_requests


class StallingProxy:
    """Forwards to a registry, but sends only half of each large blob, then waits for release."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.stalled = threading.Event()
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                try:
                    conn.request("GET", self.path, headers=dict(self.headers.items()))
                    upstream = conn.getresponse()
                    body = upstream.read()
                    self.send_response(upstream.status)
                    for key, value in upstream.getheaders():
                        if key.lower() not in ("connection", "transfer-encoding"):
                            self.send_header(key, value)
                    self.end_headers()
                    if "/blobs/" in self.path and len(body) > 200_000:
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        proxy.stalled.set()
                        proxy.release.wait(30)
                        self.close_connection = True
                        return
                    self.wfile.write(body)
                finally:
                    conn.close()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StallingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def test_sigkill_mid_pull_leaves_nothing_visible(
    scratch: Path, private_registry: RunningRegistry
) -> None:
    root = scratch / "root"
    env = dict(
        os.environ,
        DOCKER_CONFIG=str(scratch / "docker-config"),
        DOCKYARD_REGISTRIES_CONFIG=str(scratch / "registries.json"),
    )
    with StallingProxy(private_registry.host) as proxy:
        proc = subprocess.Popen(
            [DOCKYARD, "--root", str(root), "pull", f"{proxy.host}/e2e/busybox:latest"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            assert proxy.stalled.wait(30), "the pull never reached the layer"
            ingest = root / "content/ingest"
            # Wait until the half layer sits in the ingest area: the kill lands mid-blob.
            for _ in range(300):
                if any(p.stat().st_size > 0 for p in ingest.iterdir()):
                    break
                threading.Event().wait(0.01)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    digest, _ = _layer(private_registry)
    assert any(ingest.iterdir())  # the partial download, invisible to the store
    _assert_clean(root, digest)
    _pull_ok(root, f"{private_registry.host}/e2e/busybox:latest")
    assert not any((root / "storage/tmp").iterdir())
