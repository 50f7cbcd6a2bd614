"""`create`: a container record, its root snapshot, volumes, files and OCI bundle.

Everything made is undone if any step fails, so a failed `create` leaves no row, snapshot,
directory or anonymous volume behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from dockyard.engine.config import (
    ContainerConfig,
    ImageConfigView,
    NetworkAttachment,
    merge_image,
    process_args,
)
from dockyard.engine.names import new_id, random_name, validate_name
from dockyard.engine.network_mode import uses_bridge
from dockyard.engine.networking import (
    check_networks,
    desired_networks,
    netns_path,
    settings_doc,
)
from dockyard.engine.options import PortBinding
from dockyard.engine.service import Engine
from dockyard.engine.spec import (
    ResolvedDevice,
    ResolvedMount,
    build_spec,
    host_device,
    validate_resources,
)
from dockyard.engine.store import ContainerRow
from dockyard.engine.volumes import Volume
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.image.store import ImageRecord
from dockyard.image.users import resolve_user

TINI = ("/usr/bin/tini-static", "/usr/bin/tini")


def image_file(engine: Engine, image: ImageRecord, path: str) -> Path | None:
    """A file of the image's merged view, found in the topmost layer that has it."""
    for diff_id in reversed(image.diff_ids):
        candidate = engine.layers.path(diff_id) / path
        if os.path.lexists(candidate):
            return candidate if candidate.is_file() else None
    return None


def _resolve_mounts(
    engine: Engine, cfg: ContainerConfig, view: ImageConfigView, made: list[Volume]
) -> tuple[list[ResolvedMount], list[dict[str, Any]]]:
    """Binds, named/anonymous volumes (created on demand) and tmpfs, with inspect's `Mounts`."""
    from dockyard.engine.options import parse_volume

    specs = [parse_volume(b) for b in cfg.host.binds] + list(cfg.host.mounts)
    targets = {s.target for s in specs} | set(cfg.host.tmpfs)
    for target in [*view.volumes, *cfg.volumes]:
        if target not in targets:
            from dockyard.engine.options import MountSpec

            specs.append(MountSpec(type="volume", source="", target=target))
            targets.add(target)
    resolved: list[ResolvedMount] = []
    docs: list[dict[str, Any]] = []
    for spec in specs:
        if spec.type == "bind":
            if not os.path.exists(spec.source):
                raise InvalidArgument(
                    f"invalid mount config: bind source path does not exist: {spec.source}"
                )
            resolved.append(
                ResolvedMount(
                    "bind", spec.source, spec.target, spec.readonly, _prop(spec.propagation)
                )
            )
            docs.append(
                {
                    "Type": "bind",
                    "Source": spec.source,
                    "Destination": spec.target,
                    "Mode": "ro" if spec.readonly else "",
                    "RW": not spec.readonly,
                    "Propagation": spec.propagation or "rprivate",
                }
            )
        elif spec.type == "volume":
            existed = bool(spec.source) and _exists(engine, spec.source)
            volume = engine.volumes.create(
                spec.source or None, options=dict(spec.volume_options) or None
            )
            if not existed:
                made.append(volume)
            resolved.append(
                ResolvedMount("volume", str(volume.mountpoint), spec.target, spec.readonly)
            )
            docs.append(
                {
                    "Type": "volume",
                    "NoCopy": spec.nocopy,
                    "Name": volume.name,
                    "Source": str(volume.mountpoint),
                    "Destination": spec.target,
                    "Driver": "local",
                    "Mode": "z",
                    "RW": not spec.readonly,
                    "Propagation": "",
                }
            )
        else:
            options = []
            if spec.tmpfs_size:
                options.append(f"size={spec.tmpfs_size}")
            if spec.tmpfs_mode:
                options.append(f"mode={spec.tmpfs_mode:o}")
            resolved.append(
                ResolvedMount("tmpfs", "tmpfs", spec.target, spec.readonly, tuple(options))
            )
            docs.append(
                {
                    "Type": "tmpfs",
                    "Source": "",
                    "Destination": spec.target,
                    "Mode": "",
                    "RW": True,
                    "Propagation": "",
                }
            )
    for target, tmpfs_options in cfg.host.tmpfs.items():
        opts = tuple(o for o in tmpfs_options.split(",") if o)
        resolved.append(ResolvedMount("tmpfs", "tmpfs", target, False, opts))
    return resolved, docs


