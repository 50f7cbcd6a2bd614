"""create → start → state → kill → delete, and the errors runc gives for each wrong order."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest

from .conftest import Bundle, Runtime, alive, cgroup_exists

pytestmark = pytest.mark.root


def wait_status(runtime: Runtime, cid: str, want: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while runtime("state", cid).returncode or runtime.state(cid)["status"] != want:
        assert time.monotonic() < deadline, f"{cid} never became {want}"
        time.sleep(0.02)


def test_create_waits_before_the_program_until_start(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sh", "-c", "echo started > /started; sleep 30")
    bundle.write()
    pid_file = bundle.path / "pid"
    runtime("create", "--bundle", str(bundle.path), "--pid-file", str(pid_file), "c1", check=True)
    state = runtime.state("c1")
    assert state["status"] == "created"
    assert state["id"] == "c1" and state["bundle"] == str(bundle.path)
    assert int(pid_file.read_text()) == state["pid"]
    assert not (bundle.rootfs / "started").exists()

    runtime("start", "c1", check=True)
    assert runtime.state("c1")["status"] == "running"
    deadline = time.monotonic() + 5
    while not (bundle.rootfs / "started").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)

    again = runtime("start", "c1")
    assert again.returncode == 1 and b"not created" in again.stderr

    refused = runtime("delete", "c1")
    assert refused.returncode == 1 and b"not stopped" in refused.stderr
    assert runtime.state("c1")["status"] == "running"

    runtime("kill", "c1", "KILL", check=True)
    wait_status(runtime, "c1", "stopped")
    runtime("delete", "c1", check=True)
    assert runtime("state", "c1").returncode == 1
    assert not cgroup_exists(bundle.config["linux"]["cgroupsPath"])
    assert not alive(state["pid"])


def test_delete_force_kills_a_running_container(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sleep", "30")
    bundle.write()
    runtime("run", "--detach", "--bundle", str(bundle.path), "c2", check=True)
    pid = runtime.state("c2")["pid"]
    assert alive(pid)
    runtime("delete", "--force", "c2", check=True)
    assert not alive(pid)
    assert not cgroup_exists(bundle.config["linux"]["cgroupsPath"])
    assert runtime("list", "-q").stdout == b""


def test_delete_of_a_created_container_kills_it(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("true")
    bundle.write()
    runtime("create", "--bundle", str(bundle.path), "c3", check=True)
    pid = runtime.state("c3")["pid"]
    runtime("delete", "c3", check=True)
    assert not alive(pid)


def test_run_returns_the_exit_code_and_128_plus_signal(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    b1 = make_bundle("sh", "-c", "exit 7")
    b1.write()
    assert runtime("run", "--bundle", str(b1.path), "e1").returncode == 7
    # PID 1 ignores signals sent from inside its namespace, so kill it from outside.
    b2 = make_bundle("sleep", "30")
    b2.write()
    cmd = [runtime.binary, "--root", str(runtime.root), "run", "--bundle", str(b2.path), "e2"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        wait_status(runtime, "e2", "running")
        runtime("kill", "e2", "KILL", check=True)
        assert proc.wait(timeout=10) == 137
    finally:
        proc.kill()
        proc.wait()
    assert runtime("list", "-q").stdout == b""


def test_run_passes_stdio_through(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sh", "-c", "cat; echo err >&2")
    bundle.write()
    proc = runtime("run", "--bundle", str(bundle.path), "io", input=b"hello\n")
    assert proc.returncode == 0
    assert proc.stdout == b"hello\n"
    assert proc.stderr == b"err\n"


def test_kill_sends_the_named_signal(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sh", "-c", "trap 'echo got-usr1 > /sig; exit 3' USR1; sleep 30 & wait")
    bundle.write()
    runtime("run", "-d", "--bundle", str(bundle.path), "k1", check=True)
    time.sleep(0.2)
    runtime("kill", "k1", "SIGUSR1", check=True)
    wait_status(runtime, "k1", "stopped")
    assert (bundle.rootfs / "sig").read_text() == "got-usr1\n"
    bad = runtime("kill", "k1", "NOSUCHSIG")
    assert bad.returncode == 1


def test_list_and_state_json(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sleep", "30")
    bundle.write()
    runtime("create", "--bundle", str(bundle.path), "l1", check=True)
    import json

    rows = json.loads(runtime("list", "--format", "json", check=True).stdout)
    assert [(r["id"], r["status"]) for r in rows] == [("l1", "created")]
    table = runtime("list", check=True).stdout.decode()
    assert "l1" in table and "created" in table


def test_exec_runs_in_the_containers_namespaces(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sleep", "30")
    bundle.config["hostname"] = "inside"
    bundle.write()
    runtime("run", "-d", "--bundle", str(bundle.path), "x1", check=True)
    proc = runtime("exec", "x1", "--", "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().split("\n")[:2] == ["inside", "sleep 30 "]
    code = runtime("exec", "--env", "X=42", "x1", "sh", "-c", 'exit "$X"')
    assert code.returncode == 42
    user = runtime("exec", "--user", "1000:1000", "x1", "id", "-u")
    assert user.stdout == b"1000\n"
    missing = runtime("exec", "x1", "no-such-program")
    assert missing.returncode == 1 and b"not found" in missing.stderr
    runtime("delete", "-f", "x1", check=True)
    stopped = runtime("exec", "x1", "true")
    assert stopped.returncode == 1
