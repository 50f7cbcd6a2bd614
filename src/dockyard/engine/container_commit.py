"""`commit`: a container's changes (its overlay upper dir) become a new image layer.

The layer tar follows the OCI image spec's changeset rules: a deleted path is a `.wh.<name>`
entry, an opaque directory gets a `.wh..wh..opq` entry; entries are sorted by name and carry no
user or group names, so the same changes always give the same diff-ID.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import stat
import tarfile
import tempfile
from typing import IO, Any

from dockyard.engine.container_diff import (
    is_engine_file,
    is_opaque,
    is_whiteout,
    overlay_layout,
)
from dockyard.engine.service import Engine
from dockyard.errors import InvalidArgument

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# The image config's `config` keys a commit takes from the container (OCI image-spec config).
IMAGE_CONFIG_KEYS = (
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "Healthcheck",
    "OnBuild",
    "Shell",
)


def _info(path: str, name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        info.size = st.st_size
    elif stat.S_ISFIFO(st.st_mode):
        info.type = tarfile.FIFOTYPE
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    return info


def _whiteout(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = 0o600
    info.uname = info.gname = ""
    return info


def upper_to_tar(upper: str, out: IO[bytes]) -> None:
    """Write the changeset tar of an overlay upper dir to `out` (sorted, hardlinks kept)."""
    links: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:

        def walk(relative: str) -> None:
            directory = os.path.join(upper, relative)
            for name in sorted(os.listdir(directory)):
                path = os.path.join(directory, name)
                rel = f"{relative}/{name}".lstrip("/")
                st = os.lstat(path)
                if is_whiteout(st):
                    parent = os.path.dirname(rel)
                    tar.addfile(_whiteout(os.path.join(parent, WHITEOUT_PREFIX + name)))
                    continue
                if is_engine_file(upper, rel, st):
                    continue
                info = _info(path, rel, st)
                ident = (st.st_dev, st.st_ino)
                if info.isreg() and st.st_nlink > 1 and ident in links:
                    info.type, info.linkname, info.size = tarfile.LNKTYPE, links[ident], 0
                    tar.addfile(info)
                    continue
                if info.isreg():
                    links.setdefault(ident, rel)
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
                if info.isdir():
                    if is_opaque(path):
                        tar.addfile(_whiteout(f"{rel}/{OPAQUE_MARKER}"))
                    walk(rel)

        walk("")


def _json_or_shell(value: str) -> list[str]:
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return parsed
    return ["/bin/sh", "-c", text]


def _pairs(value: str) -> dict[str, str]:
    words = shlex.split(value)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}  # the legacy `ENV KEY value` form
    out: dict[str, str] = {}
    for word in words:
        key, sep, val = word.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"invalid --change value {value!r}: use KEY=VALUE pairs")
        out[key] = val
    return out


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """The image `config` after Dockerfile-style `--change` instructions (a new dict)."""
    result = dict(config)
    for change in changes:
        instruction, _, value = change.strip().partition(" ")
        keyword = instruction.upper()
        if keyword == "CMD":
            result["Cmd"] = _json_or_shell(value)
        elif keyword == "ENTRYPOINT":
            result["Entrypoint"] = _json_or_shell(value)
        elif keyword == "ENV":
            env = [e for e in result.get("Env") or []]
            for key, val in _pairs(value).items():
                env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={val}"]
            result["Env"] = env
        elif keyword == "LABEL":
            result["Labels"] = {**(result.get("Labels") or {}), **_pairs(value)}
        elif keyword == "EXPOSE":
            ports = dict(result.get("ExposedPorts") or {})
            for port in value.split():
                ports[port if "/" in port else f"{port}/tcp"] = {}
            result["ExposedPorts"] = ports
        elif keyword == "VOLUME":
            volumes = dict(result.get("Volumes") or {})
            paths = _json_or_shell(value) if value.strip().startswith("[") else value.split()
            volumes.update({p: {} for p in paths})
            result["Volumes"] = volumes
        elif keyword == "USER":
            result["User"] = value.strip()
        elif keyword == "WORKDIR":
            result["WorkingDir"] = value.strip()
        elif keyword == "STOPSIGNAL":
            result["StopSignal"] = value.strip()
        else:
            raise InvalidArgument(
                f"{instruction} is not a valid change command: use CMD, ENTRYPOINT, ENV, EXPOSE,"
                " LABEL, USER, VOLUME, WORKDIR or STOPSIGNAL"
            )
    return result


def commit_config(
    base: dict[str, Any],
    container_config: dict[str, Any],
    diff_id: str,
    *,
    created: str,
    changes: list[str],
    message: str,
    author: str,
    created_by: str,
) -> dict[str, Any]:
    """The new image's config: the base's, the container's settings, one more layer (pure)."""
    config = {k: container_config[k] for k in IMAGE_CONFIG_KEYS if container_config.get(k)}
    history = list(base.get("history") or [])
    entry: dict[str, Any] = {"created": created, "created_by": created_by}
    if message:
        entry["comment"] = message
    if author:
        entry["author"] = author
    history.append(entry)
    doc: dict[str, Any] = {
        "created": created,
        "architecture": base.get("architecture", "amd64"),
        "os": base.get("os", "linux"),
        "config": apply_changes(config, changes),
        "rootfs": {"type": "layers", "diff_ids": [*base["rootfs"]["diff_ids"], diff_id]},
        "history": history,
    }
    if author:
        doc["author"] = author
    if base.get("variant"):
        doc["variant"] = base["variant"]
    return doc