def _prop(propagation: str) -> tuple[str, ...]:
    return (propagation,) if propagation else ()


def _exists(engine: Engine, name: str) -> bool:
    try:
        engine.volumes.get(name)
    except NotFound:
        return False
    return True


def _write_files(
    directory: Path, hostname: str, extra_hosts: tuple[str, ...], dns: tuple[str, ...]
) -> None:
    from dockyard.network.hosts import HOSTS_HEADER

    (directory / "hostname").write_text(hostname + "\n")
    hosts = list(HOSTS_HEADER)
    for entry in extra_hosts:
        name, _, ip = entry.partition(":")
        hosts.append(f"{ip}\t{name}")
    (directory / "hosts").write_text("\n".join(hosts) + "\n")
    if dns:
        resolv = "".join(f"nameserver {server}\n" for server in dns)
    else:
        try:
            resolv = Path("/etc/resolv.conf").read_text()
        except FileNotFoundError:
            resolv = ""
    (directory / "resolv.conf").write_text(resolv)


def _seccomp(cfg: ContainerConfig) -> dict[str, Any] | None:
    from dockyard.engine.options import parse_security_opt, security_settings
    from dockyard.runtime.seccomp_profile import load_default_profile

    settings = security_settings(parse_security_opt(o) for o in cfg.host.security_opt)
    if cfg.host.privileged or settings.seccomp == "unconfined":
        return None
    if settings.seccomp == "default":
        return dict(load_default_profile())
    try:
        profile: dict[str, Any] = json.loads(Path(settings.seccomp).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise InvalidArgument(f"opening seccomp profile ({settings.seccomp}) failed: {e}") from None
    return profile


def _publish_all(cfg: ContainerConfig, view: ImageConfigView) -> tuple[PortBinding, ...]:
    """`-P`: every exposed port (the image's and `--expose`) on a random host port."""
    bindings = list(cfg.host.port_bindings)
    taken: set[tuple[int, str]] = {(b.container_port, b.proto) for b in bindings}
    for spec in sorted({*view.exposed_ports, *cfg.exposed_ports}):
        port, _, proto = spec.partition("/")
        key = (int(port), proto or "tcp")
        if port.isdigit() and key not in taken:
            bindings.append(PortBinding("", 0, key[0], key[1]))  # type: ignore[arg-type]
            taken.add(key)
    return tuple(bindings)


def host_capabilities() -> list[str]:
    """The capabilities we hold (privileged and ALL cannot give a container more than that:
    a host without CAP_SYS_RESOURCE, like a container-in-a-VM, would fail every capset)."""
    from dockyard.runtime.capabilities import CAPABILITY_NAMES, read_last_cap

    with open("/proc/self/status") as f:
        permitted = next(int(line.split()[1], 16) for line in f if line.startswith("CapPrm:"))
    known = CAPABILITY_NAMES[: read_last_cap() + 1]
    return [name for i, name in enumerate(known) if permitted & (1 << i)]


def cgroup_v2() -> bool:
    """Docker gives a private cgroup namespace on cgroup v2 hosts only."""
    from dockyard.runtime.cgroups import detect_layout

    return detect_layout().kind == "v2"


def _devices(cfg: ContainerConfig) -> list[ResolvedDevice]:
    if cfg.host.privileged:
        devices = []
        for entry in sorted(Path("/dev").iterdir()):
            with contextlib.suppress(InvalidArgument, OSError):
                devices.append(host_device(str(entry), str(entry)))
        return devices
    return [
        host_device(d.path_on_host, d.path_in_container, d.permissions) for d in cfg.host.devices
    ]


def _network_ns(engine: Engine, cfg: ContainerConfig) -> str | None:
    """`--network container:X` joins X's network namespace (X must be running)."""
    mode = cfg.host.network_mode
    if not mode.startswith("container:"):
        return None
    other = engine.containers.find(mode.split(":", 1)[1])
    if other.status != "running" or not other.pid:
        raise Conflict(f"cannot join network of a non running container: {other.id}")
    return f"/proc/{other.pid}/ns/net"


def create_container(
    engine: Engine,
    cfg: ContainerConfig,
    name: str | None = None,
    networks: Sequence[NetworkAttachment] = (),
    *,
    aliases: Sequence[str] = (),
    links: Sequence[str] = (),
) -> ContainerRow:
    """Create (but do not start) a container of `cfg.image`.

    `networks` (or, if empty, `--network` with `aliases`) are joined when it starts.
    """
    validate_resources(cfg.host, os.cpu_count())
    bridged = uses_bridge(cfg.host.network_mode)
    wanted = desired_networks(cfg, networks, aliases) if bridged else []
    if bridged:
        check_networks(engine, wanted)
    try:
        image = engine.images.resolve(cfg.image)
    except NotFound:
        raise NotFound(f"Unable to find image '{cfg.image}' locally") from None
    oci = engine.images.config(image)
    view = ImageConfigView.from_oci(oci.get("config") or {})
    if cfg.host.publish_all_ports:
        cfg = replace(cfg, host=replace(cfg.host, port_bindings=_publish_all(cfg, view)))
    argv = process_args(cfg, view, cfg.image)  # fails early: "no command specified"
    if name is not None:
        validate_name(name)
    container_id = new_id()
    paths = engine.paths
    config_doc = cfg.to_docker_json()
    config_doc["NetworkSettings"] = settings_doc(wanted)
    config_doc["Links"] = list(links)
    for attempt in range(10):
        chosen = name or random_name(attempt)
        try:
            engine.containers.insert(container_id, chosen, cfg.image, image.id, config_doc)
            break
        except Conflict:
            if name is not None or attempt == 9:
                raise
    made: list[Volume] = []
    try:
        directory = paths.container(container_id)
        paths.rootfs(container_id).mkdir(parents=True)
        engine.snapshots.prepare(container_id, image.diff_ids)
        merged = merge_image(cfg, view)
        user = resolve_user(
            merged.user,
            image_file(engine, image, "etc/passwd"),
            image_file(engine, image, "etc/group"),
        )
        if cfg.host.group_add:
            user = replace(
                user,
                additional_gids=user.additional_gids
                + tuple(int(g) for g in cfg.host.group_add if g.isdigit()),
            )
        mounts, mount_docs = _resolve_mounts(engine, cfg, view, made)
        hostname = cfg.hostname or container_id[:12]
        _write_files(directory, hostname, cfg.host.extra_hosts, cfg.host.dns)
        init_path = None
        if cfg.host.init:
            init_path = next((p for p in TINI if os.path.exists(p)), None)
            if init_path is None:
                raise NotFound("--init needs tini: install it with `apt-get install tini`")
        spec = build_spec(
            cfg,
            view,
            ncpus=os.cpu_count(),
            all_capabilities=host_capabilities(),
            cgroupns=cgroup_v2(),
            devices=_devices(cfg),
            network_ns_path=(
                str(netns_path(engine, container_id)) if bridged else _network_ns(engine, cfg)
            ),
            container_id=container_id,
            rootfs=str(paths.rootfs(container_id)),
            mounts=mounts,
            hostname=hostname,
            user=user,
            resolv_conf=str(directory / "resolv.conf"),
            hosts=str(directory / "hosts"),
            hostname_file=str(directory / "hostname"),
            seccomp_profile=_seccomp(cfg),
            # Where containers' cgroups go; tests move them under their own prefix.
            cgroup_parent=os.environ.get("DOCKYARD_CGROUP_PARENT") or "/dockyard",
            init_path=init_path,
        )
        (paths.bundle(container_id) / "config.json").write_text(json.dumps(spec))
        config_doc["Mounts"] = mount_docs
        config_doc["Argv"] = argv
        engine.containers.update(container_id, config=config_doc)
    except BaseException:
        from dockyard.engine.monitor.supervisor import release

        release(engine, container_id)
        with contextlib.suppress(NotFound):
            engine.snapshots.remove(container_id)
        shutil.rmtree(paths.container(container_id), ignore_errors=True)
        engine.containers.delete(container_id)
        for volume in made:
            engine.volumes.remove(volume.name, [])
        raise
    return engine.containers.get(container_id)
