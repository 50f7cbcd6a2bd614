"""nftables rules in dockyard's own tables: NAT, isolation, `--internal`, published ports.

The whole ruleset is a pure function of the networks and publications (`plan`); `apply`
replaces dockyard's two tables in one atomic `nft -j -f -` transaction, so applying is
idempotent and removal is exact. No other table or chain is ever touched.

Host firewall policy: dockyard's forward chain only ever *drops*; it never accepts. In
nftables an accept ends only the chain that says it, while a drop is final, so published
ports and outbound traffic still have to pass the host's own forward filter chains.

IPv6: the filter table is `inet`, and its rules match interfaces only, so isolation and
`--internal` hold for both families. NAT for v6 lives in an `ip6` table with the same name as
the `ip` nat table (nft table names are per family), made only while a v6 network exists.
The kernel cannot DNAT to a bridge what a host process sends to ::1 (a packet with a loopback
source never leaves `lo`, and masquerade comes too late), so ::1 is left out of the v6 DNAT:
a connection to [::1]:PORT is refused at once instead of hanging.
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
LOOPBACK6 = "::1"
ANY_HOST_IPS = ("0.0.0.0", "::", "")

Json = dict[str, Any]


@dataclass(frozen=True)
class Tables:
    """The tables one dockyard root owns: `inet <filter>`, `ip <nat>` and `ip6 <nat>`."""

    filter: str = TABLE_PREFIX
    nat: str = f"{TABLE_PREFIX}-nat"

    def filter_table(self) -> Json:
        """The filter table's JSON id."""
        return {"family": "inet", "name": self.filter}

    def nat_table(self) -> Json:
        """The nat table's JSON id."""
        return {"family": "ip", "name": self.nat}

    def nat6_table(self) -> Json:
        """The IPv6 nat table's JSON id (same name, family ip6)."""
        return {"family": "ip6", "name": self.nat}


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
    subnet6: str = ""


@dataclass(frozen=True)
class PortRules:
    """What the rules need to know of one published port."""

    container_id: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    proto: str
    container_ip6: str = ""

    def families(self) -> tuple[str, ...]:
        """Which nat tables get a DNAT (see `dnat_families`)."""
        return dnat_families(self.host_ip, bool(self.container_ip6))


def dnat_families(host_ip: str, has_ip6: bool) -> tuple[str, ...]:
    """Which nat tables a publication on `host_ip` DNATs in: `ip` unless the host IP is v6,
    `ip6` when the container has a v6 address and the host IP is v6 or a wildcard."""
    out = []
    if ":" not in host_ip:
        out.append("ip")
    if has_ip6 and (":" in host_ip or host_ip in ANY_HOST_IPS):
        out.append("ip6")
    return tuple(out)


def _match(left: Json, right: Any, op: str = "==") -> Json:
    return {"match": {"op": op, "left": left, "right": right}}


def _meta(key: str) -> Json:
    return {"meta": {"key": key}}


def _payload(protocol: str, field: str) -> Json:
    return {"payload": {"protocol": protocol, "field": field}}


def _prefix(cidr: str) -> Json:
    addr, _, length = cidr.partition("/")
    return {"prefix": {"addr": addr, "len": int(length or (128 if ":" in addr else 32))}}


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
    f, n, n6 = names.filter_table(), names.nat_table(), names.nat6_table()
    for table in (f, n, n6):
        cmds.append({"add": {"table": dict(table)}})
        cmds.append({"delete": {"table": dict(table)}})
    if not networks:
        return cmds
    cmds.append({"add": {"table": dict(f)}})
    cmds.append(_chain(f, "forward", "forward", "filter", FORWARD_PRIORITY))
    nat_tables = [n] + ([n6] if any(net.subnet6 for net in networks) else [])
    for table in nat_tables:
        cmds.append({"add": {"table": dict(table)}})
        cmds.append(_chain(table, "prerouting", "prerouting", "nat", -100))
        cmds.append(_chain(table, "output", "output", "nat", -100))
        cmds.append(_chain(table, "postrouting", "postrouting", "nat", 100))
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
    for net in networks:
        if net.subnet6:
            cmds += _v6_net_rules(n6, net)
    for port in ports:
        c = port_comment(port)
        dport = _match(_payload(port.proto, "dport"), port.host_port)
        local = _match({"fib": {"result": "type", "flags": ["daddr"]}}, "local")
        if "ip" in port.families():
            dest = (
                [local]
                if port.host_ip in ANY_HOST_IPS
                else [_match(_payload("ip", "daddr"), port.host_ip)]
            )
            dnat = {"dnat": {"addr": port.container_ip, "port": port.container_port}}
            for chain in ("prerouting", "output"):
                cmds.append(_rule(n, chain, c, *dest, dport, dnat))
        if "ip6" in port.families():
            daddr6 = _payload("ip6", "daddr")
            if port.host_ip in ANY_HOST_IPS:
                dest = [local, _match(daddr6, LOOPBACK6, "!=")]
            else:
                dest = [_match(daddr6, port.host_ip)]
            dnat6 = {"dnat": {"addr": port.container_ip6, "port": port.container_port}}
            for chain in ("prerouting", "output"):
                cmds.append(_rule(n6, chain, c, *dest, dport, dnat6))
    return cmds


