"""OCI hooks: run each with the container state as JSON on stdin (runtime-spec, "Hooks")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dockyard.errors import DockyardError

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Hook, State


class HookFailed(DockyardError):
    """A hook exited non-zero, timed out, or could not be run."""


def warn_hooks(kind: str, hooks: list[Hook], state: State) -> None:
    """Run every hook; a failure is a warning on stderr (runtime-spec: poststart, poststop)."""
    import os

    for hook in hooks:
        try:
            run_hooks(kind, [hook], state)
        except HookFailed as e:
            os.write(2, f"dockyard-runtime: warning: {e}\n".encode())


def run_hooks(kind: str, hooks: list[Hook], state: State) -> None:
    """Run `hooks` in order; the first failure raises `HookFailed` naming the hook."""
    if not hooks:
        return
    import subprocess

    payload = json.dumps(state).encode()
    for hook in hooks:
        path = hook["path"]
        args = hook.get("args") or [path]
        env = dict(e.split("=", 1) for e in hook.get("env", []))
        try:
            proc = subprocess.run(
                args,
                executable=path,
                input=payload,
                env=env,
                capture_output=True,
                timeout=hook.get("timeout"),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HookFailed(f"{kind} hook {path} timed out after {hook.get('timeout')}s") from None
        except OSError as e:
            raise HookFailed(f"{kind} hook {path}: {e.strerror}") from None
        if proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace").strip().splitlines()
            tail = f": {detail[-1]}" if detail else ""
            raise HookFailed(f"{kind} hook {path} exited with {proc.returncode}{tail}")
