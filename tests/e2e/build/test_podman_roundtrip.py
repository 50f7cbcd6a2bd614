"""A dockyard-built image saved, loaded into podman (its own root) and run there identically."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

needs_podman = pytest.mark.skipif(
    shutil.which("podman") is None or shutil.which("runc") is None,
    reason="podman or runc is not installed",
)


@pytest.fixture
def podman(scratch: Path) -> Iterator[list[str]]:
    """podman on a root of its own (the settings of ../shared/peers/podman-peer), removed after.

    No systemd here (cgroupfs, file events); crun refuses the hybrid cgroup layout (runc); no
    CAP_SYS_RESOURCE, so ulimits must stay under the hard limits.
    """
    root = scratch / "podman-root"
    for sub in ("storage", "run", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "containers.conf").write_text(
        f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        f'events_logfile_path = "{root}/events.log"\nruntime = "runc"\ntmp_dir = "{root}/tmp"\n'
        '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
    )
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/storage"\nrunroot = "{root}/run"\n'
    )
    (root / "registries.conf").write_text("")
    env_cmd = [
        "env",
        f"CONTAINERS_CONF={root}/containers.conf",
        f"CONTAINERS_STORAGE_CONF={root}/storage.conf",
        f"CONTAINERS_REGISTRIES_CONF={root}/registries.conf",
        "podman",
    ]
    yield env_cmd
    subprocess.run([*env_cmd, "rm", "-af"], capture_output=True, check=False)
    subprocess.run([*env_cmd, "system", "reset", "-f"], capture_output=True, check=False)
    # Overlay mounts podman left under its storage go before the directory does.
    with open("/proc/self/mountinfo") as f:
        mounted = [line.split()[4] for line in f if str(root) in line]
    for point in sorted(mounted, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)
    shutil.rmtree(root, ignore_errors=True)


SCRIPT = "echo $GREETING from $(cat /etc/built-by); id -u; pwd; ls /app"


@needs_podman
@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_built_image_runs_the_same_in_podman(
    dy: Dockyard, ctx: Path, scratch: Path, podman: list[str], fmt: str
) -> None:
    write(
        ctx,
        {
            "app/a.txt": "a\n",
            "app/b.txt": "b\n",
            "Dockerfile": "FROM busybox\nCOPY app /app\nRUN echo dockyard > /etc/built-by"
            " && echo runner:x:1234:1234::/app:/bin/sh >> /etc/passwd\n"
            "ENV GREETING=hello\nWORKDIR /app\nUSER runner\n"
            f'CMD ["sh", "-c", "{SCRIPT}"]\n',
        },
    )
    dy("build", "-q", "-t", "roundtrip:1", str(ctx), check=True)
    archive = scratch / f"roundtrip-{fmt}.tar"
    dy("save", "--format", fmt, "-o", str(archive), "roundtrip:1", check=True)
    ours = dy("run", "--rm", "--network", "none", "roundtrip:1")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "hello from dockyard\n1234\n/app\na.txt\nb.txt\n"
    loaded = subprocess.run(
        [*podman, "load", "-i", str(archive)], capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stderr
    image = _loaded_name(loaded.stdout)
    theirs = subprocess.run(
        [*podman, "run", "--rm", "--network", "none", image],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout == ours.stdout


def _loaded_name(output: str) -> str:
    """The image `podman load` reports (`Loaded image: NAME` or `Loaded image(s): NAME`)."""
    for line in output.splitlines():
        if line.startswith("Loaded image"):
            return line.split(":", 1)[1].strip().split(",")[0]
    raise AssertionError(f"podman load named no image: {output!r}")