def _v6_net_rules(n6: Json, net: NetRules) -> list[Json]:
    # The v6 twins of the v4 masquerade rules (no loopback one: see the module doc).
    c = network_comment(net)
    oif = _meta("oifname")
    saddr6 = _payload("ip6", "saddr")
    out = []
    if not net.internal:
        out.append(
            _rule(
                n6,
                "postrouting",
                c,
                _match(saddr6, _prefix(net.subnet6)),
                _match(oif, net.bridge, "!="),
                {"masquerade": None},
            )
        )
    out.append(
        _rule(
            n6,
            "postrouting",
            c,
            _match(oif, net.bridge),
            _match({"ct": {"key": "status"}}, "dnat", "in"),
            _match(saddr6, _prefix(net.subnet6)),
            {"masquerade": None},
        )
    )
    return out


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


NAT_PREFIX = f"{TABLE_PREFIX}-nat"  # every root's nat tables: `dockyard-nat`, `dockyard-nat-<tag>`


@dataclass(frozen=True)
class ForwardedPort:
    """A host port some nat table DNATs to a container.

    `family` is the table's (`ip`, `ip6`); `host_ip` is that family's wildcard ("0.0.0.0",
    "::") when the rule matches every local address.
    """

    family: str
    table: str
    host_ip: str
    host_port: int
    proto: str

    def owner(self) -> str:
        """Who publishes it, for messages: the root when the table name tells it, else the
        table (a root's tag is a hash of its path, which cannot be read back)."""
        if self.table == NAT_PREFIX:
            return f"{DEFAULT_ROOT} (nft table {self.family} {self.table})"
        return f"nft table {self.family} {self.table}"


def forwarded_ports(listing: Json) -> list[ForwardedPort]:
    """The DNATed host ports in `nft -j list table|chain` output (prerouting rules only: the
    output chain repeats each of them)."""
    found = []
    for item in listing.get("nftables", []):
        rule = item.get("rule")
        if not rule or rule.get("chain") != "prerouting":
            continue
        exprs = [e for e in rule.get("expr") or [] if isinstance(e, dict)]
        if not any("dnat" in e for e in exprs):
            continue
        family = str(rule.get("family"))
        host_ip = "::" if family == "ip6" else "0.0.0.0"
        port: int | None = None
        proto = ""
        for expr in exprs:
            match = expr.get("match")
            left = match.get("left") if isinstance(match, dict) else None
            payload = left.get("payload") if isinstance(left, dict) else None
            # `!=` matches (the v6 wildcard's `daddr != ::1`) narrow nothing we compare on.
            if not isinstance(payload, dict) or match is None or match.get("op") != "==":
                continue
            if payload.get("field") == "dport" and isinstance(match.get("right"), int):
                port, proto = match["right"], str(payload.get("protocol"))
            elif payload.get("field") == "daddr" and isinstance(match.get("right"), str):
                host_ip = match["right"]
        if port is not None:
            found.append(ForwardedPort(family, str(rule.get("table")), host_ip, port, proto))
    return found


def _nft_json(exe: str, *args: str) -> Json | None:
    # None when the object vanished meanwhile (another root removing its last network).
    proc = subprocess.run([exe, "-j", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    try:
        listing = json.loads(proc.stdout)
    except ValueError:
        return None
    return listing if isinstance(listing, dict) else None


def foreign_forwarded_ports(own: Tables, nft: str = "nft") -> list[ForwardedPort]:
    """Host ports that other dockyard roots publish (their DNAT is invisible to a bind test).

    One `nft -j list tables`, then one `list chain <family> <table> prerouting` per other
    root's nat table; no other table is read.
    """
    exe = shutil.which(nft)
    if exe is None:
        return []
    tables = _nft_json(exe, "list", "tables") or {}
    found = []
    for item in tables.get("nftables", []):
        table = item.get("table") if isinstance(item, dict) else None
        if not isinstance(table, dict):
            continue
        family, name = str(table.get("family")), str(table.get("name"))
        if family not in ("ip", "ip6") or name == own.nat:
            continue
        if name != NAT_PREFIX and not name.startswith(f"{NAT_PREFIX}-"):
            continue
        chain = _nft_json(exe, "list", "chain", family, name, "prerouting")
        if chain is not None:
            found += forwarded_ports(chain)
    return found