def commit_container(
    engine: Engine,
    text: str,
    reference: str | None,
    *,
    changes: list[str],
    message: str = "",
    author: str = "",
    pause: bool = True,
) -> str:
    """Make an image of the container's root; returns the new image id."""
    from dockyard.engine.container_pause import pause_container, unpause_container
    from dockyard.image.content import Expected
    from dockyard.image.importer import created_time
    from dockyard.image.store import make_manifest
    from dockyard.oci.image_spec import OCI_LAYER

    apply_changes({}, changes)  # a bad --change fails before anything is written
    row = engine.containers.find(text)
    layout = overlay_layout(engine, row.id)
    base = engine.images.get(row.image_id)
    base_config: dict[str, Any] = dict(engine.images.config(base))
    paused = pause and row.status == "running"
    if paused:
        pause_container(engine, row.id)
    store = engine.images
    try:
        with tempfile.NamedTemporaryFile(dir=store.scratch_dir(), prefix="commit-") as tmp:
            upper_to_tar(layout.upper, tmp)
            tmp.flush()
            size = tmp.tell()
            tmp.seek(0)
            sha = hashlib.sha256()
            while chunk := tmp.read(1 << 20):
                sha.update(chunk)
            diff_id = "sha256:" + sha.hexdigest()
            tmp.seek(0)
            if not store.layers.exists(diff_id):
                store.layers.unpack(diff_id, tmp)
            tmp.seek(0)
            store.content.ingest(Expected.of(diff_id, size), iter(lambda: tmp.read(1 << 20), b""))
    finally:
        if paused:
            unpause_container(engine, row.id)
    argv = list(row.config.get("Argv") or [])
    config = commit_config(
        base_config,
        row.config.get("Config") or {},
        diff_id,
        created=created_time(),
        changes=changes,
        message=message,
        author=author,
        created_by=" ".join(argv),
    )
    config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    layers = [
        *engine.images.manifest(base)["layers"],
        {"mediaType": OCI_LAYER, "digest": diff_id, "size": size},
    ]
    manifest = make_manifest(config_bytes, layers)  # type: ignore[arg-type]
    tags = (reference,) if reference else ()
    return store.add(manifest, config_bytes, tags=tags).id
