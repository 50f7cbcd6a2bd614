"""nftables rules in dockyard's own tables: NAT, isolation, `--internal`, published ports.

The whole ruleset is a pure function of the networks and publications (`plan`); `apply`
replaces dockyard's two tables in one atomic `nft -j -f -` transaction, so applying is
idempotent and removal is exact. No other table or chain is ever touched.

Host firewall policy: dockyard's forward chain only ever *drops*; it never accepts. In
nftables an accept ends only the chain that says it, while a drop is final, so published
ports and outbound traffic still have to pass the host's own forward filter chains.
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.errors import KernelError, Unavailable

TABLE_PREFIX = "dockyard"
DEFAULT_ROOT = "/var/lib/dockyard"
# After the host's own filter (priority 0) so the host decides first; see the module doc.
FORWARD_PRIORITY = 10
LOOPBACK_NET = ("127.0.0.0", 8)

Json = dict[str, Any]


@dataclass(frozen=True)
class Tables:
    """The two tables one dockyard root owns: `inet <filter>` and `ip <nat>`."""

    filter: str = TABLE_PREFIX
    nat: str = f"{TABLE_PREFIX}-nat"

    def filter_table(self) -> Json:
        """The filter table's JSON id."""
        return {"family": "inet", "name": self.filter}

    def nat_table(self) -> Json:
        """The nat table's JSON id."""
        return {"family": "ip", "name": self.nat}


def tables_for(root: str) -> Tables:
    """The tables of a root: plain `dockyard`/`dockyard-nat` for the default root, else suffixed.

    Each root syncs its own tables whole, so two roots (tests, `--root`) must never share them.
    """
    if root.rstrip("/") == DEFAULT_ROOT:
        return Tables()
    tag = hashlib.sha256(root.encode()).hexdigest()[:8]
    return Tables(f"{TABLE_PREFIX}-{tag}", f"{TABLE_PREFIX}-nat-{tag}")


@dataclass(frozen=True)
class NetRules:
    """What the rules need to know of one network."""

    name: str
    bridge: str
    subnet: str
    internal: bool = False


@dataclass(frozen=True)
class PortRules:
    """What the rules need to know of one published port."""

    container_id: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    proto: str


def _match(left: Json, right: Any, op: str = "==") -> Json:
    return {"match": {"op": op, "left": left, "right": right}}


def _meta(key: str) -> Json:
    return {"meta": {"key": key}}


def _payload(protocol: str, field: str) -> Json:
    return {"payload": {"protocol": protocol, "field": field}}


def _prefix(cidr: str) -> Json:
    addr, _, length = cidr.partition("/")
    return {"prefix": {"addr": addr, "len": int(length or 32)}}


def _rule(table: Json, chain: str, comment: str, *expr: Json) -> Json:
    owner = {"family": table["family"], "table": table["name"]}
    return {"add": {"rule": {**owner, "chain": chain, "expr": list(expr), "comment": comment}}}


def _chain(table: Json, name: str, hook: str, kind: str, prio: int) -> Json:
    return {
        "add": {
            "chain": {
                "family": table["family"],
                "table": table["name"],
                "name": name,
                "type": kind,
                "hook": hook,
                "prio": prio,
                "policy": "accept",
            }
        }
    }


def network_comment(net: NetRules) -> str:
    """The comment on every rule made for a network."""
    return f"dockyard net {net.name}"


def port_comment(port: PortRules) -> str:
    """The comment on every rule made for a published port."""
    return f"dockyard port {port.container_id[:12]} {port.host_ip}:{port.host_port}/{port.proto}"


