"""A real OCI registry for tests: Debian's `docker-registry` on 127.0.0.1, and a faulty proxy.

`run_registry()` writes a config (storage in a given directory, optional htpasswd auth), starts
`docker-registry serve` on a free port and stops it on exit. `FaultyProxy` sits in front of a
registry and breaks responses on purpose (drops a blob mid-stream once, corrupts manifests).
`make_oci_layout()` + `push_layout()` put a root file system into a registry (umoci, skopeo);
`TokenIssuer` serves Bearer tokens; `FakeRegistry` is an in-memory registry for MockTransport.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from dockyard.errors import Unavailable

if TYPE_CHECKING:
    import httpx

REGISTRY_BINARY = "/usr/bin/docker-registry"
START_TIMEOUT = 10.0
# Headers the proxy must not copy: they describe one hop, not the message.
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass(frozen=True)
class RunningRegistry:
    """A registry serving on `host` (127.0.0.1:port) with its storage under `storage`."""

    host: str
    storage: Path
    users: Mapping[str, str]

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:5000`."""
        return f"http://{self.host}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_htpasswd(path: Path, users: Mapping[str, str]) -> None:
    """Write an htpasswd file with bcrypt hashes (the only kind docker-registry accepts)."""
    import bcrypt

    lines = [
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
        for user, password in users.items()
    ]
    path.write_text("".join(lines))


def _config(port: int, storage: Path, auth: dict[str, object] | None) -> str:
    # JSON is YAML: no YAML writer needed. Upload purging off: no background work in tests.
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "dockyard-test"},
    }
    if auth:
        config["auth"] = auth
    return json.dumps(config)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"docker-registry exited with {process.returncode} on start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise Unavailable(f"docker-registry did not listen on 127.0.0.1:{port} within {START_TIMEOUT}s")


