"""config.json loading and validation, and container id validation (pure, no root)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime_spec import Spec
from dockyard.runtime.config import load_bundle, validate_id, validate_spec
from dockyard.runtime.errors import BadConfig

BASE: dict[str, Any] = {
    "ociVersion": "1.2.0",
    "root": {"path": "rootfs"},
    "process": {"args": ["/bin/sh"], "cwd": "/", "env": ["PATH=/bin"]},
    "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]},
}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "rootfs").mkdir()
    return tmp_path


def _spec(**changes: Any) -> Spec:
    spec = copy.deepcopy(BASE)
    spec.update(changes)
    typed: Spec = spec  # type: ignore[assignment]
    return typed


def _with_linux(**linux: Any) -> Spec:
    spec = _spec()
    spec["linux"].update(linux)  # type: ignore[typeddict-item]
    return spec


def _message(spec: Spec, bundle: Path) -> str:
    with pytest.raises(BadConfig) as info:
        validate_spec(spec, bundle)
    return str(info.value)


def test_valid_spec_passes_and_relative_root_is_made_absolute(bundle: Path) -> None:
    spec = _spec()
    validate_spec(spec, bundle)
    assert spec["root"]["path"] == str((bundle / "rootfs").resolve())


def test_load_bundle_reads_and_validates(bundle: Path) -> None:
    (bundle / "config.json").write_text(json.dumps(BASE))
    spec = load_bundle(bundle)
    assert spec["process"]["args"] == ["/bin/sh"]
    assert spec["root"]["path"] == str((bundle / "rootfs").resolve())


def test_load_bundle_missing_file_says_how_to_make_one(bundle: Path) -> None:
    with pytest.raises(BadConfig, match=r"config\.json: no such file.*dockyard-runtime spec"):
        load_bundle(bundle)


@pytest.mark.parametrize(
    ("content", "match"),
    [("{not json", "malformed JSON"), ("[1, 2]", "expected a JSON object"), ("\xff", "malformed")],
)
def test_load_bundle_rejects_bad_json(bundle: Path, content: str, match: str) -> None:
    (bundle / "config.json").write_bytes(content.encode("latin-1"))
    with pytest.raises(BadConfig, match=match):
        load_bundle(bundle)


def test_bad_config_is_an_invalid_argument() -> None:
    assert issubclass(BadConfig, InvalidArgument)


def test_missing_oci_version(bundle: Path) -> None:
    spec = _spec()
    del spec["ociVersion"]
    assert "ociVersion" in _message(spec, bundle)


def test_missing_root_path(bundle: Path) -> None:
    assert "root.path" in _message(_spec(root={}), bundle)


def test_root_path_not_a_directory(bundle: Path) -> None:
    assert "root.path" in _message(_spec(root={"path": "nope"}), bundle)


def test_missing_process(bundle: Path) -> None:
    spec = _spec()
    del spec["process"]
    assert "process is missing" in _message(spec, bundle)


@pytest.mark.parametrize("args", [None, [], "sh", ["sh", 1]])
def test_bad_process_args(bundle: Path, args: object) -> None:
    process: dict[str, Any] = {"cwd": "/"}
    if args is not None:
        process["args"] = args
    assert "process.args" in _message(_spec(process=process), bundle)


@pytest.mark.parametrize("cwd", ["tmp", "", 3])
def test_relative_cwd(bundle: Path, cwd: object) -> None:
    msg = _message(_spec(process={"args": ["sh"], "cwd": cwd}), bundle)
    assert "process.cwd" in msg
    assert "absolute" in msg


@pytest.mark.parametrize("entry", ["NOEQUALS", 5])
def test_bad_env_entry(bundle: Path, entry: object) -> None:
    msg = _message(_spec(process={"args": ["sh"], "env": ["A=1", entry]}), bundle)
    assert "process.env" in msg
    assert repr(entry) in msg


def test_env_value_may_be_empty_or_contain_equals(bundle: Path) -> None:
    validate_spec(_spec(process={"args": ["sh"], "env": ["A=", "B=x=y"]}), bundle)


def test_unknown_namespace(bundle: Path) -> None:
    msg = _message(_with_linux(namespaces=[{"type": "mount"}, {"type": "bogus"}]), bundle)
    assert "unknown namespace type 'bogus'" in msg
    assert "network" in msg  # lists the known ones


def test_duplicate_namespace(bundle: Path) -> None:
    msg = _message(_with_linux(namespaces=[{"type": "mount"}, {"type": "mount"}]), bundle)
    assert "namespace 'mount' is listed twice" in msg


def test_namespace_path_must_exist(bundle: Path) -> None:
    spec = _with_linux(namespaces=[{"type": "network", "path": str(bundle / "no-ns")}])
    msg = _message(spec, bundle)
    assert "namespace path" in msg
    assert "'network'" in msg


def test_existing_namespace_path_is_accepted(bundle: Path) -> None:
    validate_spec(
        _with_linux(namespaces=[{"type": "network", "path": "/proc/self/ns/net"}]), bundle
    )


@pytest.mark.parametrize("field", ["hostname", "domainname"])
def test_hostname_without_uts(bundle: Path, field: str) -> None:
    assert "uts" in _message(_spec(**{field: "box"}), bundle)


def test_hostname_with_uts(bundle: Path) -> None:
    spec = _with_linux(namespaces=[{"type": "mount"}, {"type": "uts"}])
    spec["hostname"] = "box"
    validate_spec(spec, bundle)


MAPPING = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_user_namespace_without_mappings(bundle: Path) -> None:
    msg = _message(_with_linux(namespaces=[{"type": "mount"}, {"type": "user"}]), bundle)
    assert "linux.uidMappings" in msg


def test_mappings_without_user_namespace(bundle: Path) -> None:
    spec = _with_linux(uidMappings=MAPPING, gidMappings=MAPPING)
    assert "need a new user namespace" in _message(spec, bundle)


def test_mappings_with_joined_user_namespace_are_rejected(bundle: Path) -> None:
    spec = _with_linux(
        namespaces=[{"type": "user", "path": "/proc/self/ns/user"}],
        uidMappings=MAPPING,
        gidMappings=MAPPING,
    )
    assert "need a new user namespace" in _message(spec, bundle)


def test_user_namespace_with_mappings(bundle: Path) -> None:
    spec = _with_linux(
        namespaces=[{"type": "mount"}, {"type": "user"}], uidMappings=MAPPING, gidMappings=MAPPING
    )
    validate_spec(spec, bundle)


def test_user_namespace_with_only_uid_mappings(bundle: Path) -> None:
    spec = _with_linux(namespaces=[{"type": "mount"}, {"type": "user"}], uidMappings=MAPPING)
    with pytest.raises(BadConfig, match="gidMappings"):
        validate_spec(spec, bundle)


def test_time_offsets_without_time_namespace(bundle: Path) -> None:
    spec = _with_linux(timeOffsets={"monotonic": {"secs": 1, "nanosecs": 0}})
    assert "linux.timeOffsets" in _message(spec, bundle)


def test_time_offsets_with_time_namespace(bundle: Path) -> None:
    spec = _with_linux(
        namespaces=[{"type": "mount"}, {"type": "time"}],
        timeOffsets={"monotonic": {"secs": 1, "nanosecs": 0}},
    )
    validate_spec(spec, bundle)


@pytest.mark.parametrize("dest", ["proc", "", None])
def test_relative_mount_destination(bundle: Path, dest: object) -> None:
    mount: dict[str, Any] = {"type": "proc", "source": "proc"}
    if dest is not None:
        mount["destination"] = dest
    msg = _message(_spec(mounts=[{"destination": "/ok", "type": "tmpfs"}, mount]), bundle)
    assert "mount destination" in msg
    assert repr(dest) in msg


@pytest.mark.parametrize("name", ["net/ipv4/ip_forward", "../../etc/passwd", "kernel/../x"])
def test_bad_sysctl_names(bundle: Path, name: str) -> None:
    msg = _message(_with_linux(sysctl={"net.ipv4.ip_forward": "1", name: "1"}), bundle)
    assert f"invalid sysctl name {name!r}" in msg


def test_good_sysctl_names(bundle: Path) -> None:
    validate_spec(_with_linux(sysctl={"net.ipv4.ip_forward": "1", "kernel.shmmax": "1"}), bundle)


@pytest.mark.parametrize("bad", ["a/b", "..", ".", "", "/abs", "a b", "a:b"])
def test_bad_ids(bad: str) -> None:
    with pytest.raises(BadConfig, match="invalid container id"):
        validate_id(bad)


@pytest.mark.parametrize("good", ["abc", "a+b-c.d_e", "123", "x..y", "...", "A"])
def test_good_ids(good: str) -> None:
    validate_id(good)


def test_id_with_trailing_newline_is_rejected() -> None:
    with pytest.raises(BadConfig):
        validate_id("abc\n")
