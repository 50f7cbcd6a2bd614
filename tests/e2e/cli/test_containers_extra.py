"""top, stats, cp, rename, pause/unpause, attach, port, export, diff, commit, prune, events,
`container …` and `system …`, end to end on the real kernel."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DOCKYARD, Dockyard

pytestmark = pytest.mark.root


def sleeper(dockyard: Dockyard, name: str, script: str = "") -> str:
    """A detached container that runs `script` (if any), then sleeps."""
    command = f"{script}; exec sleep 1000" if script else "exec sleep 1000"
    return dockyard(
        "run", "-d", "--name", name, "busybox", "sh", "-c", command, check=True
    ).stdout.strip()


def status(dockyard: Dockyard, name: str) -> str:
    return dockyard("inspect", "-f", "{{.State.Status}}", name, check=True).stdout.strip()


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], proc.stderr


@pytest.fixture
def box(dockyard: Dockyard) -> Iterator[str]:
    """A running container `box` that made some changes to its root before sleeping."""
    sleeper(
        dockyard,
        "box",
        "echo hi > /newfile; rm /etc/group; mkdir -p /tmp/d/e; echo x > /tmp/d/f; "
        "ln -s /etc /tmp/evil; touch /tmp/ready",
    )
    deadline = time.monotonic() + 10
    while dockyard("exec", "box", "test", "-e", "/tmp/ready").returncode != 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield "box"
    if status(dockyard, "box") == "paused":
        dockyard("unpause", "box")


# ---- top and stats ------------------------------------------------------------------------------


def _top_lists_the_container_processes(dockyard: Dockyard, box: str) -> None:
    out = dockyard("top", box, check=True).stdout.splitlines()
    assert out[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert len(out) == 2 and out[1].split()[0] == "root" and out[1].endswith("sleep 1000")
    pid = dockyard("inspect", "-f", "{{.State.Pid}}", box, check=True).stdout.strip()
    assert out[1].split()[1] == pid
    custom = dockyard("top", box, "-o", "pid,comm", check=True).stdout.splitlines()
    assert [line.split() for line in custom] == [["PID", "COMMAND"], [pid, "sleep"]]


def _top_bad_input(dockyard: Dockyard) -> None:
    one_line_error(dockyard("top", "idle"), "is not running")
    one_line_error(dockyard("top", "nosuch"), "No such container: nosuch")


def _stats_no_stream_is_one_fast_sample(dockyard: Dockyard, box: str) -> None:
    began = time.monotonic()
    out = dockyard("stats", "--no-stream", check=True).stdout.splitlines()
    assert time.monotonic() - began < 3
    assert out[0].split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    assert "MEM USAGE / LIMIT" in out[0] and "BLOCK I/O" in out[0]
    fields = out[1].split()
    assert fields[1] == box and fields[2].endswith("%") and fields[-1] == "1"
    assert re.search(r" [\d.]+(B|KiB|MiB) / [\d.]+(MiB|GiB) ", out[1]) and "0B / 0B" in out[1]
    line = dockyard("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", box, check=True)
    assert line.stdout == f"{box} 1\n"


def _stats_shows_a_busy_cpu(dockyard: Dockyard) -> None:
    sleeper(dockyard, "busy", "while :; do :; done")
    out = dockyard("stats", "--no-stream", "--format", "{{.CPUPerc}}", "busy", check=True)
    assert float(out.stdout.strip().rstrip("%")) > 30


def _stats_unknown_container(dockyard: Dockyard) -> None:
    one_line_error(dockyard("stats", "--no-stream", "nosuch"), "No such container: nosuch")


# ---- cp -----------------------------------------------------------------------------------------


def _cp_out_of_a_running_container(dockyard: Dockyard, box: str, scratch: Path) -> None:
    dest = scratch / "out"
    dest.mkdir()
    dockyard("cp", f"{box}:/newfile", str(dest), check=True)
    assert (dest / "newfile").read_text() == "hi\n"
    dockyard("cp", f"{box}:/tmp/d", str(dest / "copy"), check=True)  # a new name: renamed
    assert (dest / "copy" / "f").read_text() == "x\n" and (dest / "copy" / "e").is_dir()
    dockyard("cp", f"{box}:/tmp/d", str(dest), check=True)  # an existing dir: copied into it
    assert (dest / "d" / "f").read_text() == "x\n"
    dockyard("cp", f"{box}:/tmp/d/.", str(dest / "copy"), check=True)  # contents only
    assert not (dest / "copy" / "d").exists()
    stream = subprocess.run(
        [DOCKYARD, "--root", str(dockyard.root), "cp", f"{box}:/tmp/d", "-"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
        assert sorted(tar.getnames()) == ["d", "d/e", "d/f"]


def _cp_into_a_container_stays_inside_its_root(dockyard: Dockyard, box: str, scratch: Path) -> None:
    src = scratch / "in.txt"
    src.write_text("from host\n")
    dockyard("cp", str(src), f"{box}:/tmp/d/", check=True)
    assert dockyard("exec", box, "cat", "/tmp/d/in.txt", check=True).stdout == "from host\n"
    # /tmp/evil -> /etc in the container: the copy lands in the container's /etc, not the host's.
    marker = f"dockyard-cp-escape-{scratch.name}"
    dockyard("cp", str(src), f"{box}:/tmp/evil/{marker}", check=True)
    assert not Path("/etc", marker).exists()
    assert dockyard("exec", box, "cat", f"/etc/{marker}", check=True).stdout == "from host\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("streamed/a")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    dockyard("cp", "-", f"{box}:/tmp", input=buf.getvalue(), check=True)
    assert dockyard("exec", box, "cat", "/tmp/streamed/a", check=True).stdout == "abc"


def test_cp_with_a_stopped_container(dockyard: Dockyard, scratch: Path) -> None:
    dockyard("run", "--name", "done", "busybox", "sh", "-c", "echo kept > /kept", check=True)
    dockyard("cp", "done:/kept", str(scratch / "kept"), check=True)
    assert (scratch / "kept").read_text() == "kept\n"
    (scratch / "new").write_text("new\n")
    dockyard("cp", str(scratch / "new"), "done:/new", check=True)
    dockyard("start", "done", check=True)
    assert dockyard("wait", "done", check=True).stdout == "0\n"
    assert dockyard("diff", "done", check=True).stdout.splitlines() == ["A /kept", "A /new"]
    # nothing stays mounted: the leak guard checks the test base; the rootfs dir is unmounted
    cid = dockyard("inspect", "-f", "{{.Id}}", "done", check=True).stdout.strip()
    assert not any(p.name.startswith("cp-") for p in (dockyard.root / "containers" / cid).iterdir())


def _cp_bad_input(dockyard: Dockyard, box: str, scratch: Path) -> None:
    one_line_error(dockyard("cp", f"{box}:/nope", str(scratch)), "Could not find the file /nope")
    one_line_error(dockyard("cp", str(scratch / "nope"), f"{box}:/tmp"), "Could not find")
    one_line_error(dockyard("cp", "nosuch:/etc", str(scratch)), "No such container: nosuch")
    one_line_error(
        dockyard("cp", f"{box}:/tmp/d", str(scratch / "no" / "dir")), "no such directory"
    )
    assert not (scratch / "no").exists()
    one_line_error(dockyard("cp", str(scratch), str(scratch)), "at least one container")
    dockyard("create", "--name", "ro", "--read-only", "busybox", check=True)
    one_line_error(dockyard("cp", str(scratch), "ro:/tmp"), "read-only")


# ---- rename, pause, attach, port ----------------------------------------------------------------


def _rename(dockyard: Dockyard, box: str) -> None:
    dockyard("rename", box, "renamed", check=True)
    assert dockyard("ps", "--format", "{{.Names}}", check=True).stdout == "renamed\n"
    dockyard("create", "--name", "other", "busybox", check=True)
    one_line_error(dockyard("rename", "renamed", "other"), "in use")
    one_line_error(dockyard("rename", "renamed", "bad name!"), "Invalid container name")
    one_line_error(dockyard("rename", "nosuch", "x"), "No such container")
    dockyard("rename", "renamed", box, check=True)


def test_pause_and_unpause(dockyard: Dockyard, box: str) -> None:
    assert dockyard("pause", box, check=True).stdout == f"{box}\n"
    try:
        assert status(dockyard, box) == "paused"
        assert dockyard("ps", "--format", "{{.Status}}", check=True).stdout.endswith("(Paused)\n")
        state = dockyard("top", box, "-o", "pid", check=True)  # still listed while frozen
        assert len(state.stdout.splitlines()) == 2
        one_line_error(dockyard("pause", box), "already paused")
    finally:
        dockyard("unpause", box, check=True)
    assert status(dockyard, box) == "running"
    assert dockyard("exec", box, "echo", "thawed", check=True).stdout == "thawed\n"
    one_line_error(dockyard("unpause", box), "is not paused")


def _pause_bad_input(dockyard: Dockyard) -> None:
    one_line_error(dockyard("pause", "idle"), "is not running")
    assert status(dockyard, "idle") == "created"
    one_line_error(dockyard("pause", "nosuch"), "No such container: nosuch")


def test_attach_streams_output_until_exit(dockyard: Dockyard) -> None:
    dockyard(
        "run",
        "-d",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "sleep 0.7; echo hello; exit 3",
        check=True,
    )
    proc = dockyard("attach", "talker")
    assert proc.returncode == 3 and proc.stdout == "hello\n"
    one_line_error(dockyard("attach", "talker"), "stopped container")


def test_attach_to_a_tty_container_forwards_input(dockyard: Dockyard) -> None:
    import os
    import pty

    script = "read x; echo got:$x; exit 4"
    dockyard("run", "-dit", "--name", "tt", "busybox", "sh", "-c", script, check=True)
    master, slave = pty.openpty()
    try:
        cmd = [DOCKYARD, "--root", str(dockyard.root), "attach", "tt"]
        with subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave) as proc:
            time.sleep(0.5)  # attached before we type
            os.write(master, b"abc\r")
            out = b""
            deadline = time.monotonic() + 15
            while b"got:abc" not in out and time.monotonic() < deadline:
                out += os.read(master, 4096)
            assert proc.wait(timeout=15) == 4
    finally:
        os.close(master)
        os.close(slave)
    assert b"got:abc" in out


def _port_without_published_ports(dockyard: Dockyard, box: str) -> None:
    assert dockyard("port", box, check=True).stdout == ""
    one_line_error(dockyard("port", box, "80"), "No public port '80/tcp'")
    one_line_error(dockyard("port", "nosuch"), "No such container")


# ---- export, diff, commit -----------------------------------------------------------------------


def _export(dockyard: Dockyard, box: str, scratch: Path) -> None:
    out = scratch / "box.tar"
    dockyard("export", box, "-o", str(out), check=True)
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        assert {"bin/sh", "newfile", "tmp/d/f"} <= names and "etc/group" not in names
        member = tar.extractfile("newfile")
        assert member is not None and member.read() == b"hi\n"
    one_line_error(dockyard("export", "nosuch", "-o", str(scratch / "x.tar")), "No such container")
    assert not (scratch / "x.tar").exists()


def _diff(dockyard: Dockyard, box: str) -> None:
    lines = dockyard("diff", box, check=True).stdout.splitlines()
    assert lines == [
        "C /etc",
        "D /etc/group",
        "A /newfile",
        "C /tmp",
        "A /tmp/d",
        "A /tmp/d/e",
        "A /tmp/d/f",
        "A /tmp/evil",
        "A /tmp/ready",
    ]
    one_line_error(dockyard("diff", "nosuch"), "No such container")


def _commit_makes_an_image_of_the_changes(dockyard: Dockyard, box: str) -> None:
    image_id = dockyard(
        "commit",
        "-c",
        'CMD ["cat", "/newfile"]',
        "-c",
        "ENV MODE=committed",
        "-m",
        "snap",
        box,
        "snap:v1",
        check=True,
    ).stdout.strip()
    assert image_id.startswith("sha256:")
    assert status(dockyard, box) == "running"  # paused for the commit, then thawed
    assert dockyard("run", "--rm", "snap:v1", check=True).stdout == "hi\n"
    run = dockyard(
        "run", "--rm", "snap:v1", "sh", "-c", "echo $MODE; test -e /etc/group || echo gone"
    )
    assert run.stdout == "committed\ngone\n"
    history = dockyard("history", "snap:v1", "--format", "{{.Comment}}", check=True).stdout
    assert history.splitlines()[0] == "snap"
    # the same changes give the same layer: a second commit reuses its diff-ID
    again = dockyard("commit", box, "snap:v2", check=True).stdout.strip()
    layers = [
        dockyard("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref, check=True).stdout
        for ref in (image_id, again)
    ]
    assert layers[0] == layers[1]


def _commit_bad_input(dockyard: Dockyard, box: str) -> None:
    before = dockyard("images", "-q", check=True).stdout
    one_line_error(dockyard("commit", "-c", "FROB x", box, "bad:v1"), "not a valid change")
    one_line_error(dockyard("commit", "nosuch", "bad:v1"), "No such container")
    assert dockyard("images", "-q", check=True).stdout == before


# ---- prune, container …, system …, events -------------------------------------------------------


def test_container_subcommands_and_prune(dockyard: Dockyard, box: str) -> None:
    dockyard("run", "--name", "gone", "busybox", "true", check=True)
    names = dockyard("container", "ls", "-a", "--format", "{{.Names}}", check=True).stdout
    assert sorted(names.split()) == [box, "gone"]
    assert (
        dockyard("container", "inspect", "-f", "{{.Name}}", "gone", check=True).stdout == "/gone\n"
    )
    out = dockyard("container", "prune", "-f", check=True).stdout
    assert out.startswith("Deleted Containers:\n") and "Total reclaimed space:" in out
    assert (
        dockyard("container", "ls", "-a", "--format", "{{.Names}}", check=True).stdout == f"{box}\n"
    )
    assert dockyard("container", "top", box, check=True).stdout.startswith("UID")
    one_line_error(dockyard("container", "rm", "nosuch"), "No such container")


def test_system_df_and_prune(dockyard: Dockyard) -> None:
    dockyard("run", "--name", "gone", "busybox", "sh", "-c", "echo data > /data", check=True)
    dockyard("commit", "gone", "extra:v1", check=True)
    dockyard("volume", "create", "named", check=True)
    df = dockyard("system", "df", check=True).stdout.splitlines()
    assert df[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [line.split()[0] for line in df[1:]] == ["Images", "Containers", "Local", "Build"]
    assert df[1].split()[1:3] == ["2", "1"] and df[2].split()[1:3] == ["1", "0"]
    out = dockyard("system", "prune", "-f", "-a", check=True).stdout
    assert "Deleted Containers:" in out and "Deleted Images:" in out
    assert dockyard("ps", "-aq", check=True).stdout == ""
    assert dockyard("images", "-q", check=True).stdout == ""  # -a: every unused image
    # --volumes takes anonymous volumes only; a named volume stays
    assert dockyard("volume", "ls", "-q", check=True).stdout == "named\n"
    dockyard("volume", "rm", "named", check=True)


def _system_info(dockyard: Dockyard, box: str) -> None:
    assert dockyard("system", "info", "-f", "{{.ContainersRunning}}", check=True).stdout == "1\n"


def _events_past_window_filters_and_format(dockyard: Dockyard) -> None:
    since = str(time.time() - 1)
    dockyard("run", "--name", "ev", "busybox", "true", check=True)
    until = str(time.time())
    out = dockyard("events", "--since", since, "--until", until, check=True).stdout.splitlines()
    actions = [line.split()[2] for line in out]
    assert actions[:3] == ["create", "start", "die"]
    assert "(exitCode=0, image=busybox, name=ev)" in out[2]
    only = dockyard(
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        "event=die",
        "--format",
        "{{.Actor.Attributes.name}} {{.Action}}",
        check=True,
    )
    assert only.stdout == "ev die\n"
    one_line_error(dockyard("events", "--since", "yesterday"), "invalid time")
    one_line_error(dockyard("events", "--filter", "bogus=1"), "invalid filter")


def _events_stream_live_until_the_deadline(dockyard: Dockyard) -> None:
    cmd = [
        DOCKYARD,
        "--root",
        str(dockyard.root),
        "events",
        "--until",
        str(time.time() + 2.5),
        "--filter",
        "event=start",
        "--format",
        "{{.Actor.Attributes.name}}",
    ]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as watcher:
        time.sleep(0.5)  # let the watcher skip the events already stored
        dockyard("run", "--name", "live", "busybox", "true", check=True)
        assert watcher.stdout is not None
        assert watcher.stdout.readline() == "live\n"
        assert watcher.wait(timeout=10) == 0


# ---- the tests: checks grouped so that each group shares one engine root and its monitor ---------


def test_top_and_stats(dockyard: Dockyard, box: str) -> None:
    _top_lists_the_container_processes(dockyard, box)
    _stats_no_stream_is_one_fast_sample(dockyard, box)
    _stats_shows_a_busy_cpu(dockyard)


def test_bad_input_on_stopped_and_unknown_containers(dockyard: Dockyard) -> None:
    dockyard("create", "--name", "idle", "busybox", "true", check=True)
    _top_bad_input(dockyard)
    _pause_bad_input(dockyard)
    _stats_unknown_container(dockyard)


def test_cp_with_a_running_container(dockyard: Dockyard, box: str, scratch: Path) -> None:
    _cp_out_of_a_running_container(dockyard, box, scratch)
    _cp_into_a_container_stays_inside_its_root(dockyard, box, scratch)
    _cp_bad_input(dockyard, box, scratch)


def test_rename_port_and_info(dockyard: Dockyard, box: str) -> None:
    _rename(dockyard, box)
    _port_without_published_ports(dockyard, box)
    _system_info(dockyard, box)


def test_export_and_diff(dockyard: Dockyard, box: str, scratch: Path) -> None:
    _export(dockyard, box, scratch)
    _diff(dockyard, box)


def test_commit(dockyard: Dockyard, box: str) -> None:
    _commit_bad_input(dockyard, box)
    _commit_makes_an_image_of_the_changes(dockyard, box)


def test_events(dockyard: Dockyard) -> None:
    _events_past_window_filters_and_format(dockyard)
    _events_stream_live_until_the_deadline(dockyard)