def plan(
    networks: Sequence[NetRules], ports: Sequence[PortRules], tables: Tables | None = None
) -> list[Json]:
    """The nft JSON commands that make dockyard's tables hold exactly these rules."""
    # add-then-delete empties a table whether or not it existed, in the same transaction.
    cmds: list[Json] = []
    names = tables or Tables()
    f, n = names.filter_table(), names.nat_table()
    for table in (f, n):
        cmds.append({"add": {"table": dict(table)}})
        cmds.append({"delete": {"table": dict(table)}})
    if not networks:
        return cmds
    cmds.append({"add": {"table": dict(f)}})
    cmds.append(_chain(f, "forward", "forward", "filter", FORWARD_PRIORITY))
    cmds.append({"add": {"table": dict(n)}})
    cmds.append(_chain(n, "prerouting", "prerouting", "nat", -100))
    cmds.append(_chain(n, "output", "output", "nat", -100))
    cmds.append(_chain(n, "postrouting", "postrouting", "nat", 100))
    bridges = [net.bridge for net in networks]
    for net in networks:
        c = network_comment(net)
        iif, oif = _meta("iifname"), _meta("oifname")
        if net.internal:
            cmds.append(
                _rule(
                    f,
                    "forward",
                    c,
                    _match(iif, net.bridge),
                    _match(oif, net.bridge, "!="),
                    {"drop": None},
                )
            )
            cmds.append(
                _rule(
                    f,
                    "forward",
                    c,
                    _match(oif, net.bridge),
                    _match(iif, net.bridge, "!="),
                    {"drop": None},
                )
            )
        others = [b for b in bridges if b != net.bridge]
        if others:
            cmds.append(
                _rule(
                    f,
                    "forward",
                    c,
                    _match(iif, net.bridge),
                    _match(oif, {"set": others}),
                    {"drop": None},
                )
            )
        if not net.internal:
            cmds.append(
                _rule(
                    n,
                    "postrouting",
                    c,
                    _match(_payload("ip", "saddr"), _prefix(net.subnet)),
                    _match(oif, net.bridge, "!="),
                    {"masquerade": None},
                )
            )
        # Host-local clients of published ports (127.0.0.1, or a container hairpinning through
        # the host IP) need their source rewritten so the reply comes back through us.
        cmds.append(
            _rule(
                n,
                "postrouting",
                c,
                _match(oif, net.bridge),
                _match(_payload("ip", "saddr"), _prefix("/".join(map(str, LOOPBACK_NET)))),
                {"masquerade": None},
            )
        )
        cmds.append(
            _rule(
                n,
                "postrouting",
                c,
                _match(oif, net.bridge),
                _match({"ct": {"key": "status"}}, "dnat", "in"),
                _match(_payload("ip", "saddr"), _prefix(net.subnet)),
                {"masquerade": None},
            )
        )
    for port in ports:
        c = port_comment(port)
        dport = _match(_payload(port.proto, "dport"), port.host_port)
        if port.host_ip == "0.0.0.0":
            dest = _match({"fib": {"result": "type", "flags": ["daddr"]}}, "local")
        else:
            dest = _match(_payload("ip", "daddr"), port.host_ip)
        dnat = {"dnat": {"addr": port.container_ip, "port": port.container_port}}
        for chain in ("prerouting", "output"):
            cmds.append(_rule(n, chain, c, dest, dport, dnat))
    return cmds


def apply(commands: Sequence[Json], nft: str = "nft") -> None:
    """Run the commands as one nft transaction (all or nothing)."""
    exe = shutil.which(nft)
    if exe is None:
        raise Unavailable("the nft command is missing: install nftables (apt-get install nftables)")
    proc = subprocess.run(
        [exe, "-j", "-f", "-"],
        input=json.dumps({"nftables": list(commands)}),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        # nft reports failures as text only; EINVAL stands for "the kernel refused the batch".
        detail = proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else ""
        raise KernelError("nft", "dockyard tables", errno.EINVAL, detail)


def list_tables(nft: str = "nft") -> list[str]:
    """`family name` of every nftables table on the host named like dockyard's."""
    exe = shutil.which(nft)
    if exe is None:
        return []
    proc = subprocess.run([exe, "-j", "list", "tables"], capture_output=True, text=True, check=True)
    found = []
    for item in json.loads(proc.stdout).get("nftables", []):
        table = item.get("table")
        if table and table["name"].startswith(TABLE_PREFIX):
            found.append(f"{table['family']} {table['name']}")
    return found
