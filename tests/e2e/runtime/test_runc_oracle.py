"""The same bundles under runc (the oracle) and dockyard-runtime give the same observations."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Bundle, Runtime

pytestmark = pytest.mark.root

PROBES = {
    "pid": "echo $$; true",
    "hostname": "hostname",
    "caps": "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status",
    "ids": "id",
    "proc-sys": "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo rw || echo ro",
    "root-ro": "touch /x 2>/dev/null && echo rw || echo ro",
    "keys-masked": "wc -c < /proc/keys",
    "dev": "ls /dev | sort",
    "dev-null": "echo x > /dev/null && echo ok",
    "mount-points": "cut -d' ' -f2,3 /proc/mounts | sort",
    "exit-code": "exit 7",
    "cwd-umask": "pwd; umask",
    "rlimit": "ulimit -n",
}


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_same_observations_as_runc(
    runtime: Runtime, runc: Runtime, make_bundle: Callable[..., Bundle], probe: str
) -> None:
    results = []
    for rt in (runtime, runc):
        bundle = make_bundle("sh", "-c", PROBES[probe])
        bundle.config["hostname"] = "oracle"
        bundle.config["root"]["readonly"] = True
        bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [100]}
        bundle.config["process"]["cwd"] = "/tmp"
        bundle.config["linux"]["maskedPaths"].append("/proc/keys")
        bundle.write()
        proc = rt("run", "--bundle", str(bundle.path), f"oracle-{probe}")
        results.append((proc.returncode, proc.stdout.decode()))
    assert results[0] == results[1]