@contextmanager
def run_registry(
    workdir: Path,
    users: Mapping[str, str] | None = None,
    *,
    token_issuer: TokenIssuer | None = None,
) -> Iterator[RunningRegistry]:
    """Run `docker-registry` on 127.0.0.1 with storage in `workdir`.

    With `users` it asks for htpasswd Basic auth; with a running `token_issuer` it asks for
    Bearer tokens from that issuer instead (whose own users then apply).
    """
    if not Path(REGISTRY_BINARY).exists():
        raise Unavailable(
            "docker-registry not found: install it with `apt-get install docker-registry`"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "storage"
    storage.mkdir(exist_ok=True)
    auth: dict[str, object] | None = None
    if token_issuer is not None:
        auth = {"token": token_issuer.registry_config()}
        users = token_issuer.users
    elif users:
        htpasswd = workdir / "htpasswd"
        write_htpasswd(htpasswd, users)
        auth = {"htpasswd": {"realm": "dockyard-test", "path": str(htpasswd)}}
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(_config(port, storage, auth))
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(config)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/",
    )  # fmt: skip
    try:
        _wait_listening(port, process)
        yield RunningRegistry(f"127.0.0.1:{port}", storage, dict(users or {}))
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """A tiny Bearer token server (distribution's token auth) on 127.0.0.1, for tests.

    It checks Basic credentials against `users` and grants every requested repository action
    to a known user, none to anyone else. Tokens are RS256 JWTs signed with a throw-away key
    (made with the `openssl` command) whose self-signed certificate the registry trusts.
    """

    SERVICE = "dockyard-test-registry"
    ISSUER = "dockyard-test-issuer"

    def __init__(self, workdir: Path, users: Mapping[str, str]) -> None:
        self.users = dict(users)
        self.requests: list[dict[str, list[str]]] = []
        workdir.mkdir(parents=True, exist_ok=True)
        self.key = workdir / "issuer.key"
        self.cert = workdir / "issuer.crt"
        _run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={self.ISSUER}", "-keyout", str(self.key), "-out", str(self.cert)]
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        self._x5c = base64.b64encode(der).decode()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        """The token endpoint's URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def registry_config(self) -> dict[str, object]:
        """The `auth.token` section of a registry config that trusts this issuer."""
        return {
            "realm": self.realm,
            "service": self.SERVICE,
            "issuer": self.ISSUER,
            "rootcertbundle": str(self.cert),
        }

    def __enter__(self) -> TokenIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _sign(self, payload: bytes) -> bytes:
        return subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=payload, check=True, capture_output=True,
        ).stdout  # fmt: skip

    def issue(self, subject: str, scopes: list[str]) -> str:
        """A signed token granting `subject` the actions of `scopes` (`repository:name:a,b`)."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": self.ISSUER, "sub": subject, "aud": self.SERVICE, "iat": now,
            "nbf": now - 5, "exp": now + 300, "jti": f"{now}-{len(self.requests)}",
            "access": access,
        }  # fmt: skip
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        return signing_input + "." + _b64url(self._sign(signing_input.encode()))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # keep pytest's output clean

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                issuer.requests.append(query)
                subject = ""
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if issuer.users.get(user) != password:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    subject = user
                scopes = query.get("scope", []) if subject else []
                body = json.dumps(
                    {"token": issuer.issue(subject, scopes), "expires_in": 300}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


class FaultyProxy:
    """An HTTP proxy on 127.0.0.1 in front of a registry that breaks some responses on purpose.

    `drop_blob_after`: the first blob GET is cut after this many body bytes (then behaves).
    `corrupt_manifests`: manifest GETs by digest get one byte of their body flipped.
    """

    def __init__(
        self,
        upstream: str,
        *,
        drop_blob_after: int | None = None,
        corrupt_manifests: bool = False,
    ) -> None:
        self.upstream = upstream
        self.drop_blob_after = drop_blob_after
        self.corrupt_manifests = corrupt_manifests
        self.drops = 0
        self.range_requests: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """`127.0.0.1:port` of the proxy."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _should_drop(self) -> bool:
        with self._lock:
            if self.drop_blob_after is None or self.drops:
                return False
            self.drops += 1
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep pytest's output clean

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                if "Range" in self.headers:
                    proxy.range_requests.append(self.headers["Range"])
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    upstream = conn.getresponse()
                    data = upstream.read()
                    is_blob = self.command == "GET" and "/blobs/sha256:" in self.path
                    drop = is_blob and upstream.status in (200, 206) and proxy._should_drop()
                    if (
                        proxy.corrupt_manifests
                        and self.command == "GET"
                        and "/manifests/sha256:" in self.path
                        and data
                    ):
                        data = bytes([data[0] ^ 0x20]) + data[1:]
                    self.send_response(upstream.status)
                    for key, value in upstream.getheaders():
                        if key.lower() not in _HOP_HEADERS:
                            self.send_header(key, value)
                    self.end_headers()
                    if drop:
                        cut = min(proxy.drop_blob_after or 0, len(data) - 1)
                        self.wfile.write(data[:cut])
                        self.wfile.flush()
                        # Abort the connection with the body half sent, as a broken network does.
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815

        return Handler


def _run(args: list[str]) -> str:
    result = subprocess.run(args, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"{' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def make_oci_layout(rootfs: Path, workdir: Path, tag: str = "latest") -> Path:
    """An OCI image layout at `workdir/layout` with one layer holding `rootfs` (via umoci)."""
    if shutil.which("umoci") is None:
        raise Unavailable("umoci not found: install it with `apt-get install umoci`")
    layout = workdir / "layout"
    bundle = workdir / "bundle"
    # Without root umoci cannot keep file owners; --rootless maps them to the caller.
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    _run(["umoci", "init", "--layout", str(layout)])
    _run(["umoci", "new", "--image", f"{layout}:{tag}"])
    _run(["umoci", "unpack", *rootless, "--image", f"{layout}:{tag}", str(bundle)])
    bundle_rootfs = bundle / "rootfs"
    shutil.rmtree(bundle_rootfs)
    _run(["cp", "-a", str(rootfs), str(bundle_rootfs)])
    _run(["umoci", "repack", *rootless, "--image", f"{layout}:{tag}", str(bundle)])
    _run(["umoci", "config", "--image", f"{layout}:{tag}", "--config.cmd", "/bin/sh"])
    shutil.rmtree(bundle)
    return layout


def push_layout(
    layout: Path,
    tag: str,
    destination: str,
    *,
    manifest_format: str = "oci",
    credentials: tuple[str, str] | None = None,
) -> None:
    """Copy `layout:tag` to `docker://destination` with skopeo (plain HTTP, no TLS checks)."""
    args = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--format", manifest_format]
    if credentials:
        args += ["--dest-creds", f"{credentials[0]}:{credentials[1]}"]
    _run([*args, f"oci:{layout}:{tag}", f"docker://{destination}"])


class FakeRegistry:
    """An in-memory OCI distribution registry to serve through `httpx.MockTransport`.

    A behavioural fake for unit tests of code above the client (pull/push plans): manifests by
    tag or digest, blobs with Range, HEAD, uploads (POST, PATCH, PUT, cross-repo mount) and tag
    lists, anonymous only. Conformance to the real thing is what the e2e tests check.
    """

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.repos: dict[str, set[str]] = {}
        self.manifests: dict[str, tuple[str, bytes]] = {}
        self.tags: dict[tuple[str, str], str] = {}
        self.uploads: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []

    def transport(self) -> httpx.MockTransport:
        """A MockTransport serving this registry (any host)."""
        import httpx

        return httpx.MockTransport(self.handle)

    def add_blob(self, repo: str, data: bytes) -> str:
        """Store `data` as a blob of `repo`; returns its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        self.repos.setdefault(repo, set()).add(digest)
        return digest

    def add_manifest(self, repo: str, reference: str, data: bytes, media_type: str) -> str:
        """Store a manifest under a tag or its digest; returns its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.manifests[digest] = (media_type, data)
        self.repos.setdefault(repo, set()).add(digest)
        if not reference.startswith("sha256:"):
            self.tags[(repo, reference)] = digest
        return digest

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one distribution API request."""
        import httpx

        path = request.url.path
        self.requests.append((request.method, path))
        if path == "/v2/":
            return httpx.Response(200, json={})
        match = re.fullmatch(r"/v2/(.+)/(manifests|blobs|tags)/(.*)", path)
        if not match:
            return self._error(404, "NAME_UNKNOWN")
        repo, kind, rest = match.groups()
        if kind == "manifests":
            return self._manifest(request, repo, rest)
        if kind == "tags":
            tags = sorted(tag for (name, tag) in self.tags if name == repo)
            return httpx.Response(200, json={"name": repo, "tags": tags})
        if rest.startswith("uploads/"):
            return self._upload(request, repo, rest.removeprefix("uploads/"))
        return self._blob(request, repo, rest)

    @staticmethod
    def _error(status: int, code: str) -> httpx.Response:
        import httpx

        return httpx.Response(status, json={"errors": [{"code": code, "message": code.lower()}]})

    def _manifest(self, request: httpx.Request, repo: str, reference: str) -> httpx.Response:
        import httpx

        if request.method == "PUT":
            media_type = request.headers.get("Content-Type", "")
            pushed = self.add_manifest(repo, reference, request.read(), media_type)
            return httpx.Response(201, headers={"Docker-Content-Digest": pushed})
        digest = reference if reference.startswith("sha256:") else self.tags.get((repo, reference))
        if digest is None or digest not in self.repos.get(repo, set()):
            return self._error(404, "MANIFEST_UNKNOWN")
        media_type, data = self.manifests[digest]
        headers = {"Content-Type": media_type, "Docker-Content-Digest": digest}
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers | {"Content-Length": str(len(data))})
        return httpx.Response(200, headers=headers, content=data)

    def _blob(self, request: httpx.Request, repo: str, digest: str) -> httpx.Response:
        import httpx

        if digest not in self.repos.get(repo, set()) or digest not in self.blobs:
            return self._error(404, "BLOB_UNKNOWN")
        data = self.blobs[digest]
        headers = {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"}
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers | {"Content-Length": str(len(data))})
        if spec := request.headers.get("Range"):
            start = int(spec.removeprefix("bytes=").split("-", 1)[0])
            return httpx.Response(206, headers=headers, content=data[start:])
        return httpx.Response(200, headers=headers, content=data)

    def _upload(self, request: httpx.Request, repo: str, upload: str) -> httpx.Response:
        import httpx

        params = request.url.params
        if request.method == "POST":
            mount, source = params.get("mount"), params.get("from")
            if mount and source and mount in self.repos.get(source, set()):
                self.repos.setdefault(repo, set()).add(mount)
                return httpx.Response(201, headers={"Location": f"/v2/{repo}/blobs/{mount}"})
            upload = f"u{len(self.uploads)}"
            self.uploads[upload] = b""
            return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{upload}"})
        if upload not in self.uploads:
            return self._error(404, "BLOB_UPLOAD_UNKNOWN")
        self.uploads[upload] += request.read()
        if request.method == "PATCH":
            return httpx.Response(202, headers={"Location": f"/v2/{repo}/blobs/uploads/{upload}"})
        data = self.uploads.pop(upload)
        if self.add_blob(repo, data) != params.get("digest"):
            return self._error(400, "DIGEST_INVALID")
        return httpx.Response(201, headers={"Location": f"/v2/{repo}/blobs/{params['digest']}"})
