"""ARG/ENV scoping, with the examples of Docker's Dockerfile reference."""

from __future__ import annotations

from dockyard.build.dockerfile import Arg, Instruction, User, parse
from dockyard.build.dockerfile.scope import Scope, global_scope


def run(text: str, build_args: dict[str, str] | None = None) -> tuple[list[Instruction], Scope]:
    """Step through the instructions after the (single) FROM; returns them resolved."""
    instructions = parse(text).instructions[1:]
    scope = Scope(build_args=build_args or {})
    resolved = []
    for instr in instructions:
        done, scope = scope.step(instr)
        resolved.append(done)
    return resolved, scope


def test_arg_is_visible_only_after_its_declaration() -> None:
    text = "FROM busybox\nUSER ${username:-some_user}\nARG username\nUSER $username\n"
    resolved, _ = run(text, {"username": "what_user"})
    assert resolved[0] == User(user="some_user")
    assert resolved[2] == User(user="what_user")


def test_env_overrides_arg() -> None:
    text = "FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=v1.0.0\n"
    _, scope = run(text, {"CONT_IMG_VER": "v2.0.1"})
    assert scope.variables["CONT_IMG_VER"] == "v1.0.0"
    assert scope.args == {"CONT_IMG_VER": "v2.0.1"} and scope.env == {"CONT_IMG_VER": "v1.0.0"}


def test_env_defaulting_from_an_arg() -> None:
    text = "FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\n"
    assert run(text, {"CONT_IMG_VER": "v2.0.1"})[1].env == {"CONT_IMG_VER": "v2.0.1"}
    assert run(text)[1].env == {"CONT_IMG_VER": "v1.0.0"}


def test_one_env_instruction_sees_the_values_before_it() -> None:
    text = "FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n"
    assert run(text)[1].env == {"abc": "bye", "def": "hello", "ghi": "bye"}


def test_arg_default_and_unset_arg() -> None:
    _, scope = run("FROM a\nARG user=someuser\nARG unset\n")
    assert scope.args == {"user": "someuser"}


def test_global_args_need_redeclaring_in_a_stage() -> None:
    d = parse("ARG SETTINGS=base\nARG V=1\nFROM busybox\nARG SETTINGS\nARG V=2\n")
    globals_ = global_scope([i for i in d.instructions[:2] if isinstance(i, Arg)], {})
    assert globals_ == {"SETTINGS": "base", "V": "1"}
    scope = Scope(global_args=globals_)
    for instr in d.instructions[3:]:
        scope = scope.step(instr)[1]
    assert scope.args == {"SETTINGS": "base", "V": "2"}
    assert Scope(global_args=globals_).variables == {}
