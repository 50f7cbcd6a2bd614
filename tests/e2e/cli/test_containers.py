"""`dockyard run` and the container lifecycle, end to end on the real kernel."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import time
from pathlib import Path

import pytest

from .conftest import DOCKYARD, Dockyard

pytestmark = pytest.mark.root


def wait_for(predicate: object, timeout: float = 20, what: str = "condition") -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def state(dockyard: Dockyard, name: str) -> dict[str, object]:
    doc = dockyard.json("inspect", name)[0]
    result: dict[str, object] = doc["State"]
    return result


def test_run_attached_prints_output_and_returns_the_exit_code(dockyard: Dockyard) -> None:
    proc = dockyard("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert proc.returncode == 3
    assert proc.stdout == "out\n" and proc.stderr == "err\n"
    assert dockyard("ps", "-aq", check=True).stdout == ""  # --rm removed it


def test_detached_container_lifecycle(dockyard: Dockyard) -> None:
    cid = dockyard(
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "while true; do echo tick; sleep 0.2; done",
    ).stdout.strip()
    assert len(cid) == 64
    assert (
        dockyard("ps", "--format", "{{.Names}} {{.State}}", check=True).stdout == "ticker running\n"
    )
    wait_for(lambda: "tick" in dockyard("logs", "ticker").stdout, what="logs")
    exec_ = dockyard(
        "exec", "ticker", "sh", "-c", "echo $((6*7)); cat /proc/1/cmdline | tr '\\0' ' '"
    )
    assert exec_.returncode == 0 and exec_.stdout.startswith("42\nsh -c while true")
    assert dockyard("exec", "ticker", "sh", "-c", "exit 5").returncode == 5
    assert dockyard("exec", "ticker", "no-such-binary").returncode == 127
    doc = dockyard.json("inspect", "ticker")[0]
    assert doc["Id"] == cid and doc["Name"] == "/ticker"
    assert doc["State"]["Status"] == "running" and doc["State"]["Pid"] > 0
    assert doc["Config"]["Cmd"] == ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]
    assert dockyard("inspect", "-f", "{{.State.Running}}", "ticker", check=True).stdout == "true\n"
    refused = dockyard("rm", "ticker")
    assert refused.returncode == 1 and "cannot remove a running container" in refused.stderr
    dockyard("stop", "-t", "1", "ticker", check=True)
    st = state(dockyard, "ticker")
    assert st["Status"] == "exited" and st["ExitCode"] == 137
    stopped_exec = dockyard("exec", "ticker", "true")
    assert stopped_exec.returncode == 125 and "is not running" in stopped_exec.stderr
    dockyard("rm", "ticker", check=True)
    assert dockyard("ps", "-aq", check=True).stdout == ""
    assert not (dockyard.root / "containers" / cid).exists()


def test_env_file_keeps_utf8_and_docker_rules(dockyard: Dockyard, scratch: Path) -> None:
    env_file = scratch / "env_list.txt"
    env_file.write_text(
        '# a comment\nS3S1N2_Name=컨테이너\nQUOTED="kept as is"\nFROM_HOST\n\nEMPTY=\n',
        encoding="utf-8",
    )
    os.environ["FROM_HOST"] = "host-value"
    try:
        proc = dockyard(
            "run",
            "--rm",
            "--env-file",
            str(env_file),
            "-e",
            "EXTRA=1",
            "busybox",
            "sh",
            "-c",
            'echo "$S3S1N2_Name|$QUOTED|$FROM_HOST|$EMPTY|$EXTRA"',
        )
    finally:
        del os.environ["FROM_HOST"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '컨테이너|"kept as is"|host-value||1\n'


def test_named_volume_outlives_its_container(dockyard: Dockyard) -> None:
    dockyard(
        "run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f", check=True
    )
    assert dockyard("volume", "ls", "-q", check=True).stdout == "data\n"
    out = dockyard(
        "run",
        "--rm",
        "-v",
        "data:/data:ro",
        "busybox",
        "sh",
        "-c",
        "cat /data/f; touch /data/g || true",
    )
    assert out.stdout == "kept\n" and "Read-only file system" in out.stderr
    in_use = dockyard("run", "-d", "--name", "holder", "-v", "data:/data", "busybox", "sleep", "30")
    assert in_use.returncode == 0
    refused = dockyard("volume", "rm", "data")
    assert refused.returncode == 1 and "in use" in refused.stderr
    dockyard("rm", "-f", "holder", check=True)
    dockyard("volume", "rm", "data", check=True)


def test_bind_mount_and_tmpfs_and_workdir_and_user(dockyard: Dockyard, scratch: Path) -> None:
    host = scratch / "shared"
    host.mkdir()
    (host / "in").write_text("from host\n")
    proc = dockyard(
        "run",
        "--rm",
        "-v",
        f"{host}:/mnt",
        "--tmpfs",
        "/scratch",
        "-w",
        "/mnt",
        "-u",
        "user",
        "busybox",
        "sh",
        "-c",
        "cat in; pwd; id -un; touch /scratch/x && echo tmpfs-ok",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "from host\n/mnt\nuser\ntmpfs-ok\n"


def test_restart_always_brings_back_a_killed_process(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "phoenix",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "60",
        check=True,
    )
    first = state(dockyard, "phoenix")["Pid"]
    assert isinstance(first, int)
    os.kill(first, signal.SIGKILL)
    wait_for(
        lambda: (
            state(dockyard, "phoenix")["Pid"] not in (0, first)
            and state(dockyard, "phoenix")["Status"] == "running"
        ),
        what="restart",
    )
    assert dockyard.json("inspect", "phoenix")[0]["RestartCount"] == 1
    dockyard("stop", "-t", "1", "phoenix", check=True)
    time.sleep(0.5)
    assert state(dockyard, "phoenix")["Status"] == "exited"  # a manual stop is not restarted


def test_on_failure_gives_up_after_n(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "exit 1",
        check=True,
    )
    wait_for(
        lambda: (
            state(dockyard, "flaky")["Status"] == "exited"
            and dockyard.json("inspect", "flaky")[0]["RestartCount"] == 2
        ),
        what="two restarts",
    )


def test_failing_healthcheck_turns_unhealthy(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "sick",
        "--health-cmd",
        "exit 1",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sleep",
        "60",
        check=True,
    )
    wait_for(
        lambda: (state(dockyard, "sick").get("Health") or {}).get("Status") == "unhealthy",
        what="unhealthy",
    )
    assert "(unhealthy)" in dockyard("ps", check=True).stdout
    dockyard(
        "run",
        "-d",
        "--name",
        "fine",
        "--health-cmd",
        "true",
        "--health-interval",
        "200ms",
        "busybox",
        "sleep",
        "60",
        check=True,
    )
    wait_for(
        lambda: (state(dockyard, "fine").get("Health") or {}).get("Status") == "healthy",
        what="healthy",
    )


def test_start_interval_probes_often_until_healthy_then_every_interval(
    dockyard: Dockyard,
) -> None:
    dockyard(
        "run", "-d", "--name", "warming",
        "--health-cmd", "test -e /tmp/ready",
        "--health-interval", "60s",
        "--health-start-period", "60s",
        "--health-start-interval", "200ms",
        "busybox", "sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 60",
        check=True,
    )  # fmt: skip
    doc = dockyard.json("inspect", "warming")[0]
    assert doc["Config"]["Healthcheck"]["StartInterval"] == 200_000_000
    # The interval alone (60 s) would give the first probe a minute from now.
    wait_for(
        lambda: (state(dockyard, "warming").get("Health") or {}).get("Status") == "healthy",
        timeout=10,
        what="healthy through start_interval probes",
    )
    health = state(dockyard, "warming")["Health"]
    assert isinstance(health, dict)
    probes = len(health["Log"])
    assert probes >= 2  # at least one failing probe before /tmp/ready existed
    time.sleep(1.0)
    health = state(dockyard, "warming")["Health"]
    assert isinstance(health, dict)
    assert len(health["Log"]) == probes  # healthy: back to the 60 s interval


def test_memory_hog_is_oom_killed(dockyard: Dockyard) -> None:
    proc = dockyard(
        "run",
        "--name",
        "hog",
        "--memory",
        "20m",
        "--memory-swap",
        "20m",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=64M",
        "count=1",
    )
    assert proc.returncode == 137
    st = state(dockyard, "hog")
    assert st["OOMKilled"] is True and st["ExitCode"] == 137


def test_twenty_parallel_runs(dockyard: Dockyard) -> None:
    def one(i: int) -> str:
        return dockyard(
            "run", "-d", "--name", f"par{i}", "busybox", "sleep", "30", check=True
        ).stdout.strip()

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(one, range(20)))
    assert len(set(ids)) == 20
    names = dockyard("ps", "--format", "{{.Names}}", check=True).stdout.split()
    assert sorted(names) == sorted(f"par{i}" for i in range(20))
    dup = dockyard("run", "-d", "--name", "par0", "busybox", "true")
    assert dup.returncode == 125 and 'The container name "/par0" is already in use' in dup.stderr


def test_logs_rotate(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=10k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done",
        check=True,
    )
    cid = dockyard.json("inspect", "chatty")[0]["Id"]
    logdir = dockyard.root / "containers" / cid
    files = sorted(p.name for p in logdir.glob("json.log*"))
    assert files == ["json.log", "json.log.1"]
    assert all(p.stat().st_size <= 10 * 1024 for p in logdir.glob("json.log*"))
    last = dockyard("logs", "--tail", "1", "chatty", check=True).stdout
    assert last == "line-1999\n"
    first = json.loads((logdir / "json.log").read_text().splitlines()[-1])
    assert set(first) == {"log", "stream", "time"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nosuchimage"], "Unable to find image"),
        (["--env-file", "/nonexistent/env", "busybox", "true"], "/nonexistent/env"),
        (["-v", "./rel:/x", "busybox", "true"], "absolute"),
        (["-v", "/nonexistent-dir:/x", "busybox", "true"], "does not exist"),
        (["--memory", "abc", "busybox", "true"], "--memory"),
        (["--cpus", "0", "busybox", "true"], "--cpus"),
        (["--name", "bad name", "busybox", "true"], "Invalid container name"),
    ],
)
def test_bad_input_creates_nothing(dockyard: Dockyard, args: list[str], needle: str) -> None:
    proc = dockyard("run", "-d", *args)
    assert proc.returncode == 125
    assert needle in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert dockyard("ps", "-aq", check=True).stdout == ""
    assert dockyard("volume", "ls", "-q", check=True).stdout == ""


def test_command_not_found_and_not_executable(dockyard: Dockyard) -> None:
    assert dockyard("run", "--rm", "busybox", "no-such-cmd").returncode == 127
    assert dockyard("run", "--rm", "busybox", "/etc/passwd").returncode == 126
    assert dockyard("ps", "-aq", check=True).stdout == ""


def test_security_and_namespace_flags(dockyard: Dockyard) -> None:
    caps = dockyard(
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "NET_BIND_SERVICE",
        "busybox",
        "grep",
        "CapEff",
        "/proc/self/status",
    )
    assert caps.stdout.split() == ["CapEff:", f"{1 << 10:016x}"]
    ro = dockyard("run", "--rm", "--read-only", "busybox", "sh", "-c", "touch /x || echo refused")
    assert "refused" in ro.stdout
    nnp = dockyard(
        "run",
        "--rm",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "grep",
        "NoNewPrivs",
        "/proc/self/status",
    )
    assert nnp.stdout.split() == ["NoNewPrivs:", "1"]
    priv = dockyard("run", "--rm", "--privileged", "busybox", "grep", "CapEff", "/proc/self/status")
    assert int(priv.stdout.split()[1], 16) > 0xA80425FB
    host = dockyard(
        "run",
        "--rm",
        "--hostname",
        "box1",
        "--add-host",
        "db:10.1.2.3",
        "busybox",
        "sh",
        "-c",
        "hostname; grep db /etc/hosts",
    )
    assert host.stdout.split() == ["box1", "10.1.2.3", "db"]
    net = dockyard("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")
    assert net.stdout.split() == ["lo"]


def test_network_container_mode_and_devices_and_labels(dockyard: Dockyard) -> None:
    dockyard(
        "run", "-d", "--name", "base", "--label", "tier=db", "busybox", "sleep", "30", check=True
    )
    base_pid = state(dockyard, "base")["Pid"]
    inode = os.readlink(f"/proc/{base_pid}/ns/net")
    shared = dockyard(
        "run", "--rm", "--network", "container:base", "busybox", "readlink", "/proc/self/ns/net"
    )
    assert shared.stdout.strip() == inode
    dev = dockyard(
        "run",
        "--rm",
        "--device",
        "/dev/null:/dev/mynull",
        "busybox",
        "sh",
        "-c",
        "echo x > /dev/mynull && echo ok",
    )
    assert dev.stdout == "ok\n"
    assert dockyard("ps", "-q", "--filter", "label=tier=db", check=True).stdout.strip() != ""
    assert dockyard("ps", "-q", "--filter", "label=tier=web", check=True).stdout == ""


def test_init_reaps_and_is_pid_1(dockyard: Dockyard) -> None:
    proc = dockyard(
        "run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("/dev/init -- sh -c")


def test_interactive_stdin_and_wait_and_kill(dockyard: Dockyard) -> None:
    proc = dockyard(
        "run", "--rm", "-i", "busybox", "sh", "-c", "read x; echo got:$x", input=b"hello\n"
    )
    assert proc.stdout == "got:hello\n"
    dockyard("run", "-d", "--name", "w1", "busybox", "sleep", "30", check=True)
    dockyard("kill", "-s", "TERM", "w1", check=True)  # sleep as PID 1 ignores TERM…
    time.sleep(0.3)
    assert state(dockyard, "w1")["Status"] == "running"
    dockyard("kill", "w1", check=True)  # …but not KILL
    assert dockyard("wait", "w1", check=True).stdout == "137\n"


def test_tty_run_gets_a_terminal(dockyard: Dockyard) -> None:
    import pty
    import subprocess

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [
                DOCKYARD,
                "--root",
                str(dockyard.root),
                "run",
                "--rm",
                "-it",
                "busybox",
                "sh",
                "-c",
                "tty; read x; echo got:$x",
            ],
            stdin=slave,
            stdout=slave,
            stderr=slave,
        )
        time.sleep(1.0)
        os.write(master, b"abc\n")
        out = b""
        deadline = time.monotonic() + 15
        while b"got:abc" not in out and time.monotonic() < deadline:
            out += os.read(master, 4096)
        assert proc.wait(timeout=15) == 0
    finally:
        os.close(master)
        os.close(slave)
    assert b"/dev/pts/0" in out and b"got:abc" in out


def test_logs_follow_and_timestamps(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "f1",
        "busybox",
        "sh",
        "-c",
        "echo one; sleep 1; echo two",
        check=True,
    )
    followed = dockyard("logs", "-f", "f1", check=True, timeout=20)
    assert followed.stdout == "one\ntwo\n"
    stamped = dockyard("logs", "-t", "f1", check=True).stdout.splitlines()
    assert stamped[0].endswith(" one") and stamped[0][:4].isdigit() and "T" in stamped[0]


def test_killing_the_monitor_loses_nothing(dockyard: Dockyard) -> None:
    dockyard(
        "run", "-d", "--name", "keep", "busybox", "sh", "-c", "echo before; sleep 60", check=True
    )
    dockyard(
        "run", "-d", "--name", "back", "--restart", "always", "busybox", "sleep", "60", check=True
    )
    wait_for(lambda: "before" in dockyard("logs", "keep").stdout, what="first log line")
    monitor = int(
        next(
            p
            for p in os.listdir("/proc")
            if p.isdigit()
            and str(dockyard.root)
            in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
            and b"dockyard.engine.monitor" in Path(f"/proc/{p}/cmdline").read_bytes()
        )
    )
    back_pid = state(dockyard, "back")["Pid"]
    assert isinstance(back_pid, int)
    os.kill(monitor, signal.SIGKILL)
    os.kill(back_pid, signal.SIGKILL)  # dies while no monitor watches it
    time.sleep(0.3)
    # The records and logs are intact; the next command's monitor adopts or restarts.
    assert dockyard("logs", "keep", check=True).stdout == "before\n"
    dockyard("run", "--rm", "busybox", "true", check=True)
    assert state(dockyard, "keep")["Status"] == "running"
    wait_for(lambda: state(dockyard, "back")["Status"] == "running", what="restart of back")


def test_new_volume_is_seeded_from_the_image_and_rm_v_removes_anonymous_ones(
    dockyard: Dockyard,
) -> None:
    # /etc has content in the image: a new named volume there starts with it.
    out = dockyard("run", "--rm", "-v", "etcvol:/etc", "busybox", "cat", "/etc/group")
    assert out.returncode == 0 and "root:x:0:" in out.stdout
    dockyard("run", "--name", "anon", "-v", "/data", "busybox", "true", check=True)
    assert len(dockyard("volume", "ls", "-q", check=True).stdout.split()) == 2
    dockyard("rm", "-v", "anon", check=True)
    assert dockyard("volume", "ls", "-q", check=True).stdout.split() == ["etcvol"]


def test_stop_kill_and_rm_of_a_paused_container(dockyard: Dockyard) -> None:
    dockyard("run", "-d", "--name", "frozen", "busybox", "sleep", "60", check=True)
    dockyard("pause", "frozen", check=True)
    assert state(dockyard, "frozen")["Status"] == "paused"
    dockyard("stop", "-t", "1", "frozen", check=True, timeout=20)
    assert state(dockyard, "frozen")["Status"] == "exited"
    dockyard("start", "frozen", check=True)
    dockyard("pause", "frozen", check=True)
    dockyard("rm", "-f", "frozen", check=True, timeout=20)


def test_start_attach_and_interactive(dockyard: Dockyard) -> None:
    dockyard(
        "create", "--name", "later", "-i", "busybox", "sh", "-c", "read x; echo got:$x", check=True
    )
    assert state(dockyard, "later")["Status"] == "created"
    proc = dockyard("start", "-a", "-i", "later", input=b"typed\n")
    assert proc.returncode == 0 and proc.stdout == "got:typed\n"
