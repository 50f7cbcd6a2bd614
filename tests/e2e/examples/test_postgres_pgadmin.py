"""The worked example (issue 8): examples/postgres-pgadmin built and run, used from the host.

The module builds both images from the debian:bookworm base and brings the stack up once;
each test then checks one promise of the example against the running stack.
"""

from __future__ import annotations

import errno
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli.conftest import Dockyard

pytestmark = [pytest.mark.root, pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "postgres-pgadmin"
REPO = EXAMPLE.parents[1]
USER, PASSWORD, DB = "app", "app-password", "appdb"
EMAIL, WEB_PASSWORD = "admin@example.com", "admin-password"
DB_CONTAINER = "postgres-pgadmin-db"
VOLUMES = {"postgres-pgadmin_db-data", "postgres-pgadmin_pgadmin-data"}
PGADMIN = "http://127.0.0.1:5050"


def port_in_use(port: int) -> bool:
    """Something listens on the port, or answers on it (a DNAT'd port of another engine)."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return True
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def psql(sql: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    """psql on the host against the published port."""
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    cmd = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", USER, "-d", DB]
    return subprocess.run(
        [*cmd, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def select_x() -> str:
    done = psql("select x from t")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_for_psql(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while psql("select 1").returncode != 0:
        assert time.monotonic() < deadline, psql("select 1").stderr
        time.sleep(0.2)


class PgAdmin:
    """A browser session with pgAdmin: its CSRF token and the session cookie."""

    def __init__(self) -> None:
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.csrf = ""

    def login_page(self) -> str:
        with self.opener.open(PGADMIN + "/login", timeout=30) as response:
            assert response.status == 200
            page = str(response.read().decode())
        # The login page is a React app; the token is in its bootstrap JSON.
        match = re.search(r'"csrfToken": "([^"]+)"', page)
        assert match, "no CSRF token on pgAdmin's login page"
        self.csrf = match.group(1)
        return page

    def login(self, email: str, password: str) -> str:
        """POST the login form; returns the path pgAdmin redirected to."""
        self.login_page()
        form = {"email": email, "password": password, "csrf_token": self.csrf}
        data = urllib.parse.urlencode(form).encode()
        with self.opener.open(PGADMIN + "/authenticate/login", data, timeout=30) as response:
            return str(urllib.parse.urlparse(response.geturl()).path)

    def get(self, path: str) -> Any:
        request = urllib.request.Request(PGADMIN + path, headers={"X-pgA-CSRFToken": self.csrf})
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict[str, str]) -> Any:
        headers = {"X-pgA-CSRFToken": self.csrf, "Content-Type": "application/json"}
        request = urllib.request.Request(PGADMIN + path, json.dumps(body).encode(), headers)
        with self.opener.open(request, timeout=60) as response:
            return json.loads(response.read())


@dataclass
class Stack:
    dy: Dockyard

    def compose(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        file = str(EXAMPLE / "compose.yaml")
        return self.dy("compose", "-f", file, *args, check=check, timeout=timeout)

    def up(self, *args: str) -> None:
        self.compose("up", "-d", "--wait", "--wait-timeout", "180", *args)

    def ids(self) -> set[str]:
        return set(self.dy("ps", "-q", "--no-trunc").stdout.split())

    def inspect(self, name: str) -> Any:
        return self.dy.json("inspect", name)[0]


def build_images(stack: Stack) -> None:
    """Bootstrap the base if this root lacks it, fetch the wheels, `compose build` both images."""
    if stack.dy("image", "inspect", "debian:bookworm").returncode != 0:
        stack.dy("image", "bootstrap", "debian:bookworm", check=True, timeout=600)
    fetch = subprocess.run(
        [str(EXAMPLE / "fetch-wheels.sh")], capture_output=True, text=True, check=False
    )
    assert fetch.returncode == 0, fetch.stderr
    stack.compose("build", timeout=900)


@pytest.fixture(scope="module")
def stack(example_dockyard: Dockyard) -> Iterator[Stack]:
    """The example stack, built and up, with table t holding 42."""
    busy = [port for port in (5432, 5050) if port_in_use(port)]
    if busy:
        pytest.skip(f"host port(s) {busy} already in use by something else; free them to run")
    stack = Stack(example_dockyard)
    build_images(stack)
    try:
        stack.up()
        done = psql("create table t(x int); insert into t values (42)")
        assert done.returncode == 0, done.stderr
        yield stack
    finally:
        stack.compose("down", "-v", check=False)


def test_psql_from_the_host(stack: Stack) -> None:
    assert select_x() == "42"
    assert psql("show server_encoding").stdout.strip() == "UTF8"
    # Postgres's own authentication error, through the published port.
    wrong = psql("select 1", password="not-the-password")
    assert wrong.returncode != 0
    assert f'password authentication failed for user "{USER}"' in wrong.stderr


def test_pgadmin_login_lists_the_preregistered_server(stack: Stack) -> None:
    browser = PgAdmin()
    assert "<title>pgAdmin 4</title>" in browser.login_page()
    assert browser.login(EMAIL, "wrong-password") == "/login"
    assert browser.login(EMAIL, WEB_PASSWORD) == "/browser/"
    groups = browser.get("/browser/server_group/nodes/")["data"]
    servers = [
        s for g in groups for s in browser.get(f"/browser/server/nodes/{g['_id']}")["result"]
    ]
    assert [(s["label"], s["host"], s["username"], s["db"]) for s in servers] == [
        ("db", "db", USER, "postgres")
    ]
    # pgAdmin reaches Postgres by its service name on the compose network.
    connected = browser.post(
        f"/browser/server/connect/{groups[0]['_id']}/{servers[0]['_id']}", {"password": PASSWORD}
    )
    assert connected["data"]["connected"] is True


def test_data_survives_down_and_up(stack: Stack) -> None:
    stack.compose("down")
    assert stack.ids() == set()
    stack.up()
    assert select_x() == "42"
    # The SIGTERM of `down` was a clean fast shutdown: no recovery at this start.
    logs = stack.dy("logs", DB_CONTAINER).stdout + stack.dy("logs", DB_CONTAINER).stderr
    assert "database system was shut down at" in logs
    assert "automatic recovery" not in logs


def test_force_recreate_gives_new_containers_and_keeps_data(stack: Stack) -> None:
    stack.up()
    before = stack.ids()
    assert len(before) == 2
    stack.up("--force-recreate")
    after = stack.ids()
    assert len(after) == 2 and not before & after
    assert select_x() == "42"


def child_pids(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except FileNotFoundError:
                continue
            # Fields after the command name, which is in parentheses and may hold spaces.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return children


def test_restart_always_brings_postgres_back(stack: Stack) -> None:
    stack.up()
    first = stack.inspect(DB_CONTAINER)
    init = first["State"]["Pid"]
    postmaster = [
        p for p in child_pids(init) if Path(f"/proc/{p}/comm").read_text() == "postgres\n"
    ]
    assert len(postmaster) == 1, postmaster
    os.kill(postmaster[0], 9)
    deadline = time.monotonic() + 60
    while stack.inspect(DB_CONTAINER)["State"]["Pid"] in (init, 0):
        assert time.monotonic() < deadline, "the db container was not restarted"
        time.sleep(0.1)
    wait_for_psql()
    assert select_x() == "42"
    assert stack.inspect(DB_CONTAINER)["RestartCount"] >= 1


def test_taken_port_fails_up_and_starts_nothing(stack: Stack) -> None:
    stack.compose("down")
    try:
        with socket.socket() as blocker:
            blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            blocker.bind(("0.0.0.0", 5432))
            blocker.listen()
            failed = stack.compose("up", "-d", "--wait", check=False)
            assert failed.returncode != 0
            assert "5432" in failed.stderr, failed.stderr
            running = stack.dy("ps", "-q").stdout.split()
            assert running == [], "a container was left running"
            # pgadmin waits for a healthy db, so it was never even created.
            names = stack.dy("ps", "-a", "--format", "{{.Names}}").stdout.split()
            assert "postgres-pgadmin-pgadmin-1" not in names
    finally:
        stack.compose("down")
    stack.up()
    assert select_x() == "42"


def test_down_v_removes_the_volumes(stack: Stack) -> None:
    stack.up()
    assert set(stack.dy("volume", "ls", "-q").stdout.split()) >= VOLUMES
    stack.compose("down", "-v")
    assert stack.ids() == set()
    assert not VOLUMES & set(stack.dy("volume", "ls", "-q").stdout.split())
