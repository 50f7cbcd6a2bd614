"""Networking through the CLI: user networks, names and aliases, published ports, isolation."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from dockyard.network.firewall import tables_for

from .conftest import Dockyard

pytestmark = pytest.mark.root

SUBNET_A = "10.252.1.0/24"
SUBNET_B = "10.252.2.0/24"


def curl(url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        proc = subprocess.run(
            ["curl", "-s", "--max-time", "2", url], check=False, capture_output=True, text=True
        )
        if proc.returncode == 0 or time.monotonic() > deadline:
            return proc.stdout
        time.sleep(0.1)


def test_names_aliases_and_later_containers_resolve(dockyard: Dockyard) -> None:
    dockyard("network", "create", "--subnet", SUBNET_A, "appnet", check=True)
    dockyard(
        "run", "-d", "--name", "first", "--network", "appnet", "busybox", "sleep", "60", check=True
    )
    dockyard(
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "appnet",
        "--network-alias",
        "www",
        "busybox",
        "sh",
        "-c",
        "echo served-by-web > /tmp/index.html; httpd -f -p 80 -h /tmp",
        check=True,
    )
    # `first` started before `web`: it still resolves web by name and alias.
    out = dockyard(
        "exec",
        "first",
        "sh",
        "-c",
        "ping -c1 -W2 web >/dev/null && echo by-name; "
        "ping -c1 -W2 www >/dev/null && echo by-alias; "
        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc www 80 | tail -1",
    )
    assert out.stdout.splitlines() == ["by-name", "by-alias", "served-by-web"], out.stderr
    doc = dockyard.json("network", "inspect", "appnet")[0]
    assert {c["Name"] for c in doc["Containers"].values()} == {"first", "web"}
    dockyard("rm", "-f", "web", check=True)
    gone = dockyard("exec", "first", "sh", "-c", "ping -c1 -W1 web >/dev/null 2>&1 || echo gone")
    assert gone.stdout == "gone\n"
    busy = dockyard("network", "rm", "appnet")
    assert busy.returncode == 1 and "first" in busy.stderr


def test_default_bridge_gives_no_names_but_an_ip(dockyard: Dockyard) -> None:
    dockyard("run", "-d", "--name", "a1", "busybox", "sleep", "60", check=True)
    ip = dockyard(
        "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "a1", check=True
    ).stdout.strip()
    assert ip.count(".") == 3
    out = dockyard(
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        f"ping -c1 -W2 {ip} >/dev/null && echo ip-ok; "
        "ping -c1 -W1 a1 >/dev/null 2>&1 || echo no-name",
    )
    assert out.stdout.split() == ["ip-ok", "no-name"]


def test_published_port_answers_on_localhost_and_port_lists_it(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "pub",
        "-p",
        "127.0.0.1:18080:80",
        "-p",
        "80",
        "busybox",
        "sh",
        "-c",
        "echo hello-host > /tmp/index.html; httpd -f -p 80 -h /tmp",
        check=True,
    )
    assert curl("http://127.0.0.1:18080/") == "hello-host\n"
    ports = dockyard.json("inspect", "pub")[0]["NetworkSettings"]["Ports"]["80/tcp"]
    random_port = next(int(p["HostPort"]) for p in ports if p["HostPort"] != "18080")
    assert random_port > 1024
    assert curl(f"http://127.0.0.1:{random_port}/") == "hello-host\n"
    taken = dockyard("run", "-d", "--name", "clash", "-p", "127.0.0.1:18080:80", "busybox", "true")
    assert taken.returncode == 125 and "18080" in taken.stderr
    assert "clash" not in dockyard(
        "ps", "-a", "--format", "{{.Names}}", check=True
    ).stdout.split() or (dockyard.json("inspect", "clash")[0]["State"]["Status"] == "created")


def test_port_taken_by_a_host_process(dockyard: Dockyard) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        proc = dockyard("run", "-d", "-p", f"127.0.0.1:{port}:80", "busybox", "sleep", "5")
    assert proc.returncode == 125 and str(port) in proc.stderr


def test_internal_network_and_isolation(dockyard: Dockyard) -> None:
    dockyard("network", "create", "--internal", "--subnet", SUBNET_A, "inside", check=True)
    dockyard("network", "create", "--subnet", SUBNET_B, "other", check=True)
    dockyard(
        "run", "-d", "--name", "o1", "--network", "other", "busybox", "sleep", "60", check=True
    )
    other_ip = dockyard(
        "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "o1", check=True
    ).stdout.strip()
    out = dockyard(
        "run",
        "--rm",
        "--network",
        "inside",
        "busybox",
        "sh",
        "-c",
        f"ip route | grep -c default; ping -c1 -W1 {other_ip} >/dev/null 2>&1 || echo isolated",
    )
    assert out.stdout.split() == ["0", "isolated"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--subnet", "10.252.300.0/24", "x1"], "10.252.300.0/24"),
        (["--subnet", "10.252.3.0/24", "--gateway", "10.9.9.1", "x2"], "10.9.9.1"),
    ],
)
def test_bad_network_input(dockyard: Dockyard, args: list[str], needle: str) -> None:
    proc = dockyard("network", "create", *args)
    assert proc.returncode == 125 and needle in proc.stderr and proc.stderr.count("\n") == 1
    assert dockyard("network", "ls", "-q", check=True).stdout == ""


def test_bad_publish_specs(dockyard: Dockyard) -> None:
    for spec in ("99999:80", "a:b"):
        proc = dockyard("run", "-d", "-p", spec, "busybox", "true")
        assert proc.returncode == 125 and spec in proc.stderr
    assert dockyard("ps", "-aq", check=True).stdout == ""


def test_next_command_restores_networking_after_a_simulated_reboot(dockyard: Dockyard) -> None:
    dockyard("network", "create", "--subnet", SUBNET_B, "rb", check=True)
    dockyard(
        "run",
        "-d",
        "--name",
        "survivor",
        "--network",
        "rb",
        "-p",
        "127.0.0.1:18081:80",
        "busybox",
        "sh",
        "-c",
        "echo still-here > /tmp/index.html; httpd -f -p 80 -h /tmp",
        check=True,
    )
    assert curl("http://127.0.0.1:18081/") == "still-here\n"
    bridge = dockyard.json("network", "inspect", "rb")[0]["Options"][
        "com.docker.network.bridge.name"
    ]
    # A "reboot" of the network: links and dockyard's nftables tables vanish.
    subprocess.run(["ip", "link", "del", bridge], check=True)
    ours = tables_for(str(dockyard.root.resolve()))  # only this root's tables
    for family, name in (("inet", ours.filter), ("ip", ours.nat)):
        subprocess.run(["nft", "delete", "table", family, name], check=True)
    assert (
        subprocess.run(
            ["curl", "-s", "--max-time", "1", "http://127.0.0.1:18081/"],
            check=False,
            capture_output=True,
        ).returncode
        != 0
    )
    dockyard("run", "--rm", "--network", "rb", "busybox", "true", check=True)  # the next command
    assert curl("http://127.0.0.1:18081/") == "still-here\n"


def test_publish_all_exposed_ports(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "pall",
        "-P",
        "--expose",
        "80",
        "busybox",
        "sh",
        "-c",
        "echo all > /tmp/index.html; httpd -f -p 80 -h /tmp",
        check=True,
    )
    ports = dockyard.json("inspect", "pall")[0]["NetworkSettings"]["Ports"]
    host_port = int(ports["80/tcp"][0]["HostPort"])
    assert curl(f"http://127.0.0.1:{host_port}/") == "all\n"


def test_a_port_another_root_publishes_is_refused(
    dockyard: Dockyard, scratch: Path, image_root: Path, cgroup_prefix: str
) -> None:
    other_root = scratch / "other-root"
    subprocess.run(["cp", "-a", str(image_root), str(other_root)], check=True)
    other = Dockyard(other_root, f"{cgroup_prefix}/other")
    try:
        other(
            "run", "-d", "--name", "first", "-p", "18090:80", "busybox", "sleep", "60", check=True
        )
        # No process listens on 18090 (the kernel forwards it), but the port is other's.
        taken = dockyard("run", "-d", "--name", "second", "-p", "127.0.0.1:18090:80", "busybox",
                         "sleep", "60")  # fmt: skip
        assert taken.returncode == 125
        assert "18090" in taken.stderr and "another dockyard root" in taken.stderr
        assert taken.stderr.count("\n") == 1
        assert dockyard("ps", "-aq", check=True).stdout == ""  # nothing half-made
        mine = tables_for(str(dockyard.root)).nat
        rules = subprocess.run(["nft", "list", "table", "ip", mine], capture_output=True,
                               text=True, check=False).stdout  # fmt: skip
        assert "18090" not in rules
        dockyard("run", "-d", "--name", "third", "-p", "127.0.0.1:18091:80", "busybox", "sleep",
                 "60", check=True)  # fmt: skip
    finally:
        other.cleanup()
