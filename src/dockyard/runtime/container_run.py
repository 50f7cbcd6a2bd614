"""`run`: create, start, wait in the foreground (or return when detached), then delete."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from dockyard.runtime.container_create import CreateOptions, create_container
from dockyard.runtime.container_delete import delete_container
from dockyard.runtime.container_start import start_container
from dockyard.runtime.errors import BadConfig
from dockyard.runtime.foreground import (
    become_subreaper,
    console_pair,
    forwarding_signals,
    proxy_terminal,
    wait_for,
)


def run_container(
    root: Path, container_id: str, opts: CreateOptions, *, detach: bool, keep: bool
) -> int:
    """The container's exit code (foreground) or 0 once it is running (detached)."""
    from dockyard.runtime.config import load_bundle
    from dockyard.runtime.console import receive_master

    terminal = bool(load_bundle(opts.bundle.resolve())["process"].get("terminal"))
    if detach:
        if terminal and not opts.console_socket:
            raise BadConfig("a detached container with a terminal needs --console-socket")
        create_container(root, container_id, opts)
        _start_or_delete(root, container_id)
        return 0
    become_subreaper()
    ours = None
    if terminal and not opts.console_socket:
        ours, theirs = console_pair()
        opts = replace(opts, console=theirs)
    try:
        record = create_container(root, container_id, opts)
    finally:
        if opts.console is not None:
            opts.console.close()
    master = None
    if ours is not None:
        master = receive_master(ours)
        ours.close()
    holder = [record.pid]
    try:
        with forwarding_signals(holder):
            _start_or_delete(root, container_id)
            if master is not None:
                proxy_terminal(master)
                os.close(master)
            code = wait_for(record.pid)
    finally:
        if not keep:
            delete_container(root, container_id, force=True)
    return code


def _start_or_delete(root: Path, container_id: str) -> None:
    try:
        start_container(root, container_id)
    except BaseException:
        delete_container(root, container_id, force=True)
        raise
