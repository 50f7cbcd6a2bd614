"""IPv6 through the CLI: busybox containers on a `--ipv6` network, names, httpd, -p, --ip6."""

from __future__ import annotations

import ipaddress
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.cli.conftest import Dockyard, dockyard, image_root  # noqa: F401 - fixtures
from tests.e2e.network.helpers import ula64

pytestmark = pytest.mark.root

HOST_V6 = "fd00::2"  # the test host's own v6 address on eth0


def _curl(url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        proc = subprocess.run(
            ["curl", "-s", "-g", "--max-time", "2", url],
            check=False,
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0 or time.monotonic() > deadline:
            return proc.stdout
        time.sleep(0.1)


def test_v6_names_addresses_httpd_and_published_port(dockyard: Dockyard) -> None:  # noqa: F811
    sub6 = ula64()
    prefix = ipaddress.IPv6Network(sub6)
    dockyard(
        "network", "create", "--ipv6", "--subnet", "10.252.61.0/24", "--subnet", sub6, "v6net",
        check=True,
    )  # fmt: skip
    doc = dockyard.json("network", "inspect", "v6net")[0]
    assert doc["EnableIPv6"] is True
    assert doc["IPAM"]["Config"] == [
        {"Subnet": "10.252.61.0/24", "Gateway": "10.252.61.1"},
        {"Subnet": sub6, "Gateway": str(prefix[1])},
    ]
    wanted = str(prefix[0x80])
    dockyard(
        "run", "-d", "--name", "web", "--network", "v6net", "--ip6", wanted, "-p", "18561:80",
        "busybox", "sh", "-c", "echo served-over-v6 > /tmp/index.html; httpd -f -p 80 -h /tmp",
        check=True,
    )  # fmt: skip
    dockyard("run", "-d", "--name", "client", "--network", "v6net", "busybox", "sleep", "60",
             check=True)  # fmt: skip
    settings = dockyard.json("inspect", "web")[0]["NetworkSettings"]
    ours = settings["Networks"]["v6net"]
    assert ours["GlobalIPv6Address"] == wanted
    assert ours["GlobalIPv6PrefixLen"] == 64 and ours["IPv6Gateway"] == str(prefix[1])
    assert ours["IPAMConfig"] == {"IPv6Address": wanted}
    assert settings["GlobalIPv6Address"] == wanted
    assert {"HostIp": "::", "HostPort": "18561"} in settings["Ports"]["80/tcp"]
    members = dockyard.json("network", "inspect", "v6net")[0]["Containers"]
    assert {c["Name"]: c["IPv6Address"] for c in members.values()}["web"] == f"{wanted}/64"
    client6 = dockyard("inspect", "-f", "{{.NetworkSettings.GlobalIPv6Address}}", "client")
    client6_ip = client6.stdout.strip()
    assert ipaddress.IPv6Address(client6_ip) in prefix

    # By name and by address over v6, both ways.
    out = dockyard(
        "exec", "client", "sh", "-c",
        f"ping -6 -c1 -W2 web >/dev/null && echo by-name; "
        f"ping -6 -c1 -W2 {wanted} >/dev/null && echo by-address; "
        f"wget -q -O- 'http://[{wanted}]:80/'",
    )  # fmt: skip
    assert out.stdout.splitlines() == ["by-name", "by-address", "served-over-v6"], out.stderr
    back = dockyard("exec", "web", "ping", "-6", "-c1", "-W2", "client")
    assert back.returncode == 0 and client6_ip in back.stdout
    # From the host: the container's v6 address, and the published port on a v6 host address.
    assert _curl(f"http://[{wanted}]:80/") == "served-over-v6\n"
    assert _curl(f"http://[{HOST_V6}]:18561/") == "served-over-v6\n"
    assert _curl("http://127.0.0.1:18561/") == "served-over-v6\n"

    # network connect --ip6 on a second v6 network.
    sub6b = ula64(1)
    dockyard("network", "create", "--ipv6", "--subnet", sub6b, "v6second", check=True)
    other = str(ipaddress.IPv6Network(sub6b)[0x99])
    dockyard("network", "connect", "--ip6", other, "v6second", "client", check=True)
    nets = dockyard.json("inspect", "client")[0]["NetworkSettings"]["Networks"]
    assert nets["v6second"]["GlobalIPv6Address"] == other
    addrs = dockyard("exec", "client", "ip", "-6", "addr", "show", "eth1").stdout
    assert other in addrs

    dockyard("rm", "-f", "web", "client", check=True)
    dockyard("network", "rm", "v6net", "v6second", check=True)
    tables = subprocess.run(["nft", "list", "tables"], check=True, capture_output=True, text=True)
    from dockyard.network.firewall import tables_for

    assert tables_for(str(dockyard.root.resolve())).nat not in tables.stdout


def test_bad_v6_input_is_one_line_and_makes_nothing(dockyard: Dockyard) -> None:  # noqa: F811
    sub6 = ula64()
    bad = [
        (["network", "create", "--subnet", sub6, "n1"], "add --ipv6"),
        (["network", "create", "--ipv6", "--subnet", "fd12::1/64", "n1"], "invalid subnet"),
        (["network", "create", "--ipv6", "--subnet", "fd12::/64", "--subnet", sub6, "n1"],
         "--subnet given twice for IPv6"),
    ]  # fmt: skip
    for argv, message in bad:
        proc = dockyard(*argv)
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    dockyard("network", "create", "--ipv6", "--subnet", sub6, "v6a", check=True)
    clash = dockyard("network", "create", "--ipv6", "--subnet", sub6, "v6b")
    assert clash.returncode != 0 and "overlaps network v6a" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1
    prefix = ipaddress.IPv6Network(sub6)
    taken = str(prefix[5])
    dockyard("run", "-d", "--name", "one", "--network", "v6a", "--ip6", taken, "busybox",
             "sleep", "60", check=True)  # fmt: skip
    for ip6, message in [("fd12::5", "is not a host address"), (taken, "already in use")]:
        proc = dockyard("run", "-d", "--name", "two", "--network", "v6a", "--ip6", ip6,
                        "busybox", "sleep", "60")  # fmt: skip
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "two" not in dockyard("ps", "-a", "--format", "{{.Names}}").stdout.split()
    # network connect checks --ip6 before it records anything, for a stopped container too.
    dockyard("create", "--name", "idle", "busybox", "true", check=True)
    proc = dockyard("network", "connect", "--ip6", taken, "v6a", "idle")
    assert proc.returncode != 0 and "already in use" in proc.stderr
    nets = dockyard.json("inspect", "idle")[0]["NetworkSettings"]["Networks"]
    assert "v6a" not in nets
    names = dockyard("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "v6b" not in names and "n1" not in names


def test_compose_enable_ipv6_and_ipv6_address(dockyard: Dockyard, scratch: Path) -> None:  # noqa: F811
    sub6 = ula64()
    web6 = str(ipaddress.IPv6Network(sub6)[0x50])
    compose = scratch / "compose.yaml"
    compose.write_text(
        f"""
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo compose-v6 > /tmp/index.html; httpd -f -p 80 -h /tmp"]
    networks:
      six:
        ipv6_address: "{web6}"
  client:
    image: busybox
    command: ["sleep", "60"]
    networks: [six]
networks:
  six:
    enable_ipv6: true
    ipam:
      config:
        - subnet: 10.252.62.0/24
        - subnet: "{sub6}"
"""
    )
    base = ["compose", "-f", str(compose), "-p", "v6proj"]
    dockyard(*base, "up", "-d", check=True, timeout=120)
    doc = dockyard.json("network", "inspect", "v6proj_six")[0]
    assert doc["EnableIPv6"] is True and doc["IPAM"]["Config"][1]["Subnet"] == sub6
    out = dockyard(*base, "exec", "client", "ping", "-6", "-c1", "-W2", "web")
    assert out.returncode == 0 and web6 in out.stdout, out.stderr
    assert _curl(f"http://[{web6}]:80/") == "compose-v6\n"
    dockyard(*base, "down", check=True, timeout=120)
    assert "v6proj_six" not in dockyard("network", "ls").stdout
