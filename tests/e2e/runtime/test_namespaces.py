"""Namespaces: new ones isolate, joined ones (by path) share, time offsets apply."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from .conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def test_new_network_namespace_has_only_loopback(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("ls", "/sys/class/net")
    bundle.write()
    proc = runtime("run", "--bundle", str(bundle.path), "net1")
    assert proc.returncode == 0 and proc.stdout.split() == [b"lo"]


def test_joining_another_containers_namespaces_by_path(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    first = make_bundle("sleep", "30")
    first.config["hostname"] = "first"
    first.write()
    runtime("run", "-d", "--bundle", str(first.path), "ns-a", check=True)
    pid = runtime.state("ns-a")["pid"]
    second = make_bundle("sh", "-c", "hostname; readlink /proc/self/ns/net")
    namespaces = second.config["linux"]["namespaces"]
    for ns in namespaces:
        if ns["type"] in ("uts", "network"):
            ns["path"] = f"/proc/{pid}/ns/{'net' if ns['type'] == 'network' else 'uts'}"
    second.config.pop("hostname", None)
    second.write()
    proc = runtime("run", "--bundle", str(second.path), "ns-b")
    assert proc.returncode == 0, proc.stderr
    hostname, netns = proc.stdout.decode().split()
    assert hostname == "first"
    assert netns == os.readlink(f"/proc/{pid}/ns/net")


def test_time_namespace_offsets(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("cut", "-d.", "-f1", "/proc/uptime")
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0}}
    bundle.write()
    proc = runtime("run", "--bundle", str(bundle.path), "time1")
    assert proc.returncode == 0, proc.stderr
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    assert int(proc.stdout) - host_uptime > 86400 * 364


def test_oom_score_adj(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("cat", "/proc/self/oom_score_adj")
    bundle.config["process"]["oomScoreAdj"] = 500
    bundle.write()
    proc = runtime("run", "--bundle", str(bundle.path), "oom-adj")
    assert proc.returncode == 0 and proc.stdout == b"500\n"


def test_failing_poststart_hook_is_only_a_warning(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("true")
    fail = {"path": "/bin/sh", "args": ["sh", "-c", "exit 9"]}
    bundle.config["hooks"] = {"poststart": [fail, fail]}
    bundle.write()
    proc = runtime("run", "--bundle", str(bundle.path), "warn1")
    assert proc.returncode == 0
    assert proc.stderr.count(b"warning: poststart hook /bin/sh exited with 9") == 2
