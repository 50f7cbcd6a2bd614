"""`build_image`: execute a planned Dockerfile, step by step, into an image in the store.

Each stage starts from its base (an image, an earlier stage, or scratch); config-only steps
change the config; RUN and COPY/ADD work in a fresh snapshot on the stage's layers and the
snapshot's upper dir becomes the step's layer (`layerdiff`). Every step is looked up in the
build cache first (`cache.step_key`), so an unchanged build reuses every layer.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import posixpath
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from dockyard.build.cache import BuildCache, CacheEntry, step_key
from dockyard.build.context import read_dockerignore, walk_context
from dockyard.build.context_hash import SourceError, Tree, hash_sources, match_sources
from dockyard.build.dockerfile import (
    Add,
    Copy,
    Dockerfile,
    DockerfileError,
    Instruction,
    Run,
    Scope,
    Workdir,
    file_sources,
    parse,
    parse_file,
)
from dockyard.build.dockerfile.mounts import MountError, RunMount, parse_mount
from dockyard.build.dockerfile.shellwords import Lex
from dockyard.build.layerdiff import LayerBlob, digest_file, source_date_epoch, write_layer
from dockyard.build.plan import BuildPlan, make_plan
from dockyard.build.progress import PlainProgress, Progress
from dockyard.build.steps import copy_step
from dockyard.build.steps.config_step import apply_config, created_by, is_config_only
from dockyard.build.steps.copy_plan import CopyEntry, CopyPlanner, plan_sources, write_entries
from dockyard.build.steps.fetch import download
from dockyard.build.steps.rootfs import StepRoot, ensure_dir, image_user, read_ids, step_root
from dockyard.build.steps.run_mounts import (
    CACHE_MOUNTS,
    MountContext,
    MountSetupError,
    SecretSource,
    check_supported,
    mounts_key,
    prepare_mounts,
)
from dockyard.build.steps.run_spec import RunSettings
from dockyard.build.steps.state import ImageState, LayerRef
from dockyard.errors import DockyardError, InvalidArgument, NotFound
from dockyard.image.content import Expected
from dockyard.image.digest import Digest
from dockyard.image.importer import created_time
from dockyard.image.store import ImageStore, make_manifest
from dockyard.oci.image_spec import OCI_LAYER

if TYPE_CHECKING:
    from dockyard.state.db import StateDB
    from dockyard.storage.layers import LayerStore
    from dockyard.storage.snapshots import Snapshotter

NETWORKS = ("default", "host", "none")
_CHUNK = 1 << 20


class EnginePaths(Protocol):
    """Where the engine keeps things (see `dockyard.engine.paths.EnginePaths`)."""

    @property
    def root(self) -> Path: ...
    @property
    def runtime_root(self) -> Path: ...


class BuildEngine(Protocol):
    """The parts of the engine a build uses; `dockyard.engine.service.Engine` is one."""

    @property
    def paths(self) -> EnginePaths: ...
    @property
    def db(self) -> StateDB: ...
    @property
    def images(self) -> ImageStore: ...
    @property
    def layers(self) -> LayerStore: ...
    @property
    def snapshots(self) -> Snapshotter: ...


class StepFailed(DockyardError):
    """A RUN step exited non-zero; carries the step's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build takes besides the Dockerfile and context."""

    tags: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    network: str = "default"
    labels: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, SecretSource] = field(default_factory=dict)  # --secret, by id


def build_image(  # noqa: PLR0917 - the signature compose calls
    engine: BuildEngine,
    context: Path | None,
    dockerfile: Path | str | None = None,
    tags: Sequence[str] = (),
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    network: str = "default",
    labels: Mapping[str, str] | None = None,
    output: IO[str] | None = None,
    *,
    pull: bool = False,
    secrets: Mapping[str, SecretSource] | None = None,
    progress: Progress | None = None,
) -> str:
    """Build the Dockerfile (a path, its text, or `context/Dockerfile`); returns the image id.

    Progress goes to `progress` when given, else as plain lines to `output` (None: quiet).
    """
    if network not in NETWORKS:
        raise InvalidArgument(f"--network {network}: use one of {', '.join(NETWORKS)}")
    parsed = load_dockerfile(context, dockerfile)
    options = BuildOptions(
        tuple(tags),
        dict(build_args or {}),
        target,
        no_cache,
        pull,
        network,
        dict(labels or {}),
        dict(secrets or {}),
    )
    plan = make_plan(parsed, options.build_args, target)
    if progress is None and output is not None:
        progress = PlainProgress(output)
    return Builder(engine, context, parsed, plan, options=options, progress=progress).run()


