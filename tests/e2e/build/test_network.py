"""RUN's network: `none` is a private namespace with loopback up, `host` the host's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root

PROBE = (
    "FROM busybox\n"
    'RUN echo "=links" $(tail -n +3 /proc/net/dev | cut -d: -f1); '
    "ping -c1 -W1 127.0.0.1 >/dev/null && echo =lo-up\n"
)


def _links(out: str) -> tuple[set[str], bool]:
    lines = out.splitlines()
    links = next(x for x in lines if x.startswith("=links"))
    return set(links.split()[1:]), "=lo-up" in lines


def test_network_none_has_only_loopback_up(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": PROBE})
    done = dy("build", "--network", "none", str(ctx))
    assert done.returncode == 0, done.stderr
    assert _links(done.stdout) == ({"lo"}, True)
    assert str(dy.root) not in Path("/proc/self/mountinfo").read_text()


def test_network_host_sees_the_hosts_links(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": PROBE})
    done = dy("build", "--network", "host", str(ctx))
    assert done.returncode == 0, done.stderr
    host = {
        line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:]
    }
    assert _links(done.stdout)[0] == host


def test_run_sees_the_hosts_resolv_conf_but_the_layer_does_not(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN cat /etc/resolv.conf\n"})
    done = dy("build", str(ctx))
    assert done.returncode == 0, done.stderr
    assert Path("/etc/resolv.conf").read_text().splitlines()[0] in done.stdout
    image_id = done.stdout.split("Successfully built ")[1].split()[0]
    layers = dy.json("image", "inspect", image_id)[0]["RootFS"]["Layers"]
    base = dy.json("image", "inspect", "busybox")[0]["RootFS"]["Layers"]
    assert layers == base  # the mount points were removed: the step changed nothing
