"""RUN: the command runs as a container on the step's mounted snapshot, output streamed.

The runtime is called directly (no monitor): the builder is the container's parent (a child
subreaper, since the runtime double-forks init), reads its output from one pipe, waits for
it and deletes it, so a failed or interrupted step leaves no container or cgroup behind.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from dockyard.build.steps.mount_points import MadePoints, make_points, remove_points
from dockyard.build.steps.rootfs import secure_join
from dockyard.build.steps.run_spec import RunSettings, run_spec
from dockyard.oci.runtime_spec import Mount, Spec

Output = Callable[[bytes], None]
HOST_FILES = ("resolv.conf", "hosts")


def default_seccomp(capabilities: list[str]) -> dict[str, object]:
    """Docker's default seccomp profile as a runtime-spec `linux.seccomp` object."""
    from dockyard.runtime.seccomp_profile import (
        docker_profile_to_spec,
        load_default_profile,
        native_arch,
    )

    return dict(docker_profile_to_spec(load_default_profile(), set(capabilities), native_arch()))


def make_spec(settings: RunSettings, container_id: str, rootfs: Path) -> Spec:
    """The full spec of a RUN container on `rootfs`."""
    from dockyard.runtime.capabilities import DEFAULT_CAPABILITIES
    from dockyard.runtime.spec_default import default_spec

    caps = list(DEFAULT_CAPABILITIES)
    return run_spec(
        settings,
        container_id,
        str(rootfs),
        capabilities=caps,
        seccomp=default_seccomp(caps),
        base=default_spec(),
    )


class Bridge(Protocol):
    """The network layer's part a RUN on the default network needs (`NetworkManager`)."""

    def ensure_default(self) -> object: ...
    def attach(
        self, network: str, container_id: str, container_name: str, netns_path: Path | str
    ) -> object: ...
    def detach_all(self, container_id: str) -> None: ...


DEFAULT_NETWORK = "dockyard0"


def run_container(
    runtime_root: Path,
    bundle_dir: Path,
    settings: RunSettings,
    root: tuple[Path, Path],
    output: Output,
    *,
    bridge: Bridge | None = None,
    mounts: Sequence[Mount] = (),
    points: Sequence[tuple[str, bool]] = (),
) -> int:
    """Run the step's command in a container on `root` (rootfs, upper dir); its exit code.

    `default` networking joins the default bridge (NAT'd outbound access) through `bridge`.
    `mounts` (RUN --mount) are added to the container's, `points` are their mount points
    (destination, is a directory), made for the run and never left in the layer.
    """
    rootfs, upper = root
    container_id = f"build-{secrets.token_hex(12)}"
    bundle = bundle_dir / container_id
    bundle.mkdir(parents=True)
    netns = bundle / "netns"
    made = MadePoints(rootfs, upper)
    attached = False
    try:
        if settings.network == "none":
            loopback_netns(netns)
            settings = replace(settings, netns_path=str(netns))
        elif settings.network == "default":
            from dockyard.network.netns import create_netns

            assert bridge is not None, "RUN on the default network needs the network layer"
            create_netns(netns)
            bridge.ensure_default()
            attached = True
            bridge.attach(DEFAULT_NETWORK, container_id, container_id, netns)
            settings = replace(settings, netns_path=str(netns))
        spec = make_spec(settings, container_id, rootfs)
        binds, host_points = bind_host_files(rootfs, bundle)
        # Made only as mount points: `remove_points` keeps them (and the parents overlay
        # copied up to hold them) out of the step's layer.
        make_points(made, [*host_points, *points])
        spec["mounts"] = [*spec.get("mounts", []), *binds, *mounts]
        (bundle / "config.json").write_text(json.dumps(spec))
        return _run(runtime_root, container_id, bundle, output)
    finally:
        remove_points(made)
        if attached and bridge is not None:
            bridge.detach_all(container_id)
        if settings.network in ("none", "default"):
            from dockyard.network.netns import remove_netns

            remove_netns(netns)
        shutil.rmtree(bundle, ignore_errors=True)


def bind_host_files(rootfs: Path, bundle: Path) -> tuple[list[Mount], list[tuple[str, bool]]]:
    """Read-only copies of the host's resolv.conf and hosts over the image's, as Docker does
    for RUN (name resolution works in images that ship none); returns the mounts and their
    mount points (destination, is a directory)."""
    etc = secure_join(rootfs, "/etc")
    if not etc.is_dir() or etc.is_symlink():
        return [], []
    mounts: list[Mount] = []
    points: list[tuple[str, bool]] = []
    for name in HOST_FILES:
        source = Path("/etc") / name
        if not source.is_file():
            continue
        target = etc / name
        if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
            continue  # a link or a directory in the image: leave it alone
        points.append((f"/etc/{name}", False))
        copy = bundle / name
        shutil.copyfile(source, copy)
        mounts.append(
            {"destination": f"/etc/{name}", "type": "bind", "source": str(copy),
             "options": ["rbind", "ro"]}
        )  # fmt: skip
    return mounts, points


def loopback_netns(path: Path) -> None:
    """A new named network namespace at `path` with `lo` up (Docker's `none` network)."""
    from dockyard.network.bridge import in_netns
    from dockyard.network.netns import create_netns, remove_netns

    create_netns(path)
    try:
        in_netns(str(path), lambda ns: ns.link("set", index=ns.link_lookup(ifname="lo")[0],
                                              state="up"))  # fmt: skip
    except BaseException:
        remove_netns(path)
        raise


def _run(runtime_root: Path, container_id: str, bundle: Path, output: Output) -> int:
    from dockyard.runtime.container_create import CreateOptions, create_container
    from dockyard.runtime.container_delete import delete_container
    from dockyard.runtime.container_start import start_container
    from dockyard.runtime.foreground import become_subreaper, wait_for

    become_subreaper()
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    created = False
    try:
        try:
            record = create_container(
                runtime_root,
                container_id,
                CreateOptions(bundle=bundle, stdio=(devnull, write_end, write_end)),
            )
            created = True
        finally:
            os.close(write_end)
            os.close(devnull)
        start_container(runtime_root, container_id)
        # Every holder of the pipe is in the container's PID namespace, which dies with init.
        while chunk := os.read(read_end, 65536):
            output(chunk)
        return wait_for(record.pid)
    finally:
        os.close(read_end)
        if created:
            delete_container(runtime_root, container_id, force=True)