def load_dockerfile(context: Path | None, dockerfile: Path | str | None) -> Dockerfile:
    """Parse the Dockerfile given as a path, as text, or found in the context."""
    if isinstance(dockerfile, str):
        return parse(dockerfile)
    if dockerfile is None:
        if context is None:
            raise InvalidArgument("no Dockerfile: give -f PATH or a context directory")
        dockerfile = context / "Dockerfile"
    try:
        # Bytes, not read_text: universal newlines would turn a lone "\r" into a line break.
        text = dockerfile.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return parse_file(dockerfile)  # raises the front end's "no such file" error
    # Errors name the file as Docker does (`Dockerfile:7: …`), not by its full path.
    return parse(text, name=dockerfile.name)


class Builder:
    """One build: runs the plan's stages in order and records the target as an image."""

    def __init__(
        self,
        engine: BuildEngine,
        context: Path | None,
        dockerfile: Dockerfile,
        plan: BuildPlan,
        *,
        options: BuildOptions,
        progress: Progress | None,
    ) -> None:
        self.engine = engine
        self.context = context
        self.dockerfile = dockerfile
        self.plan = plan
        self.options = options
        self.progress = progress
        self.cache = BuildCache(engine.db)
        self.work = engine.paths.root / "build"
        self.epoch = source_date_epoch(os.environ)
        self.results: dict[int, ImageState] = {}
        self._context_tree: Tree | None = None

    # -- output ----------------------------------------------------------------------------

    def _stream(self, chunk: bytes) -> None:
        if self.progress is not None:
            self.progress.output(chunk)

    def _error(self, instr: Instruction, reason: str) -> DockerfileError:
        return DockerfileError(reason, file=self.dockerfile.name, line=instr.start_line)

    # -- the build -------------------------------------------------------------------------

    def run(self) -> str:
        """Build every needed stage; store and tag the target; returns its image id."""
        self.work.mkdir(parents=True, exist_ok=True)
        for index in self.plan.order:
            self.results[index] = self._stage(index)
        state = self.results[self.plan.stages.target]
        image_id = self._store(state)
        if self.progress is not None:
            self.progress.built(image_id, self.options.tags)
        return image_id

    def _stage(self, index: int) -> ImageState:
        stage = self.plan.stages.stages[index]
        steps = self.plan.stage_steps(index)
        if self.progress is not None:
            self.progress.step(steps[0].number, self.plan.total, steps[0].text)
        state = self._base(stage.base, stage.base_stage, stage.from_)
        if self.progress is not None:
            self.progress.step_done(_short(state.key))
        base_env = dict(e.partition("=")[::2] for e in state.config.get("Env") or [])
        scope = Scope(
            self.options.build_args,
            self.plan.stages.global_args,
            env=base_env,
            escape=self.dockerfile.escape,
            name=self.dockerfile.name,
        )
        triggers = list(state.config.get("OnBuild") or [])
        if triggers:
            config = dict(state.config, OnBuild=None)
            state = state.with_config(config)
            if self.progress is not None:
                self.progress.note(
                    f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}"
                )
            for instr in parse("\n".join(triggers), name=f"{stage.base} ONBUILD").instructions:
                state, scope = self._step(state, scope, instr)
        for planned in steps[1:]:
            if self.progress is not None:
                self.progress.step(planned.number, self.plan.total, planned.text)
            state, scope = self._step(state, scope, planned.instruction)
            if self.progress is not None:
                self.progress.step_done(_short(state.key))
        return state

    def _base(self, ref: str, base_stage: int | None, instr: Instruction) -> ImageState:
        if base_stage is not None:
            return copy.deepcopy(self.results[base_stage])
        if ref == "scratch":
            return ImageState(key="scratch", config={})
        record = self._image(ref, instr)
        config: dict[str, Any] = dict(self.engine.images.config(record))
        manifest = self.engine.images.manifest(record)
        layers = tuple(
            LayerRef(str(d["mediaType"]), str(d["digest"]), int(d["size"]), diff_id)
            for d, diff_id in zip(manifest["layers"], record.diff_ids, strict=True)
        )
        return ImageState(
            key=record.id,
            layers=layers,
            config=dict(config.get("config") or {}),
            history=tuple(config.get("history") or ()),
        )

    def _image(self, ref: str, instr: Instruction) -> Any:
        images = self.engine.images
        if not self.options.pull:
            with contextlib.suppress(NotFound):
                return images.resolve(ref)
        try:
            _pull(images, ref)
        except DockyardError as exc:
            raise self._error(instr, f"{ref}: {exc}; pull or load the image first") from None
        return images.resolve(ref)

    def _step(
        self, state: ImageState, scope: Scope, instr: Instruction
    ) -> tuple[ImageState, Scope]:
        resolved, scope = scope.step(instr)
        if isinstance(resolved, Workdir):
            return self._workdir(state, resolved), scope
        if isinstance(resolved, (Copy, Add)):
            self._check_flags(resolved)
        if is_config_only(resolved):
            key = step_key(state.key, resolved.to_source())
            hit = self._lookup(key)
            after = apply_config(resolved, state)
            created = hit.created if hit else created_time()
            if hit is None:
                self.cache.put(key, CacheEntry(None, 0, created))
            return after.step(key, created, created_by(resolved), None), scope
        if isinstance(resolved, Run):
            return self._run(state, scope, resolved), scope
        if isinstance(resolved, (Copy, Add)):
            return self._copy(state, scope, resolved), scope
        raise self._error(instr, f"{instr.keyword} cannot be used here")

    def _check_flags(self, instr: Copy | Add) -> None:
        unsupported = [
            name
            for name, value in (
                ("--exclude", instr.excludes),
                ("--parents", isinstance(instr, Copy) and instr.parents),
                ("--keep-git-dir", isinstance(instr, Add) and instr.keep_git_dir),
            )
            if value
        ]
        if unsupported:
            raise self._error(
                instr, f"{instr.keyword} {unsupported[0]} is not supported yet; remove it"
            )

    def _workdir(self, state: ImageState, instr: Workdir) -> ImageState:
        """WORKDIR sets the config and, as BuildKit, makes the directory when it is missing."""
        key = step_key(state.key, instr.to_source())
        after = apply_config(instr, state)
        by = created_by(instr)
        hit = self._lookup(key)
        if hit is not None:
            return self._from_cache(after, key, hit, by)
        path = after.config["WorkingDir"]
        if self._in_layers(state.diff_ids, path):
            created = created_time()
            self.cache.put(key, CacheEntry(None, 0, created))
            return after.step(key, created, by, None)
        with step_root(self.engine.snapshots, self.work, state.diff_ids) as root:
            ensure_dir(root.rootfs, path)
            return self._finish(after, key, root.upper, by)

    def _in_layers(self, diff_ids: Sequence[str], path: str) -> bool:
        """Whether `path` is in the topmost layer that has it (not a whiteout)."""
        rel = path.strip("/")
        if not rel:
            return True
        for diff_id in reversed(diff_ids):
            candidate = self.engine.layers.path(diff_id) / rel
            if os.path.lexists(candidate):
                return not candidate.is_char_device()
        return False

    def _lookup(self, key: str) -> CacheEntry | None:
        """A usable cache entry: not with --no-cache, and its layer still stored."""
        if self.options.no_cache:
            return None
        entry = self.cache.get(key)
        if entry is None:
            return None
        if entry.diff_id is not None and not (
            self.engine.layers.exists(entry.diff_id)
            and self.engine.images.content.exists(Digest.parse(entry.diff_id))
        ):
            return None
        if self.progress is not None:
            self.progress.cached()
        return entry

    def _from_cache(self, state: ImageState, key: str, entry: CacheEntry, by: str) -> ImageState:
        layer = None
        if entry.diff_id is not None:
            layer = LayerRef(OCI_LAYER, entry.diff_id, entry.size, entry.diff_id)
        return state.step(key, entry.created, by, layer)

    def _finish(self, state: ImageState, key: str, upper: Path, by: str) -> ImageState:
        return self._record(state, key, self._commit(upper), by)

    def _record(self, state: ImageState, key: str, layer: LayerRef | None, by: str) -> ImageState:
        created = created_time()
        self.cache.put(
            key, CacheEntry(layer.diff_id if layer else None, layer.size if layer else 0, created)
        )
        return state.step(key, created, by, layer)

    # -- RUN -------------------------------------------------------------------------------

    def _run(self, state: ImageState, scope: Scope, instr: Run) -> ImageState:
        mounts = self._mounts(instr, scope)
        sources = _MountSources(self, instr)
        workdir = state.config.get("WorkingDir") or "/"
        args = run_args(instr, state.shell)
        network = instr.network or self.options.network
        by = created_by(instr)
        try:
            # The mounts' specs (and what binds read) — never a secret's value.
            content = mounts_key(mounts, workdir, sources)
        except MountSetupError as exc:
            raise self._error(instr, str(exc)) from None
        key = step_key(state.key, json.dumps(args), {**scope.args, "network:": network}, content)
        hit = self._lookup(key)
        if hit is not None:
            return self._from_cache(state, key, hit, by)
        env = {**scope.args, **dict(e.partition("=")[::2] for e in state.config.get("Env") or [])}
        with (
            step_root(self.engine.snapshots, self.work, state.diff_ids) as root,
            contextlib.ExitStack() as stack,
        ):
            try:
                settings = self._run_settings(root, state, args, env, network)
            except (NotFound, InvalidArgument) as exc:  # USER or WORKDIR the image lacks
                raise self._error(instr, str(exc)) from None
            scratch = stack.enter_context(tempfile.TemporaryDirectory(dir=self.work))
            mount_ctx = MountContext(
                workdir, Path(scratch), self.work / CACHE_MOUNTS, self.options.secrets, os.environ
            )
            try:
                prepared = prepare_mounts(mounts, mount_ctx, sources, stack)
            except MountSetupError as exc:
                raise self._error(instr, str(exc)) from None
            if self.progress is not None:
                self.progress.running(_short(key))
            from dockyard.build.steps.run_step import run_container

            bridge = None
            if settings.network == "default":
                from dockyard.network.manager import NetworkManager

                bridge = NetworkManager(self.engine.db, self.engine.paths.root)
            code = run_container(
                self.engine.paths.runtime_root,
                self.work,
                settings,
                (root.rootfs, root.upper),
                self._stream,
                bridge=bridge,
                mounts=prepared.mounts,
                points=prepared.points,
            )
            if code != 0:
                raise StepFailed(
                    f"{self.dockerfile.name}:{instr.start_line}: "
                    f"{instr.to_source().splitlines()[0]} returned a non-zero code: {code}",
                    code,
                )
            return self._finish(state, key, root.upper, by)

    def _mounts(self, instr: Run, scope: Scope) -> list[RunMount]:
        """RUN's `--mount`s, substituted with the stage's variables now (as BuildKit)."""
        out: list[RunMount] = []
        for spec in instr.mounts:
            try:
                mount = parse_mount(spec, scope.variables, self.dockerfile.escape)
                check_supported(mount)
            except (MountError, MountSetupError) as exc:
                raise self._error(instr, f"--mount={spec}: {exc}") from None
            out.append(mount)
        return out

    def _run_settings(
        self,
        root: StepRoot,
        state: ImageState,
        args: list[str],
        env: dict[str, str],
        network: str,
    ) -> RunSettings:
        workdir = state.config.get("WorkingDir") or "/"
        user = state.config.get("User") or "0"
        resolved = image_user(root.rootfs, user)
        if workdir != "/":
            ensure_dir(root.rootfs, workdir)
        return RunSettings(
            args=tuple(args),
            env=env,
            cwd=workdir,
            uid=resolved.uid,
            gid=resolved.gid,
            additional_gids=resolved.additional_gids,
            network=network,
            hostname="buildkitsandbox",
            cgroup_parent=os.environ.get("DOCKYARD_CGROUP_PARENT") or "/dockyard",
        )

    # -- COPY / ADD ------------------------------------------------------------------------

    def _copy(self, state: ImageState, scope: Scope, instr: Copy | Add) -> ImageState:
        paths, inline = file_sources(instr)
        from_ = instr.from_ if isinstance(instr, Copy) else None
        urls = [p for p in paths if isinstance(instr, Add) and _is_url(p)]
        locals_ = [p for p in paths if p not in urls]
        workdir = state.config.get("WorkingDir") or "/"
        dest = copy_step.destination(instr.dest, workdir)
        lex = Lex(self.dockerfile.escape, raw_quotes=True, raw_escapes=True)
        bodies = [
            (doc.name, lex.process_word(doc.text, scope.variables) if doc.expand else doc.text)
            for doc in inline
        ]
        with contextlib.ExitStack() as stack:
            tree = stack.enter_context(self._source_tree(from_, instr))
            try:
                matched = [
                    m for p in locals_ for m in match_sources(tree, p, absolute_ok=bool(from_))
                ]
            except SourceError as exc:
                raise self._error(instr, f"{instr.keyword} failed: {exc}") from None
            downloads = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=self.work)))
            fetched = [download(url, downloads, instr.checksum) for url in urls]  # type: ignore[union-attr]
            url_tree = Tree(downloads)
            content = json.dumps(
                [
                    hash_sources(tree, matched),
                    hash_sources(url_tree, fetched) if fetched else "",
                    bodies,
                    state.key if from_ is None else self._tree_id(from_),
                ]
            )
            key = step_key(state.key, instr.to_source(), {}, content)
            by = created_by(instr)
            hit = self._lookup(key)
            if hit is not None:
                return self._from_cache(state, key, hit, by)
            # ADD extracts archives by writing into a snapshot; plain copies go straight
            # into the layer tar (`copy_plan`), with a read-only view to resolve paths.
            archives = isinstance(instr, Add) and any(
                copy_step.is_archive(tree.root / m) for m in matched
            )
            with step_root(
                self.engine.snapshots, self.work, state.diff_ids, readonly=not archives
            ) as root:
                try:
                    uid, gid = read_ids(root.rootfs, instr.chown) if instr.chown else (0, 0)
                    mode = copy_step.parse_chmod(instr.chmod)
                except (NotFound, InvalidArgument) as exc:
                    raise self._error(instr, str(exc)) from None
                owner = copy_step.Owner(uid, gid, mode)
                url_owner = copy_step.Owner(uid, gid, mode if mode is not None else 0o600)
                count = len(matched) + len(fetched) + len(bodies)
                if count > 1 and not copy_step.dest_is_dir(root.rootfs, dest, count):
                    raise self._error(
                        instr, f"{instr.keyword} of several sources: end {instr.dest} with /"
                    )
                if count > 1 and not dest.endswith("/"):
                    dest += "/"
                if archives:
                    self._write(
                        instr=instr, tree=tree, matched=matched, root=root, dest=dest, owner=owner
                    )
                    if fetched:
                        copy_step.copy_sources(url_tree, fetched, root.rootfs, dest, url_owner)
                    for name, body in bodies:
                        copy_step.write_inline(root.rootfs, dest, name, body, owner, many=count > 1)
                    return self._finish(state, key, root.upper, by)
                planner = CopyPlanner.on(root.rootfs, owner)
                plan_sources(planner, tree, matched, dest, count)
                if fetched:
                    urls_planner = CopyPlanner(root.rootfs, url_owner, planner.entries)
                    plan_sources(urls_planner, url_tree, fetched, dest, count)
                into_dir = copy_step.dest_is_dir(root.rootfs, dest, count)
                for name, body in bodies:
                    target = posixpath.join(dest, name) if into_dir else dest
                    planner.add_inline(target, body.encode(), int(time.time()))
                layer = self._commit_entries(planner.entries)
            return self._record(state, key, layer, by)

    def _write(
        self,
        *,
        instr: Copy | Add,
        tree: Tree,
        matched: list[str],
        root: StepRoot,
        dest: str,
        owner: copy_step.Owner,
    ) -> None:
        plain: list[str] = []
        for rel in matched:
            if isinstance(instr, Add) and copy_step.is_archive(tree.root / rel):
                copy_step.extract_archive(tree.root / rel, root.rootfs, dest)
            else:
                plain.append(rel)
        if plain:
            many = len(matched) > 1 or dest.endswith("/")
            target = dest if not many or dest.endswith("/") else dest + "/"
            copy_step.copy_sources(tree, plain, root.rootfs, target, owner)

    @contextlib.contextmanager
    def _source_tree(self, from_: str | None, instr: Instruction) -> Iterator[Tree]:
        if from_ is None:
            yield self._context(instr)
            return
        state = self._from_state(from_, instr)
        with step_root(self.engine.snapshots, self.work, state.diff_ids, readonly=True) as root:
            yield Tree(root.rootfs)

    def _from_state(self, from_: str, instr: Instruction) -> ImageState:
        stages = self.plan.stages.stages
        for stage in stages:
            if (stage.name or "") == from_.lower() or str(stage.index) == from_:
                if stage.index not in self.results:
                    raise self._error(instr, f"--from={from_}: stage not built yet")
                return self.results[stage.index]
        return self._base(from_, None, instr)

    def _tree_id(self, from_: str) -> str:
        stages = self.plan.stages.stages
        for stage in stages:
            if (stage.name or "") == from_.lower() or str(stage.index) == from_:
                return self.results[stage.index].key
        return from_

    def _context(self, instr: Instruction) -> Tree:
        if self.context is None:
            raise self._error(
                instr, f"{instr.keyword} needs a build context: give a directory, not -"
            )
        if self._context_tree is None:
            patterns = read_dockerignore(self.context)
            name = posixpath.basename(self.dockerfile.name) or "Dockerfile"
            allowed = frozenset(walk_context(self.context, patterns, dockerfile=name))
            self._context_tree = Tree(self.context, allowed)
        return self._context_tree

    # -- layers and the image --------------------------------------------------------------

    def _commit(self, upper: Path) -> LayerRef | None:
        """The upper dir as a stored layer (unpacked and as a blob); None when empty."""
        with tempfile.TemporaryFile(dir=self.engine.images.scratch_dir(), prefix="build-") as tmp:
            return self._keep(write_layer(upper, tmp, self.epoch), tmp)

    def _commit_entries(self, entries: dict[str, CopyEntry]) -> LayerRef | None:
        """Planned COPY entries as a stored layer; None when there are none."""
        with tempfile.TemporaryFile(dir=self.engine.images.scratch_dir(), prefix="build-") as tmp:
            count = write_entries(entries, tmp, self.epoch)
            return self._keep(digest_file(tmp, count), tmp)

    def _keep(self, blob: LayerBlob, tmp: IO[bytes]) -> LayerRef | None:
        if blob.entries == 0:
            return None
        self.engine.layers.unpack(blob.diff_id, tmp)
        tmp.seek(0)
        self.engine.images.content.ingest(
            Expected.of(blob.diff_id, blob.size), iter(lambda: tmp.read(_CHUNK), b"")
        )
        return LayerRef(OCI_LAYER, blob.diff_id, blob.size, blob.diff_id)

    def _store(self, state: ImageState) -> str:
        config = dict(state.config)
        if self.options.labels:
            config["Labels"] = {**(config.get("Labels") or {}), **self.options.labels}
        # The newest step time, not now: a fully cached rebuild gives the same image id.
        # SOURCE_DATE_EPOCH, when set, still fixes it (created_time returns it).
        created = created_time() if self.epoch is not None else state.latest_created()
        doc = {
            "created": created or created_time(),
            "architecture": _go_arch(),
            "os": "linux",
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": list(state.diff_ids)},
            "history": list(state.history),
        }
        config_bytes = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        manifest = make_manifest(
            config_bytes,
            [
                {"mediaType": lr.media_type, "digest": lr.digest, "size": lr.size}
                for lr in state.layers
            ],
        )
        record = self.engine.images.add(manifest, config_bytes, tags=self.options.tags)
        return record.id


