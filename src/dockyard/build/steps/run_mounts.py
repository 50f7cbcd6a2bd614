"""RUN --mount (BuildKit semantics): parsed mounts made into the step container's mounts.

Every mount lives only in the container's mount namespace (the runtime makes them), so it
dies with the container: nothing here is ever mounted on the host except the read-only view
of a stage or image a bind takes `from=` (the caller's `Sources` owns it). What is written
through a mount never reaches the step's upper dir, so it is never in the layer:

- `bind` (read-only by default) of a context path or of a stage/image path; `rw` puts an
  overlay over it in the container whose upper dir is thrown away (BuildKit discards too);
- `cache`: a directory under the root's build area keyed by `id` (default: the target),
  kept between builds; `sharing=locked|private` serialise users with a lock file;
- `tmpfs`, with `size`;
- `secret`: a read-only file holding the `--secret` value, at `/run/secrets/ID` or target.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dockyard.build.context_hash import SourceError, Tree, clean_source, hash_sources
from dockyard.build.dockerfile.mounts import MountType, RunMount, Sharing
from dockyard.build.steps.rootfs import secure_join
from dockyard.oci.runtime_spec import Mount

SECRETS_DIR = "/run/secrets"
CACHE_MOUNTS = "cache-mounts"
_OVERLAY_UNSAFE = frozenset(",:\\")  # overlay's option syntax cannot carry these in a path


class MountSetupError(ValueError):
    """A RUN mount cannot be made as written; the builder adds the Dockerfile line."""


@dataclass(frozen=True)
class SecretSource:
    """One `--secret`: its id and where its value is, a host file or an environment variable."""

    id: str
    path: str = ""
    env: str = ""

    def read(self, environ: Mapping[str, str]) -> bytes:
        """The secret's value; a MountSetupError when the file or variable is missing."""
        if self.env:
            if self.env not in environ:
                raise MountSetupError(
                    f"secret {self.id}: environment variable {self.env} is not set"
                )
            return environ[self.env].encode()
        try:
            return Path(self.path).read_bytes()
        except OSError as exc:
            raise MountSetupError(
                f"secret {self.id}: cannot read {self.path}: {exc.strerror}"
            ) from None


def parse_secret(value: str, environ: Mapping[str, str]) -> SecretSource:
    """Docker's `--secret id=ID[,src=PATH|,env=VAR][,type=file|env]`; raises ValueError.

    As buildx: without `type`, `env=` makes an env secret, else a file one; a file secret
    without `src` reads the file named ID, an env secret without `env` the variable ID; a bare
    `id=ID` with no file of that name but a variable of that name is an env secret.
    """
    fields: dict[str, str] = {}
    for part in value.split(","):
        key, eq, val = part.partition("=")
        key = key.strip().lower()
        if not eq or key not in ("id", "type", "src", "source", "env"):
            raise ValueError(f"--secret {value}: write id=NAME,src=PATH or id=NAME,env=VAR")
        fields["src" if key == "source" else key] = val
    secret_id = fields.get("id", "")
    if not secret_id:
        raise ValueError(f"--secret {value}: id=NAME is required")
    kind = fields.get("type") or ("env" if "env" in fields else "file")
    if kind not in ("file", "env"):
        raise ValueError(f"--secret {value}: type must be file or env")
    if kind == "env":
        return SecretSource(secret_id, env=fields.get("env") or secret_id)
    src = fields.get("src", "")
    if not src and not os.path.exists(secret_id) and secret_id in environ:
        return SecretSource(secret_id, env=secret_id)
    return SecretSource(secret_id, path=src or secret_id)


class Sources(Protocol):
    """Where bind mounts read from: the context, and stages or images by `from=`."""

    def context(self) -> Tree: ...
    def stage_key(self, from_: str) -> str: ...
    def stage_root(self, from_: str) -> contextlib.AbstractContextManager[Path]: ...


def check_supported(m: RunMount) -> None:
    """Refuse what dockyard does not do (the builder names the line)."""
    if m.type is MountType.SSH:
        raise MountSetupError(
            "RUN --mount=type=ssh is not supported; use a secret mount or fetch in a COPY"
        )
    if m.type is MountType.CACHE and m.from_:
        raise MountSetupError(
            "RUN --mount=type=cache,from=… is not supported; drop from= (the cache starts empty)"
        )


def secret_id(m: RunMount) -> str:
    """The secret a secret mount wants: id, else source, else the target's name (BuildKit)."""
    return m.id or m.source or posixpath.basename(m.target.rstrip("/"))


