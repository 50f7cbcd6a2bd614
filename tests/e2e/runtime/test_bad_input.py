"""Bad bundles and ids: one clear line on stderr, exit 1, and nothing created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Bundle, Runtime, cgroup_exists

pytestmark = pytest.mark.root


def assert_refused(runtime: Runtime, bundle: Bundle, cid: str, needle: str) -> None:
    proc = runtime("create", "--bundle", str(bundle.path), cid)
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert err.count("\n") == 1 and needle in err, err
    assert not runtime.root.exists() or not any(runtime.root.iterdir())
    assert not cgroup_exists(bundle.config["linux"]["cgroupsPath"])


def test_missing_config(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    assert_refused(runtime, make_bundle(), "b1", "config.json: no such file")


def test_malformed_config(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle()
    (bundle.path / "config.json").write_text("{not json")
    assert_refused(runtime, bundle, "b2", "malformed JSON")


def test_missing_rootfs(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle()
    bundle.config["root"]["path"] = "nowhere"
    bundle.write()
    assert_refused(runtime, bundle, "b3", "is not a directory")


def test_unknown_namespace(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle()
    bundle.config["linux"]["namespaces"].append({"type": "pixie"})
    bundle.write()
    assert_refused(runtime, bundle, "b4", "unknown namespace type 'pixie'")


def test_missing_program(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("no-such-program")
    bundle.write()
    assert_refused(runtime, bundle, "b5", "executable file not found in $PATH")


@pytest.mark.parametrize("cid", ["a/b", "..", ".", "", "../escape"])
def test_bad_ids(runtime: Runtime, make_bundle: Callable[..., Bundle], cid: str) -> None:
    bundle = make_bundle()
    bundle.write()
    assert_refused(runtime, bundle, cid, "invalid container id")


def test_duplicate_id_changes_nothing(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sleep", "30")
    bundle.write()
    runtime("create", "--bundle", str(bundle.path), "dup", check=True)
    pid = runtime.state("dup")["pid"]
    other = make_bundle("true")
    other.write()
    proc = runtime("create", "--bundle", str(other.path), "dup")
    assert proc.returncode == 1 and b"already exists" in proc.stderr
    assert runtime.state("dup")["pid"] == pid
    assert not cgroup_exists(other.config["linux"]["cgroupsPath"])


def test_unknown_container(runtime: Runtime) -> None:
    for verb in (["start"], ["state"], ["kill"], ["delete"]):
        proc = runtime(*verb, "ghost")
        assert proc.returncode == 1 and b"does not exist" in proc.stderr
    assert runtime("delete", "--force", "ghost").returncode == 0


def test_bad_mount_source_leaves_nothing(
    runtime: Runtime, make_bundle: Callable[..., Bundle], scratch: Path
) -> None:
    bundle = make_bundle()
    bundle.config["mounts"].append(
        {
            "destination": "/x",
            "type": "bind",
            "source": str(scratch / "missing"),
            "options": ["rbind"],
        }
    )
    bundle.write()
    assert_refused(runtime, bundle, "b6", "does not exist")
