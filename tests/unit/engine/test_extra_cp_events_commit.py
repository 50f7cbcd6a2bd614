"""`cp` placement rules, `events` parsing and filtering, `commit`'s config and layer tar, `diff`
on plain directories (pure or on temp dirs, no root)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.engine.container_commit import apply_changes, commit_config, upper_to_tar
from dockyard.engine.container_cp import Placement, place, unpack
from dockyard.engine.container_diff import Change, Layout, changes
from dockyard.engine.events import Event, matches, parse_filters, parse_time
from dockyard.errors import InvalidArgument, NotFound

# ---- cp -----------------------------------------------------------------------------------------


def test_place_follows_dockers_rules() -> None:
    # a file into an existing directory keeps its name; onto a file or a new name, takes it
    assert place("/etc/passwd", False, "/out", "dir", True) == Placement("/out", "passwd")
    assert place("/etc/passwd", False, "/out/p", "file", True) == Placement("/out", "p")
    assert place("/etc/passwd", False, "/out/new", None, True) == Placement("/out", "new")
    # a directory into an existing one is nested; to a new name, renamed; `dir/.` is contents
    assert place("/tmp/d", True, "/out", "dir", True) == Placement("/out", "d")
    assert place("/tmp/d", True, "/out/x", None, True) == Placement("/out", "x")
    assert place("/tmp/d/.", True, "/out", "dir", True) == Placement("/out", ".")


def test_place_errors() -> None:
    with pytest.raises(InvalidArgument, match="cannot copy a directory to a file"):
        place("/tmp/d", True, "/out/f", "file", True)
    with pytest.raises(NotFound, match="no such directory"):
        place("/etc/passwd", False, "/out/missing/", None, True)
    with pytest.raises(NotFound, match="no such directory: /no"):
        place("/etc/passwd", False, "/no/file", None, False)


def _tar(*names: str) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    buf.seek(0)
    return buf


def test_unpack_refuses_entries_that_leave_the_destination(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="leaves the destination"):
        unpack(_tar("../escape"), str(tmp_path), "/", top=None, keep_owner=False)
    assert not (tmp_path.parent / "escape").exists()


def test_unpack_resolves_symlinks_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "link").symlink_to("/etc")  # absolute: means the root's /etc, not the host's
    unpack(_tar("link/created-by-test"), str(root), "/", top=None, keep_owner=False)
    assert (root / "etc" / "created-by-test").read_bytes() == b"x"
    assert not Path("/etc/created-by-test").exists()


# ---- events -------------------------------------------------------------------------------------


def test_parse_time_forms() -> None:
    assert parse_time("1700000000.5", 0) == 1700000000.5
    assert parse_time("10m", 1000.0) == 400.0
    assert parse_time("1.5h", 10000.0) == 4600.0
    assert parse_time("2023-11-14T22:13:20Z", 0) == 1700000000.0
    assert parse_time("2023-11-14T23:13:20+01:00", 0) == 1700000000.0
    with pytest.raises(InvalidArgument, match="invalid time 'yesterday'"):
        parse_time("yesterday", 0)


def test_filters() -> None:
    event = Event(1, 0.0, "die", "abc123", {"name": "web", "image": "busybox", "tier": "front"})
    assert matches(event, parse_filters([]))
    assert matches(event, parse_filters(["event=start", "event=die"]))  # one key: OR
    assert not matches(event, parse_filters(["event=die", "container=db"]))  # keys: AND
    assert matches(event, parse_filters(["container=abc", "image=busybox", "type=container"]))
    assert matches(event, parse_filters(["label=tier=front"]))
    assert not matches(event, parse_filters(["label=tier=back"]))
    health = Event(2, 0.0, "health_status: healthy", "abc123", {})
    assert matches(health, parse_filters(["event=health_status"]))
    with pytest.raises(InvalidArgument, match="invalid filter 'nope'"):
        parse_filters(["nope"])


def test_event_line_and_message() -> None:
    event = Event(1, 1700000000.25, "start", "abc", {"name": "web", "image": "busybox"})
    assert event.line() == (
        "2023-11-14T22:13:20.250000000Z container start abc (image=busybox, name=web)"
    )
    message = event.message()
    assert message["Actor"] == {"ID": "abc", "Attributes": {"name": "web", "image": "busybox"}}
    assert (message["Type"], message["time"], message["from"]) == (
        "container",
        1700000000,
        "busybox",
    )
    assert event.fields()["Action"] == "start"


# ---- commit -------------------------------------------------------------------------------------


def test_apply_changes() -> None:
    config = apply_changes(
        {"Env": ["A=1", "B=2"], "Cmd": ["sh"]},
        [
            'CMD ["echo", "hi"]',
            "ENTRYPOINT /bin/run now",
            "ENV A=3 C=4",
            "ENV D five six",
            "LABEL x=y",
            "EXPOSE 80 53/udp",
            "VOLUME /data",
            "USER nobody",
            "WORKDIR /srv",
            "STOPSIGNAL SIGINT",
        ],
    )
    assert config == {
        "Cmd": ["echo", "hi"],
        "Entrypoint": ["/bin/sh", "-c", "/bin/run now"],
        "Env": ["B=2", "A=3", "C=4", "D=five six"],
        "Labels": {"x": "y"},
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
        "Volumes": {"/data": {}},
        "User": "nobody",
        "WorkingDir": "/srv",
        "StopSignal": "SIGINT",
    }
    with pytest.raises(InvalidArgument, match="FROM is not a valid change command"):
        apply_changes({}, ["FROM busybox"])


def test_commit_config_adds_one_layer_and_history() -> None:
    base = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:base"]},
        "history": [{"created_by": "import"}],
        "config": {"Cmd": ["sh"]},
    }
    doc = commit_config(
        base,
        {"Cmd": ["top"], "Env": ["PATH=/bin"], "Hostname": "abc", "Tty": True},
        "sha256:new",
        created="2026-01-01T00:00:00Z",
        changes=["USER 1000"],
        message="msg",
        author="me",
        created_by="top",
    )
    assert doc["rootfs"]["diff_ids"] == ["sha256:base", "sha256:new"]
    assert doc["config"] == {"Cmd": ["top"], "Env": ["PATH=/bin"], "User": "1000"}
    assert doc["history"][-1] == {
        "created": "2026-01-01T00:00:00Z",
        "created_by": "top",
        "comment": "msg",
        "author": "me",
    }
    assert doc["author"] == "me" and base["rootfs"]["diff_ids"] == ["sha256:base"]


def test_upper_to_tar_is_sorted_deterministic_and_keeps_hardlinks(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "b").mkdir(parents=True)
    (upper / "b" / "z").write_text("z")
    (upper / "a").write_text("a")
    os.link(upper / "a", upper / "b" / "hard")
    (upper / "b" / "sym").symlink_to("../a")
    first, second = io.BytesIO(), io.BytesIO()
    upper_to_tar(str(upper), first)
    upper_to_tar(str(upper), second)
    assert first.getvalue() == second.getvalue()
    first.seek(0)
    with tarfile.open(fileobj=first) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["a", "b", "b/hard", "b/sym", "b/z"]
    assert members[2].islnk() and members[2].linkname == "a"
    assert members[3].issym() and members[3].linkname == "../a"
    assert all(m.uname == "" and m.gname == "" for m in members)


# ---- diff ---------------------------------------------------------------------------------------


def test_changes_added_and_changed(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root")
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "passwd").write_text("root2")
    (upper / "etc" / "hosts").write_text("")  # the engine's empty mount point: not a change
    (upper / "new").mkdir()
    (upper / "new" / "f").write_text("x")
    got = changes(Layout(str(upper), (str(lower),)))
    assert got == [
        Change("C", "/etc"),
        Change("C", "/etc/passwd"),
        Change("A", "/new"),
        Change("A", "/new/f"),
    ]


def test_changes_hide_engine_files_alone(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (upper / "etc").mkdir(parents=True)
    for name in ("hosts", "hostname", "resolv.conf"):
        (upper / "etc" / name).write_text("")
    assert changes(Layout(str(upper), (str(lower),))) == []
