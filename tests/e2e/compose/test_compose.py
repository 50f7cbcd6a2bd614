"""`dockyard compose` end to end: real containers from the busybox image, as root."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

# sh as PID 1 ignores SIGTERM: each command traps it, so stop is immediate (no 10 s wait).
STACK = """
name: t
services:
  cache:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1; touch /tmp/ready; sleep 1000 & wait"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 0.2s
      retries: 50
    volumes: [data:/data]
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo web says $$GREETING; sleep 1000 & wait"]
    environment: {GREETING: hello}
    depends_on:
      cache: {condition: service_healthy}
volumes:
  data: {}
"""


def write(directory: Path, text: str, name: str = "compose.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(scratch: Path) -> Path:
    directory = scratch / "proj"
    directory.mkdir()
    return directory


def compose(dy: Dockyard, directory: Path, *args: str, check: bool = True) -> str:
    proc = dy("compose", "-f", str(directory / "compose.yaml"), *args, check=check)
    return proc.stdout if check else proc.stderr


def ids(dy: Dockyard, directory: Path) -> list[str]:
    return compose(dy, directory, "ps", "-q").split()


def started(dy: Dockyard, name: str) -> float:
    text = dy.json("inspect", name)[0]["State"]["StartedAt"]
    base, _, frac = text.rstrip("Z").partition(".")
    when = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC)
    return when.timestamp() + float("0." + frac)


def test_up_ps_logs_exec_reconcile_and_down(dockyard: Dockyard, project: Path) -> None:
    write(project, STACK)
    out = compose(dockyard, project, "up", "-d")
    assert "Container t-web-1  Started" in out
    first = sorted(ids(dockyard, project))
    assert len(first) == 2
    ps = dockyard.json("compose", "-f", str(project / "compose.yaml"), "ps", "--format", "json")
    assert {(c["Service"], c["State"]) for c in ps} == {("cache", "running"), ("web", "running")}
    # health-gated order: web started only after cache was healthy
    assert started(dockyard, "t-web-1") > started(dockyard, "t-cache-1") + 0.9
    logs = compose(dockyard, project, "logs", "web")
    assert "web-1  | web says hello" in logs
    assert compose(
        dockyard, project, "exec", "-T", "web", "sh", "-c", "echo $GREETING"
    ).strip() == ("hello")
    # nothing changed: same containers
    again = compose(dockyard, project, "up", "-d")
    assert "Created" not in again
    assert sorted(ids(dockyard, project)) == first
    # forced: new ones
    compose(dockyard, project, "up", "-d", "--force-recreate")
    assert set(ids(dockyard, project)).isdisjoint(first)
    compose(dockyard, project, "down", "-t", "1")
    assert ids(dockyard, project) == []
    assert dockyard("ps", "-aq").stdout.strip() == ""


def test_volume_survives_down_without_v(dockyard: Dockyard, project: Path) -> None:
    write(project, STACK)
    compose(dockyard, project, "up", "-d")
    compose(dockyard, project, "exec", "-T", "cache", "sh", "-c", "echo kept > /data/f")
    compose(dockyard, project, "down")
    compose(dockyard, project, "up", "-d")
    text = compose(dockyard, project, "exec", "-T", "cache", "cat", "/data/f")
    assert text.strip() == "kept"
    compose(dockyard, project, "down", "-v")
    assert "t_data" not in dockyard("volume", "ls", "-q").stdout


def test_scale_profiles_and_run_rm(dockyard: Dockyard, project: Path) -> None:
    write(
        project,
        """
        name: s
        services:
          worker:
            image: busybox
            command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
          debug:
            image: busybox
            profiles: [debug]
            command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
        """,
    )
    compose(dockyard, project, "up", "-d", "--scale", "worker=3")
    names = {
        c["Name"]
        for c in dockyard.json(
            "compose", "-f", str(project / "compose.yaml"), "ps", "--format", "json"
        )
    }
    assert names == {"s-worker-1", "s-worker-2", "s-worker-3"}
    compose(dockyard, project, "up", "-d", "--scale", "worker=1")
    assert len(ids(dockyard, project)) == 1
    dockyard(
        "compose", "-f", str(project / "compose.yaml"), "--profile", "debug", "up", "-d", check=True
    )
    assert len(ids(dockyard, project)) == 2
    out = compose(dockyard, project, "run", "--rm", "worker", "echo", "one-off")
    assert out.strip() == "one-off"
    assert len(dockyard("ps", "-aq").stdout.split()) == 2
    dockyard(
        "compose", "-f", str(project / "compose.yaml"), "--profile", "debug", "down", check=True
    )
    assert dockyard("ps", "-aq").stdout.strip() == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services:\n  a: [unclosed\n", "compose.yaml"),
        (
            "services:\n  a:\n    image: busybox\n    depends_on: [b]\n"
            "  b:\n    image: busybox\n    depends_on: [a]\n",
            "cycle",
        ),
        ("services:\n  a:\n    image: busybox\n    depends_on: [nope]\n", "nope"),
        ("services:\n  a:\n    image: busybox\n    env_file: missing.env\n", "missing.env"),
        ("services:\n  a:\n    build: ./nowhere\n", "nowhere"),
        (
            "services:\n  a:\n    image: busybox\n    ports: ['8081:80']\n"
            "  b:\n    image: busybox\n    ports: ['8081:80']\n",
            "8081",
        ),
    ],
)
def test_bad_input_is_one_line_nonzero_and_creates_nothing(
    dockyard: Dockyard, project: Path, text: str, message: str
) -> None:
    write(project, text)
    proc = dockyard("compose", "-f", str(project / "compose.yaml"), "up", "-d")
    assert proc.returncode != 0
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert dockyard("ps", "-aq").stdout.strip() == ""


def test_unknown_service_on_the_command_line(dockyard: Dockyard, project: Path) -> None:
    write(project, STACK)
    proc = dockyard("compose", "-f", str(project / "compose.yaml"), "up", "-d", "nosuch")
    assert proc.returncode != 0 and "nosuch" in proc.stderr
    assert dockyard("ps", "-aq").stdout.strip() == ""


ONE_SHOT = """
name: o
services:
  init:
    image: busybox
    command: ["sh", "-c", "echo init done; exit {code}"]
  app:
    image: busybox
    command: ["sh", "-c", "echo app ran; exit 3"]
    depends_on:
      init: {{condition: service_completed_successfully}}
