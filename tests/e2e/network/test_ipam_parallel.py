"""Twenty processes lease IPs from one network at once: every address is unique."""

from __future__ import annotations

import ipaddress
import multiprocessing
from pathlib import Path

from dockyard.network import ipam
from dockyard.state.db import StateDB


def _lease(root: str, n: int) -> str:
    db = StateDB(Path(root))
    try:
        with db.transaction() as conn:
            ip = ipam.allocate(
                conn,
                network_id="net",
                network_name="dytest-par",
                subnet=ipaddress.IPv4Network("10.250.20.0/24"),
                gateway=ipaddress.IPv4Address("10.250.20.1"),
                container_id=f"c{n}",
            )
        return str(ip)
    finally:
        db.close()


def test_parallel_allocations_never_collide(scratch: Path) -> None:
    root = scratch / "root"
    with StateDB(root) as db:
        db.migrate("network.ipam", ipam.MIGRATIONS)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(20) as pool:
        ips = pool.starmap(_lease, [(str(root), n) for n in range(20)])
    assert len(set(ips)) == 20
    assert "10.250.20.1" not in ips
    assert sorted(ips, key=ipaddress.IPv4Address) == [f"10.250.20.{i}" for i in range(2, 22)]
