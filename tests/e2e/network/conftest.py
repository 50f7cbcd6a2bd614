"""Fixtures for the network e2e tests: a manager on a private root, netns "containers",
processes inside them, and a session check that no dockyard link, table or netns survives."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dockyard.network import firewall
from dockyard.network.manager import NetworkManager
from dockyard.network.netns import create_netns, remove_netns
from dockyard.state.db import StateDB


@dataclass
class Made:
    """What this session's network tests made: the roots (their nft tables) and link names."""

    roots: list[Path] = field(default_factory=list)
    links: set[str] = field(default_factory=set)


def _links() -> set[str]:
    out = subprocess.run(["ip", "-j", "link"], check=True, capture_output=True, text=True)
    return {link["ifname"] for link in json.loads(out.stdout)}


def _netns_mounts(base: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if str(base) in line.split()[4]]


@pytest.fixture(scope="session")
def network_leak_guard(test_base: Path) -> Iterator[Made]:
    """Fail the session if links, nft tables or netns mounts made by these tests remain.

    Only what these tests made is checked: other suites may run dockyard networks meanwhile.
    """
    made = Made()
    yield made
    tables = set(firewall.list_tables())
    ours = set()
    for root in made.roots:
        t = firewall.tables_for(str(root.resolve()))
        ours |= {f"inet {t.filter}", f"ip {t.nat}", f"ip6 {t.nat}"}
    left = {
        "links": sorted(made.links & _links()),
        "nft tables": sorted(tables & ours),
        "netns": _netns_mounts(test_base),
    }
    assert not any(left.values()), f"network tests leaked: {left}"


@pytest.fixture
def manager(scratch: Path, network_leak_guard: Made) -> Iterator[NetworkManager]:
    """A NetworkManager on a private root; every network and endpoint is removed afterwards."""
    root = scratch / "root"
    db = StateDB(root)
    mgr = NetworkManager(db, root)
    network_leak_guard.roots.append(root)
    yield mgr
    network_leak_guard.links |= {n.bridge for n in mgr.list()}
    network_leak_guard.links |= {
        r["host_veth"] for r in db.query("SELECT host_veth FROM endpoints")
    }
    for ep_row in db.query("SELECT DISTINCT container_id FROM endpoints"):
        mgr.detach_all(ep_row["container_id"])
    for net in mgr.list():
        mgr.remove(net.id)
    db.close()


@pytest.fixture
def netns(scratch: Path, network_leak_guard: Made) -> Iterator[Callable[[str], Path]]:
    """A factory of named network namespaces under the test's scratch dir."""
    made: list[Path] = []

    def make(name: str) -> Path:
        path = scratch / "netns" / name
        create_netns(path)
        made.append(path)
        return path

    yield make
    for path in made:
        remove_netns(path)


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a process inside a netns (nsenter); all are killed afterwards."""
    procs: list[subprocess.Popen[str]] = []

    def start(ns: Path, *argv: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            ["nsenter", f"--net={ns}", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.communicate()
