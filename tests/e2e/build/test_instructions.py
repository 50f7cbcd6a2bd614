"""Every Dockerfile instruction, observed in the built image (inspect) and by running it."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

DOCKERFILE = """\
ARG BASE=busybox
FROM ${BASE}
ARG VERSION=0
ENV APP_HOME=/srv/app GREETING="hello there"
LABEL org.example.version=$VERSION maintainer="ops@example.com"
EXPOSE 8080 53/udp
VOLUME /data
WORKDIR $APP_HOME
COPY --chown=nobody:nogroup --chmod=750 tool.sh ./bin/
ADD rootfs.tar /opt/
COPY <<EOF /etc/motd
welcome to $APP_HOME
EOF
RUN <<EOF
set -e
echo "$GREETING v$VERSION" > greeting.txt
echo 'app:x:1234:1234::/srv/app:/bin/sh' >> /etc/passwd
EOF
SHELL ["/bin/sh", "-ec"]
RUN test "$(pwd)" = /srv/app && echo shell-ok > shell.txt
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
STOPSIGNAL SIGUSR1
ONBUILD RUN echo triggered > /onbuild.txt
USER app
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat greeting.txt; id -un; cat /etc/motd; ls /opt/pkg; ls -ln bin/tool.sh"]
"""


def _tar(path: Path) -> None:
    with tarfile.open(path, "w") as tar:
        data = b"from a tar\n"
        info = tarfile.TarInfo("pkg/readme.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_every_instruction_lands_in_the_image(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": DOCKERFILE, "tool.sh": "#!/bin/sh\necho tool\n"})
    _tar(ctx / "rootfs.tar")
    done = dy(
        "build", "-t", "every:1", "--build-arg", "VERSION=7", "--label", "extra=yes", str(ctx)
    )
    assert done.returncode == 0, done.stderr
    assert "Step 1/19 : FROM ${BASE}" in done.stdout
    assert "Successfully tagged every:1" in done.stdout

    image = dy.json("image", "inspect", "every:1")[0]
    config = image["Config"]
    assert "APP_HOME=/srv/app" in config["Env"]
    assert "GREETING=hello there" in config["Env"]
    assert not any(e.startswith("VERSION=") for e in config["Env"])  # ARGs stay out
    assert config["Labels"] == {
        "org.example.version": "7",
        "maintainer": "ops@example.com",
        "extra": "yes",
    }
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert set(config["Volumes"]) == {"/data"}
    assert config["WorkingDir"] == "/srv/app"
    assert config["User"] == "app"
    assert config["StopSignal"] == "SIGUSR1"
    assert config["Healthcheck"]["Test"] == ["CMD", "true"]
    assert config["Healthcheck"]["Interval"] == 5_000_000_000
    assert config["Healthcheck"]["Retries"] == 2
    assert config["OnBuild"] == ["RUN echo triggered > /onbuild.txt"]
    assert config["Entrypoint"] == ["/bin/sh", "-c"]

    run = dy("run", "--rm", "every:1", timeout=30)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:4] == ["hello there v7", "app", "welcome to /srv/app", "readme.txt"]
    mode, _, uid, gid = lines[4].split()[:4]
    assert (mode, uid, gid) == ("-rwxr-x---", "65534", "65534")


def test_history_and_layers_match(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {"Dockerfile": 'FROM busybox\nENV A=1\nRUN touch /x\nCMD ["true"]\n'},
    )
    assert dy("build", "-q", "-t", "hist:1", str(ctx)).returncode == 0
    image = dy.json("image", "inspect", "hist:1")[0]
    base = dy.json("image", "inspect", "busybox")[0]
    assert len(image["RootFS"]["Layers"]) == len(base["RootFS"]["Layers"]) + 1
    history = dy("history", "--no-trunc", "hist:1").stdout
    assert "ENV A=1" in history and "RUN touch /x" in history


def test_onbuild_triggers_run_in_the_child(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nONBUILD RUN echo fired > /fired.txt\n"})
    assert dy("build", "-q", "-t", "parent:1", str(ctx)).returncode == 0
    write(ctx, {"Dockerfile": 'FROM parent:1\nCMD ["cat", "/fired.txt"]\n'})
    done = dy("build", "-t", "child:1", str(ctx))
    assert "# Executing 1 build trigger" in done.stdout, done.stderr
    assert dy("run", "--rm", "child:1").stdout == "fired\n"
    assert not dy.json("image", "inspect", "child:1")[0]["Config"].get("OnBuild")


def test_quiet_prints_only_the_id_and_iidfile(dy: Dockyard, ctx: Path, scratch: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN echo noisy\n"})
    iid = scratch / "iid"
    done = dy("build", "-q", "--iidfile", str(iid), str(ctx))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == iid.read_text()
    assert done.stdout.startswith("sha256:") and "noisy" not in done.stdout


def test_dockerfile_on_stdin(dy: Dockyard) -> None:
    done = dy("build", "-t", "stdin:1", "-", input=b'FROM busybox\nCMD ["echo", "piped"]\n')
    assert done.returncode == 0, done.stderr
    assert dy("run", "--rm", "stdin:1").stdout == "piped\n"


def test_workdir_is_created_when_missing(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": 'FROM busybox\nWORKDIR /made/here\nCMD ["pwd"]\n'})
    assert dy("build", "-q", "-t", "wd:1", str(ctx)).returncode == 0
    assert dy("run", "--rm", "wd:1").stdout == "/made/here\n"