"""


def test_attached_up_exit_code_from_after_completed_dependency(
    dockyard: Dockyard, project: Path
) -> None:
    write(project, ONE_SHOT.format(code=0))
    proc = dockyard("compose", "-f", str(project / "compose.yaml"), "up", "--exit-code-from", "app")
    assert proc.returncode == 3, proc.stderr
    assert "app-1   | app ran" in proc.stdout
    assert "init-1  | init done" in proc.stdout
    assert started(dockyard, "o-app-1") >= started(dockyard, "o-init-1")
    compose(dockyard, project, "down")


def test_failed_dependency_stops_up_with_the_reason(dockyard: Dockyard, project: Path) -> None:
    write(project, ONE_SHOT.format(code=1))
    proc = dockyard("compose", "-f", str(project / "compose.yaml"), "up", "-d")
    assert proc.returncode != 0
    assert "o-init-1 exited with code 1" in proc.stderr
    names = [
        c["Name"]
        for c in dockyard.json(
            "compose", "-f", str(project / "compose.yaml"), "ps", "-a", "--format", "json"
        )
    ]
    assert names == ["o-init-1"]
    compose(dockyard, project, "down")


def test_stop_start_restart_and_wait(dockyard: Dockyard, project: Path) -> None:
    write(project, STACK)
    compose(dockyard, project, "up", "-d", "--wait", "--wait-timeout", "20")
    health = dockyard.json("inspect", "t-cache-1")[0]["State"]["Health"]["Status"]
    assert health == "healthy"
    compose(dockyard, project, "stop")
    states = {
        c["State"]
        for c in dockyard.json(
            "compose", "-f", str(project / "compose.yaml"), "ps", "-a", "--format", "json"
        )
    }
    assert states == {"exited"}
    compose(dockyard, project, "start")
    compose(dockyard, project, "pause", "web")
    ps = dockyard.json("compose", "-f", str(project / "compose.yaml"), "ps", "--format", "json")
    assert {(c["Service"], c["State"]) for c in ps} == {("cache", "running"), ("web", "paused")}
    compose(dockyard, project, "unpause", "web")
    compose(dockyard, project, "restart", "web")
    running = compose(dockyard, project, "ps", "--services")
    assert running.split() == ["cache", "web"]
    assert len(ids(dockyard, project)) == 2
    compose(dockyard, project, "down", "-v")


def test_ctrl_c_during_attached_up_stops_services(dockyard: Dockyard, project: Path) -> None:
    import signal
    import subprocess
    import time

    from tests.e2e.cli.conftest import DOCKYARD

    write(project, STACK)
    out = project / "out.txt"
    with open(out, "w") as sink:
        proc = subprocess.Popen(
            [
                DOCKYARD,
                "--root",
                str(dockyard.root),
                "compose",
                "-f",
                str(project / "compose.yaml"),
                "up",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while "| web says hello" not in out.read_text():
                assert time.monotonic() < deadline, out.read_text()
                assert proc.poll() is None, out.read_text()
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Gracefully stopping" in out.read_text()
    ps = dockyard.json(
        "compose", "-f", str(project / "compose.yaml"), "ps", "-a", "--format", "json"
    )
    assert {c["State"] for c in ps} == {"exited"}
    compose(dockyard, project, "down", "-v")


def test_build_then_up_runs_the_built_image(dockyard: Dockyard, project: Path) -> None:
    (project / "app").mkdir()
    (project / "app" / "Dockerfile").write_text(
        'FROM busybox\nRUN echo built-by-compose > /msg\nCMD ["cat", "/msg"]\n'
    )
    write(project, "services:\n  app:\n    build: ./app\n")
    compose = ["compose", "-f", str(project / "compose.yaml")]
    built = dockyard(*compose, "build")
    assert built.returncode == 0, built.stderr
    up = dockyard(*compose, "up", "--exit-code-from", "app")
    assert up.returncode == 0 and "built-by-compose" in up.stdout, up.stdout + up.stderr
    dockyard(*compose, "down", check=True)


def test_policy_restart_of_a_dependency_restarts_dependents(
    dockyard: Dockyard, project: Path
) -> None:
    import os
    import signal
    import time

    write(
        project,
        textwrap.dedent(
            """
            services:
              db:
                image: busybox
                command: ["sleep", "300"]
                restart: always
              app:
                image: busybox
                command: ["sleep", "300"]
                depends_on:
                  db:
                    condition: service_started
                    restart: true
            """
        ),
    )
    compose = ["compose", "-f", str(project / "compose.yaml"), "-p", "dep"]
    dockyard(*compose, "up", "-d", check=True)
    app_before = dockyard.json("inspect", "dep-app-1")[0]["State"]["Pid"]
    db_pid = dockyard.json("inspect", "dep-db-1")[0]["State"]["Pid"]
    os.kill(db_pid, signal.SIGKILL)  # the monitor restarts db by its policy…
    deadline = time.monotonic() + 20
    while True:  # …and app, which asked for it
        state = dockyard.json("inspect", "dep-app-1")[0]["State"]
        if state["Status"] == "running" and state["Pid"] not in (0, app_before):
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    dockyard(*compose, "down", "-t", "1", check=True)


def test_create_makes_containers_that_start_later(dockyard: Dockyard, project: Path) -> None:
    write(project, STACK)
    compose(dockyard, project, "create")
    ps = dockyard.json(
        "compose", "-f", str(project / "compose.yaml"), "ps", "-a", "--format", "json"
    )
    assert {(c["Service"], c["State"]) for c in ps} == {("cache", "created"), ("web", "created")}
    compose(dockyard, project, "start")
    assert compose(dockyard, project, "ps", "--services").split() == ["cache", "web"]
    compose(dockyard, project, "down", "-v")
