"""Secrets and configs from a file, an environment variable and inline content, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard
from tests.e2e.compose.test_compose import compose, write

pytestmark = pytest.mark.root


@pytest.fixture
def project(scratch: Path) -> Path:
    directory = scratch / "proj"
    directory.mkdir()
    return directory


STACK = """
name: sec
services:
  app:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    secrets:
      - from_file
      - {source: token, target: api_token, uid: "1000", gid: "1001", mode: 0400}
    configs:
      - greeting
      - {source: level, target: /etc/app/level, mode: 0440}
secrets:
  from_file: {file: ./secret.txt}
  token: {environment: TOKEN}
configs:
  greeting: {content: "hello ${WHO}"}
  level: {environment: LEVEL}
"""


def test_file_environment_and_content_sources(dockyard: Dockyard, project: Path) -> None:
    write(project, STACK)
    (project / "secret.txt").write_text("from a file")
    # Environment sources read the project's environment: the shell, then `.env`.
    (project / ".env").write_text("TOKEN=s3cr3t\nLEVEL=debug\nWHO=world\n")
    compose(dockyard, project, "up", "-d")

    def sh(script: str) -> str:
        return compose(dockyard, project, "exec", "-T", "app", "sh", "-c", script).strip()

    assert sh("cat /run/secrets/from_file") == "from a file"
    assert sh("cat /run/secrets/api_token") == "s3cr3t"
    assert sh("cat /greeting") == "hello world"
    assert sh("cat /etc/app/level") == "debug"
    # uid/gid/mode as granted; the spec's default is root and 0444
    assert sh("stat -c '%a %u %g' /run/secrets/api_token") == "400 1000 1001"
    assert sh("stat -c '%a %u %g' /greeting") == "444 0 0"
    assert sh("stat -c '%a' /etc/app/level") == "440"
    # read-only mounts, even for root in the container
    assert sh("echo x > /greeting 2>/dev/null && echo writable || echo refused") == "refused"
    # The written files live under the root, for the container, readable by root only there.
    files = dockyard.root / "compose" / "sec" / "sec-app-1"
    assert (files / "secrets").stat().st_mode & 0o077 == 0
    assert files.stat().st_mode & 0o777 == 0o700
    # A recreate writes them again; `down` leaves none behind.
    compose(dockyard, project, "up", "-d", "--force-recreate")
    assert sh("cat /run/secrets/api_token") == "s3cr3t"
    compose(dockyard, project, "down", "-t", "1")
    assert not (dockyard.root / "compose" / "sec").exists()


def test_unset_environment_source_is_one_line_and_creates_nothing(
    dockyard: Dockyard, project: Path
) -> None:
    write(project, STACK)
    (project / "secret.txt").write_text("x")
    (project / ".env").write_text("LEVEL=debug\n")
    proc = dockyard("compose", "-f", str(project / "compose.yaml"), "up", "-d")
    assert proc.returncode != 0
    assert 'secret "token" reads environment variable "TOKEN", which is not set' in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert dockyard("ps", "-aq").stdout.strip() == ""
    assert not (dockyard.root / "compose").exists()