def target_of(m: RunMount, workdir: str) -> str:
    """The absolute mount point; a relative target is under the working directory."""
    if m.type is MountType.SECRET and not m.target:
        return f"{SECRETS_DIR}/{posixpath.basename(secret_id(m))}"
    return posixpath.normpath(posixpath.join(workdir or "/", m.target))


def cache_id(m: RunMount, workdir: str) -> str:
    """A cache mount's identity: `id`, default its target (BuildKit)."""
    return m.id or target_of(m, workdir)


def key_spec(m: RunMount, workdir: str, content: str = "") -> dict[str, object]:
    """What of a mount goes into the step's cache key: its spec (never a secret's value),
    and for binds the content (or stage) they read."""
    doc: dict[str, object] = {
        "type": m.type.value,
        "target": target_of(m, workdir),
        "source": m.source,
        "from": m.from_,
        "readonly": m.readonly,
        "id": secret_id(m) if m.type is MountType.SECRET else m.id,
        "sharing": m.sharing.value if m.sharing else "",
        "required": m.required,
        "mode": m.mode,
        "uid": m.uid,
        "gid": m.gid,
        "size": m.size,
    }
    if content:
        doc["content"] = content
    return doc


def bind_content(m: RunMount, sources: Sources) -> str:
    """What a bind reads, for the cache key: the hash of the context files, or the stage key."""
    if m.from_:
        return sources.stage_key(m.from_)
    tree = sources.context()
    rel = _context_rel(m, tree)
    return hash_sources(tree, [rel])


def mounts_key(mounts: Sequence[RunMount], workdir: str, sources: Sources) -> str:
    """The cache-key content of a RUN's mounts (empty when it has none)."""
    if not mounts:
        return ""
    docs = [
        key_spec(m, workdir, bind_content(m, sources) if m.type is MountType.BIND else "")
        for m in mounts
    ]
    return json.dumps({"mounts": docs}, sort_keys=True)


def _context_rel(m: RunMount, tree: Tree) -> str:
    try:
        # BuildKit reads an absolute source relative to the context root.
        rel = clean_source(m.source.lstrip("/"), absolute_ok=False)
    except SourceError:
        raise MountSetupError(
            f"bind source {m.source} is outside the build context; use a path inside it"
        ) from None
    if not tree.exists(rel):
        raise MountSetupError(
            f"bind source {m.source}: no such file or directory in the build context"
        )
    return rel


@dataclass
class PreparedMounts:
    """The runtime-spec mounts of a RUN step and the mount points they need (dest, is_dir)."""

    mounts: list[Mount] = field(default_factory=list)
    points: list[tuple[str, bool]] = field(default_factory=list)


@dataclass(frozen=True)
class MountContext:
    """What making mounts needs: the working dir, a scratch dir, the cache area, secrets."""

    workdir: str
    scratch: Path  # removed by the caller after the step
    cache_root: Path
    secrets: Mapping[str, SecretSource]
    environ: Mapping[str, str]


def prepare_mounts(
    mounts: Sequence[RunMount],
    ctx: MountContext,
    sources: Sources,
    stack: contextlib.ExitStack,
) -> PreparedMounts:
    """Make the sources of every mount (stage views, cache dirs, secret files) under `stack`,
    and return the container's mounts, parents before children."""
    out = PreparedMounts()
    made: list[tuple[str, Mount, bool]] = []
    for index, m in enumerate(mounts):
        check_supported(m)
        dest = target_of(m, ctx.workdir)
        if m.type is MountType.BIND:
            mount, is_dir = _bind(m, dest, ctx, sources, stack, index=index)
        elif m.type is MountType.CACHE:
            mount, is_dir = _cache(m, dest, ctx, stack), True
        elif m.type is MountType.TMPFS:
            options = ["nosuid", "nodev"] + ([f"size={m.size}"] if m.size else [])
            mount, is_dir = {"destination": dest, "type": "tmpfs", "source": "tmpfs",
                             "options": options}, True  # fmt: skip
        else:  # SECRET
            secret = _secret(m, dest, ctx, index)
            if secret is None:
                continue
            mount, is_dir = secret, False
        made.append((dest, mount, is_dir))
    # A mount inside another's target must come after it (BuildKit sorts the same way).
    made.sort(key=lambda item: item[0].count("/") if item[0] != "/" else 0)
    for dest, mount, is_dir in made:
        out.mounts.append(mount)
        out.points.append((dest, is_dir))
    return out


