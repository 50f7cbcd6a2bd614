"""Pure parts of the builder: config steps, RUN argv and spec, COPY destinations, the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.build.builder import run_args
from dockyard.build.dockerfile import parse
from dockyard.build.plan import make_plan
from dockyard.build.steps.config_step import apply_config, resolve_workdir, set_env
from dockyard.build.steps.copy_step import destination, parse_chmod
from dockyard.build.steps.mount_points import MadePoints, make_points, remove_points
from dockyard.build.steps.run_spec import RunSettings, run_spec
from dockyard.build.steps.run_step import bind_host_files
from dockyard.build.steps.state import ImageState
from dockyard.errors import InvalidArgument
from dockyard.runtime.spec_default import default_spec


def _apply(text: str, state: ImageState | None = None) -> ImageState:
    state = state or ImageState(key="k", config={"Cmd": ["sh"], "Env": ["PATH=/bin"]})
    for instr in parse("FROM x\n" + text).instructions[1:]:
        state = apply_config(instr, state)
    return state


def test_config_instructions() -> None:
    state = _apply(
        "ENV A=1 PATH=/usr/bin\nLABEL a=b\nEXPOSE 80 53/udp\nVOLUME /v\nWORKDIR /app\n"
        "WORKDIR sub\nUSER nobody\nSTOPSIGNAL SIGINT\nHEALTHCHECK --retries=3 CMD true\n"
        "ONBUILD RUN x\n"
    )
    c = state.config
    assert c["Env"] == ["PATH=/usr/bin", "A=1"]
    assert c["Labels"] == {"a": "b"}
    assert c["ExposedPorts"] == {"53/udp": {}, "80/tcp": {}}
    assert c["Volumes"] == {"/v": {}}
    assert c["WorkingDir"] == "/app/sub"
    assert (c["User"], c["StopSignal"]) == ("nobody", "SIGINT")
    assert c["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Retries": 3}
    assert c["OnBuild"] == ["RUN x"]


def test_entrypoint_resets_an_inherited_cmd_but_not_one_set_here() -> None:
    assert _apply('ENTRYPOINT ["top"]').config["Cmd"] is None
    kept = _apply('CMD ["-b"]\nENTRYPOINT ["top"]').config
    assert (kept["Entrypoint"], kept["Cmd"]) == (["top"], ["-b"])


def test_shell_changes_shell_form_commands() -> None:
    state = _apply('SHELL ["/bin/bash", "-xc"]\nCMD echo hi')
    assert state.config["Cmd"] == ["/bin/bash", "-xc", "echo hi"]
    assert state.shell == ("/bin/bash", "-xc")


def test_helpers() -> None:
    assert set_env(["A=1", "B=2"], "A", "3") == ["A=3", "B=2"]
    assert resolve_workdir("/a", "../b") == "/b"
    assert resolve_workdir("/a", "/c/") == "/c"
    assert destination("x/", "/w") == "/w/x/"
    assert destination("/abs", "/w") == "/abs"
    assert destination(".", "/w") == "/w"
    assert parse_chmod("0755") == 0o755
    with pytest.raises(InvalidArgument):
        parse_chmod("u+x")


def test_run_args_shell_exec_and_heredoc() -> None:
    instrs = parse(
        'FROM x\nRUN echo $A\nRUN ["a", "b"]\nRUN <<EOF\necho hi\nEOF\nRUN cat <<EOF\nx\nEOF\n'
    ).instructions
    shell = ("/bin/sh", "-c")
    assert run_args(instrs[1], shell) == ["/bin/sh", "-c", "echo $A"]  # type: ignore[arg-type]
    assert run_args(instrs[2], shell) == ["a", "b"]  # type: ignore[arg-type]
    assert run_args(instrs[3], shell) == ["/bin/sh", "-c", "echo hi\n"]  # type: ignore[arg-type]
    assert run_args(instrs[4], shell) == ["/bin/sh", "-c", "cat <<EOF\nx\nEOF\n"]  # type: ignore[arg-type]


def _settings(network: str) -> RunSettings:
    return RunSettings(
        args=("sh", "-c", "true"),
        env={"A": "1", "PATH": "/x"},
        cwd="/w",
        uid=5,
        gid=6,
        additional_gids=(7,),
        network=network,
        hostname="h",
        cgroup_parent="/p/",
    )


def test_run_spec_host_and_none_networks() -> None:
    host = run_spec(_settings("host"), "cid", "/r", capabilities=["CAP_CHOWN"], seccomp=None,
                    base=default_spec())  # fmt: skip
    kinds = [ns["type"] for ns in host["linux"]["namespaces"]]
    assert "network" not in kinds and "cgroup" not in kinds and "pid" in kinds
    assert host["linux"]["cgroupsPath"] == "/p/cid"
    assert host["process"]["env"] == ["PATH=/x", "HOSTNAME=h", "A=1"]
    assert host["process"]["user"] == {"uid": 5, "gid": 6, "additionalGids": [7]}
    assert host["root"] == {"path": "/r", "readonly": False}
    none = run_spec(_settings("none"), "cid", "/r", capabilities=[], seccomp=None,
                    base=default_spec())  # fmt: skip
    assert "network" in [ns["type"] for ns in none["linux"]["namespaces"]]


def test_plan_numbers_steps_of_the_needed_stages() -> None:
    dockerfile = parse(
        "FROM a AS one\nRUN x\nFROM b AS two\nRUN y\nFROM one\nCOPY --from=one / /\n"
    )
    plan = make_plan(dockerfile, {}, None)
    assert plan.order == (0, 2)
    assert [(s.number, s.stage, s.text) for s in plan.steps] == [
        (1, 0, "FROM a AS one"),
        (2, 0, "RUN x"),
        (3, 2, "FROM one"),
        (4, 2, "COPY --from=one / /"),
    ]
    assert make_plan(dockerfile, {}, "two").total == 2


def test_host_files_are_bound_and_missing_mount_points_made(tmp_path: Path) -> None:
    rootfs, bundle = tmp_path / "rootfs", tmp_path / "bundle"
    (rootfs / "etc").mkdir(parents=True)
    bundle.mkdir()
    (rootfs / "etc" / "hosts").write_text("image hosts\n")
    mounts, points = bind_host_files(rootfs, bundle)
    assert [m["destination"] for m in mounts] == ["/etc/resolv.conf", "/etc/hosts"]
    assert all(m["options"] == ["rbind", "ro"] for m in mounts)
    assert points == [("/etc/resolv.conf", False), ("/etc/hosts", False)]
    made = MadePoints(rootfs, tmp_path / "upper")
    make_points(made, points)
    assert made.made == [rootfs / "etc" / "resolv.conf"]  # hosts existed: not made
    remove_points(made)
    assert sorted(p.name for p in (rootfs / "etc").iterdir()) == ["hosts"]
    assert (bundle / "hosts").read_text() == Path("/etc/hosts").read_text()
    assert bind_host_files(tmp_path / "no-etc", bundle) == ([], [])


def test_mount_points_and_their_copied_up_parents_are_removed(tmp_path: Path) -> None:
    rootfs, upper = tmp_path / "rootfs", tmp_path / "upper"
    (rootfs / "run").mkdir(parents=True)  # in a lower layer: not in the upper dir
    (rootfs / "tmp").mkdir()
    upper.mkdir()
    made = MadePoints(rootfs, upper)
    make_points(made, [("/run/secrets/token", False), ("/tmp/cache/a", True), ("/run", True)])
    assert (rootfs / "run/secrets/token").is_file()
    assert (rootfs / "tmp/cache/a").is_dir()
    assert made.copied_up == ["run", "run/secrets", "tmp", "tmp/cache"]
    (upper / "run").mkdir()  # what overlay's copy-up would have made
    (upper / "tmp").mkdir()
    (upper / "tmp" / "written-by-run").write_text("kept")
    remove_points(made)
    assert not (rootfs / "run/secrets").exists()
    assert not (rootfs / "tmp/cache").exists()
    assert not (upper / "run").exists()
    assert (upper / "tmp" / "written-by-run").exists()