class _MountSources:
    """Where a RUN's bind mounts read from, for `run_mounts` (errors name the RUN's line)."""

    def __init__(self, builder: Builder, instr: Instruction) -> None:
        self.builder = builder
        self.instr = instr

    def context(self) -> Tree:
        return self.builder._context(self.instr)

    def stage_key(self, from_: str) -> str:
        return self.builder._from_state(from_, self.instr).key

    @contextlib.contextmanager
    def stage_root(self, from_: str) -> Iterator[Path]:
        state = self.builder._from_state(from_, self.instr)
        engine = self.builder.engine
        with step_root(engine.snapshots, self.builder.work, state.diff_ids, readonly=True) as root:
            yield root.rootfs


def run_args(instr: Run, shell: tuple[str, ...]) -> list[str]:
    """RUN's argv: exec form as is; shell form (with heredoc bodies) under the SHELL."""
    command = instr.command
    if not command.shell_form:
        return list(command.args)
    text = " ".join(command.args)
    if len(instr.heredocs) == 1 and text.strip() == f"<<{instr.heredocs[0].name}":
        # `RUN <<EOF` alone: the body is the script (BuildKit).
        return [*shell, instr.heredocs[0].text]
    if instr.heredocs:
        text += "\n" + "".join(doc.to_source() for doc in instr.heredocs)
    return [*shell, text]


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _short(key: str) -> str:
    return key.removeprefix("sha256:")[:12] if key != "scratch" else "scratch"


def _go_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(
        machine, machine
    )


def _pull(images: ImageStore, ref: str) -> None:
    from dockyard.image.pull import pull_image
    from dockyard.image.reference import parse_reference
    from dockyard.image.registry.client import RegistryClient
    from dockyard.image.registry.config import load_registry_config

    with RegistryClient(config=load_registry_config()) as client:
        pull_image(images, client, parse_reference(ref))