def _bind(
    m: RunMount,
    dest: str,
    ctx: MountContext,
    sources: Sources,
    stack: contextlib.ExitStack,
    *,
    index: int,
) -> tuple[Mount, bool]:
    if m.from_:
        root = stack.enter_context(sources.stage_root(m.from_))
        rel = posixpath.normpath("/" + m.source).lstrip("/")
        source = secure_join(root, rel) if rel not in ("", ".") else root
        if not os.path.lexists(source):
            raise MountSetupError(f"bind source {m.source or '/'}: not found in {m.from_}")
    else:
        tree = sources.context()
        rel = _context_rel(m, tree)
        source = secure_join(tree.root, rel) if rel else tree.root
    is_dir = source.is_dir()
    if m.readonly:
        return _bind_mount(dest, source, readonly=True), is_dir
    # rw: writes are discarded (BuildKit). A directory gets an overlay whose upper dir is
    # scratch; a file (or a path overlay options cannot carry) a scratch copy.
    work = ctx.scratch / f"bind-{index}"
    work.mkdir(parents=True)
    if is_dir and not _OVERLAY_UNSAFE & set(str(source)):
        (work / "upper").mkdir()
        (work / "work").mkdir()
        options = [f"lowerdir={source}", f"upperdir={work / 'upper'}", f"workdir={work / 'work'}"]
        return {"destination": dest, "type": "overlay", "source": "overlay",
                "options": options}, True  # fmt: skip
    copy = work / "copy"
    if is_dir:
        shutil.copytree(source, copy, symlinks=True)
    else:
        shutil.copy2(source, copy)
    return _bind_mount(dest, copy, readonly=False), is_dir


def _bind_mount(dest: str, source: Path, *, readonly: bool) -> Mount:
    options = ["rbind", "ro" if readonly else "rw"]
    return {"destination": dest, "type": "bind", "source": str(source), "options": options}


def cache_dir(cache_root: Path, ident: str) -> Path:
    """Where the cache mount `ident` keeps its files."""
    return cache_root / hashlib.sha256(ident.encode()).hexdigest()[:32]


def _cache(m: RunMount, dest: str, ctx: MountContext, stack: contextlib.ExitStack) -> Mount:
    directory = cache_dir(ctx.cache_root, cache_id(m, ctx.workdir))
    ctx.cache_root.mkdir(parents=True, exist_ok=True)
    if m.sharing in (Sharing.LOCKED, Sharing.PRIVATE):
        # One user at a time; `private` would rather make a fresh instance (BuildKit), a
        # lock is the simpler safe reading of it.
        lock = stack.enter_context(open(directory.with_suffix(".lock"), "a+b"))  # noqa: SIM115
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
    if not directory.exists():
        # uid/gid/mode apply when the cache is made (BuildKit); made under a temp name and
        # renamed, so a concurrent build never sees it half set up.
        fresh = Path(tempfile.mkdtemp(dir=ctx.cache_root, prefix=".new-"))
        os.chown(fresh, m.uid or 0, m.gid or 0)
        os.chmod(fresh, m.mode if m.mode is not None else 0o755)
        try:
            os.rename(fresh, directory)
        except OSError:
            os.rmdir(fresh)  # another build made it first
    return _bind_mount(dest, directory, readonly=m.readonly)


def _secret(m: RunMount, dest: str, ctx: MountContext, index: int) -> Mount | None:
    ident = secret_id(m)
    source = ctx.secrets.get(ident)
    if source is None:
        if m.required:
            raise MountSetupError(
                f"secret {ident} is required but was not given; pass --secret id={ident},src=FILE"
            )
        return None  # BuildKit skips an optional secret that was not given
    value = source.read(ctx.environ)
    directory = ctx.scratch / "secrets"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / str(index)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(value)
    os.chown(path, m.uid or 0, m.gid or 0)
    os.chmod(path, m.mode if m.mode is not None else 0o400)
    return _bind_mount(dest, path, readonly=True)


def prune_cache_mounts(build_area: Path) -> int:
    """Delete every cache mount under the build area; the bytes freed."""
    root = build_area / CACHE_MOUNTS
    freed = 0
    if not root.is_dir():
        return 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with contextlib.suppress(FileNotFoundError):
                st = os.lstat(os.path.join(dirpath, name))
                if stat.S_ISREG(st.st_mode):
                    freed += st.st_size
    shutil.rmtree(root)
    return freed
