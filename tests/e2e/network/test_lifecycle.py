"""Bad input leaves nothing behind; restore after a simulated reboot; inspect and prune."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.network.manager import NetworkManager
from dockyard.network.netns import remove_netns
from dockyard.network.ports import PortSpec
from tests.e2e.network.helpers import cid, eventually, run_in

pytestmark = pytest.mark.root


def _links() -> set[str]:
    out = subprocess.run(["ip", "-j", "link"], check=True, capture_output=True, text=True)
    return {link["ifname"] for link in json.loads(out.stdout)}


def test_bad_input_is_one_clear_error_and_makes_nothing(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    net = manager.create("dytest-bad", subnet="10.250.30.0/24")
    links = _links()
    with pytest.raises(
        Conflict, match=re.escape("subnet 10.250.30.0/25 overlaps network dytest-bad")
    ):
        manager.create("dytest-bad2", subnet="10.250.30.0/25")
    with pytest.raises(Conflict, match="overlaps the host route"):
        manager.create("dytest-bad2", subnet="192.0.2.0/24")
    with pytest.raises(InvalidArgument, match="invalid subnet"):
        manager.create("dytest-bad2", subnet="10.250.31.0/33")
    with pytest.raises(
        InvalidArgument, match=re.escape("gateway 10.250.32.1 is not a host address")
    ):
        manager.create("dytest-bad2", subnet="10.250.31.0/24", gateway="10.250.32.1")
    with pytest.raises(Conflict, match="network with name dytest-bad already exists"):
        manager.create("dytest-bad", subnet="10.250.31.0/24")
    assert [n.name for n in manager.list()] == ["dytest-bad"]
    a, b = netns("a"), netns("b")
    with pytest.raises(InvalidArgument, match=re.escape("IP 10.250.31.5 is not a host address")):
        manager.attach(net.name, cid(1), "one", a, ip="10.250.31.5")
    manager.attach(net.name, cid(1), "one", a, ip="10.250.30.7")
    links_with_a = _links()
    with pytest.raises(
        Conflict, match=re.escape("IP 10.250.30.7 is already in use on network dytest-bad")
    ):
        manager.attach(net.name, cid(2), "two", b, ip="10.250.30.7")
    assert _links() == links_with_a and len(links_with_a - links) == 1
    assert manager.endpoints(cid(2)) == []
    with pytest.raises(Conflict, match="network dytest-bad is in use by containers one"):
        manager.remove(net.name)
    with pytest.raises(NotFound, match="network nope not found"):
        manager.remove("nope")


def test_a_failed_attach_is_undone(manager: NetworkManager, scratch: Path) -> None:
    net = manager.create("dytest-undo", subnet="10.250.33.0/24")
    links = _links()
    with pytest.raises(Exception):  # noqa: B017 - any failure: the netns file does not exist
        manager.attach(net.name, cid(1), "one", scratch / "no-such-netns")
    assert _links() == links
    assert manager.db.query("SELECT * FROM ip_leases") == []
    assert manager.endpoints(cid(1)) == []


def test_restore_after_reboot(manager: NetworkManager, netns: Callable[[str], Path]) -> None:
    net = manager.create("dytest-boot", subnet="10.250.34.0/24")
    a, b = netns("a"), netns("b")
    manager.attach(net.name, cid(1), "alive", a)
    eb = manager.attach(net.name, cid(2), "gone", b)
    manager.publish(cid(1), [PortSpec("127.0.0.1", 18090, 80)])
    # The "reboot": links and tables vanish, and container b's netns with them.
    subprocess.run(["ip", "link", "del", net.bridge], check=True)
    subprocess.run(["ip", "link", "del", eb.host_veth], check=False)
    subprocess.run(["nft", "delete", "table", "ip", manager.tables.nat], check=True)
    subprocess.run(["nft", "delete", "table", "inet", manager.tables.filter], check=True)
    remove_netns(b)
    report = manager.restore()
    assert report.restored == (cid(1),) and report.stopped == (cid(2),)
    assert net.bridge in _links()
    assert eventually(
        lambda: run_in(a, "busybox", "ping", "-c1", "-W1", net.gateway).returncode == 0, timeout=3
    )
    nat = subprocess.run(
        ["nft", "list", "table", "ip", manager.tables.nat],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "dnat to 10.250.34.2:80" in nat
    assert [r["container_id"] for r in manager.db.query("SELECT * FROM ip_leases")] == [cid(1)]


def test_inspect_and_prune(manager: NetworkManager, netns: Callable[[str], Path]) -> None:
    used = manager.create("dytest-used", subnet="10.250.35.0/24", labels={"k": "v"})
    manager.create("dytest-idle", subnet="10.250.36.0/24")
    manager.attach(used.name, cid(1), "one", netns("a"))
    doc = manager.inspect("dytest-used")
    assert doc["Name"] == "dytest-used" and doc["Labels"] == {"k": "v"}
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.250.35.0/24", "Gateway": "10.250.35.1"}]
    assert doc["Containers"][cid(1)]["IPv4Address"] == "10.250.35.2/24"
    assert doc["Containers"][cid(1)]["Name"] == "one"
    assert manager.prune() == ["dytest-idle"]
    assert [n.name for n in manager.list()] == ["dytest-used"]
