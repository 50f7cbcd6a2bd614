"""OCI hooks run in the spec's order, each with the container's state on stdin."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def test_hooks_run_in_order_with_the_state(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sh", "-c", "echo program >> /hooks.log")
    host_log = bundle.rootfs / "hooks.log"

    def hook(kind: str, log: str) -> dict[str, object]:
        # Each hook appends its name and the state's id/status it read on stdin.
        script = f'read -r state; echo "{kind} $state" >> {log}'
        return {"path": "/bin/sh", "args": ["sh", "-c", script]}

    host = str(host_log)
    bundle.config["hooks"] = {
        "prestart": [hook("prestart", host)],
        "createRuntime": [hook("createRuntime", host)],
        "createContainer": [hook("createContainer", host)],
        # startContainer runs after pivot_root: its paths are the container's.
        "startContainer": [hook("startContainer", "/hooks.log")],
        "poststart": [hook("poststart", host)],
        "poststop": [hook("poststop", host)],
    }
    bundle.write()
    runtime("create", "--bundle", str(bundle.path), "h1", check=True)
    runtime("start", "h1", check=True)
    runtime("delete", "--force", "h1", check=True)
    lines = host_log.read_text().splitlines()
    kinds = [line.split(" ", 1)[0] for line in lines]
    assert kinds[:4] == ["prestart", "createRuntime", "createContainer", "startContainer"]
    assert set(kinds[4:]) == {"program", "poststart", "poststop"}
    assert kinds[-1] == "poststop"
    for line in lines:
        if line != "program":
            state = json.loads(line.split(" ", 1)[1])
            assert state["id"] == "h1" and state["bundle"] == str(bundle.path)


def test_a_failing_create_hook_fails_create_and_leaves_nothing(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("true")
    bundle.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 3"]}]
    }
    bundle.write()
    proc = runtime("create", "--bundle", str(bundle.path), "h2")
    assert proc.returncode == 1
    assert b"createRuntime hook /bin/sh exited with 3: nope" in proc.stderr
    assert runtime("list", "-q").stdout == b""
