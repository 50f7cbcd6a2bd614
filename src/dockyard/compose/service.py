"""One merged, canonical-form service definition → a `Service` (the normalize stage)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from dockyard.compose.coerce import to_bool, to_float, to_int, to_str
from dockyard.compose.environment import resolve_environment
from dockyard.compose.errors import ComposeError, KeyPath
from dockyard.compose.interpolate import Lookup
from dockyard.compose.model import (
    Build,
    Condition,
    Dependency,
    Healthcheck,
    Logging,
    PullPolicy,
    Resources,
    RestartPolicy,
    Service,
    ServiceFile,
    ServiceNetwork,
    Ulimit,
    VolumeMount,
    frozen_map,
)
from dockyard.compose.ports import parse_port
from dockyard.compose.tree import Tree
from dockyard.compose.units import parse_duration, parse_size
from dockyard.compose.volumes import parse_volume, resolve_path

T = TypeVar("T")


class ServiceReader:
    """Reads one service of the merged tree, reporting errors at their file:line:path."""

    def __init__(self, name: str, tree: Tree, project_dir: str, lookup: Lookup) -> None:
        self.name = name
        self.tree = tree
        self.data: dict[str, Any] = tree.data["services"][name] or {}
        self.base = project_dir
        self.lookup = lookup
        self.path: KeyPath = ("services", name)

    def fail(self, message: str, *keys: str | int) -> ComposeError:
        path = (*self.path, *keys)
        return ComposeError(message, location=self.tree.locate(path), path=path)

    def get(self, key: str, parse: Callable[[Any], T]) -> T | None:
        """`parse(value)` of `key`, None when absent; a ValueError becomes a located error."""
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise self.fail(str(exc), key) from None

    def items(self, key: str, parse: Callable[[Any], list[T]]) -> tuple[T, ...]:
        out: list[T] = []
        for index, item in enumerate(self.data.get(key) or []):
            try:
                out.extend(parse(item))
            except ValueError as exc:
                raise self.fail(str(exc), key, index) from None
        return tuple(out)

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(to_str(item) for item in self.data.get(key) or [])

    def service(self) -> Service:
        """The normalised service."""
        get = self.get
        replicas = self.replicas()
        restart, retries = self.restart()
        return Service(
            name=self.name,
            image=get("image", str),
            build=get("build", self.build),
            command=get("command", _command),
            entrypoint=get("entrypoint", _command),
            environment=frozen_map(
                resolve_environment(self.data, self.base, self.lookup, self.path, self.tree.locate)
            ),
            ports=self.items("ports", parse_port),
            expose=tuple(str(item) for item in self.data.get("expose") or []),
            volumes=self.items("volumes", self.volume),
            networks=self.networks(),
            network_mode=get("network_mode", str),
            links=self.strings("links"),
            depends_on=self.depends_on(),
            healthcheck=get("healthcheck", _healthcheck),
            restart=restart,
            restart_max_retries=retries,
            container_name=get("container_name", str),
            hostname=get("hostname", str),
            domainname=get("domainname", str),
            user=get("user", to_str),
            working_dir=get("working_dir", str),
            labels=frozen_map(_string_map(self.data.get("labels"))),
            extra_hosts=get("extra_hosts", _extra_hosts) or (),
            dns=self.strings("dns"),
            dns_search=self.strings("dns_search"),
            dns_opt=self.strings("dns_opt"),
            init=get("init", to_bool),
            read_only=get("read_only", to_bool) or False,
            tmpfs=self.strings("tmpfs"),
            cap_add=self.strings("cap_add"),
            cap_drop=self.strings("cap_drop"),
            privileged=get("privileged", to_bool) or False,
            security_opt=self.strings("security_opt"),
            sysctls=frozen_map(_string_map(self.data.get("sysctls"))),
            ulimits=get("ulimits", _ulimits) or (),
            mem_limit=get("mem_limit", parse_size),
            cpus=get("cpus", to_float),
            pids_limit=get("pids_limit", to_int),
            shm_size=get("shm_size", parse_size),
            limits=self.resources("limits"),
            reservations=self.resources("reservations"),
            replicas=replicas,
            stop_signal=get("stop_signal", str),
            stop_grace_period=get("stop_grace_period", parse_duration),
            stdin_open=get("stdin_open", to_bool) or False,
            tty=get("tty", to_bool) or False,
            profiles=self.strings("profiles"),
            pull_policy=get("pull_policy", _pull_policy) or PullPolicy.MISSING,
            logging=get("logging", _logging),
            secrets=self.items("secrets", _file_grant("/run/secrets/")),
            configs=self.items("configs", _file_grant("/")),
        )

    def build(self, value: Mapping[str, Any]) -> Build:
        context = str(value.get("context") or ".")
        if "://" not in context and not context.startswith("git@"):
            context = resolve_path(context, self.base)
        return Build(
            context=context,
            dockerfile=value.get("dockerfile"),
            dockerfile_inline=value.get("dockerfile_inline"),
            args=frozen_map(dict(value.get("args") or {})),
            target=value.get("target"),
            labels=frozen_map(_string_map(value.get("labels"))),
        )

    def volume(self, item: Any) -> list[VolumeMount]:
        return [parse_volume(item, self.base)]

    def networks(self) -> tuple[ServiceNetwork, ...]:
        value = self.data.get("networks")
        if value is None:
            return ()
        out = []
        for key, options in value.items():
            opts = options or {}
            out.append(
                ServiceNetwork(
                    network=key,
                    aliases=tuple(str(a) for a in opts.get("aliases") or []),
                    ipv4_address=opts.get("ipv4_address"),
                    ipv6_address=opts.get("ipv6_address"),
                    priority=int(opts.get("priority") or 0),
                )
            )
        return tuple(out)

    def depends_on(self) -> tuple[Dependency, ...]:
        out = []
        for target, options in (self.data.get("depends_on") or {}).items():
            opts = options or {}
            try:
                out.append(
                    Dependency(
                        service=target,
                        condition=Condition(opts.get("condition", "service_started")),
                        restart=to_bool(opts.get("restart", False)),
                        required=to_bool(opts.get("required", True)),
                    )
                )
            except ValueError as exc:
                raise self.fail(str(exc), "depends_on", target) from None
        return tuple(out)

    def restart(self) -> tuple[RestartPolicy, int | None]:
        value = self.data.get("restart")
        if value is None:
            return RestartPolicy.NO, None
        text = to_str(value)
        policy, _, count = text.partition(":")
        try:
            parsed = RestartPolicy(policy)
            retries = to_int(count) if count else None
        except ValueError:
            raise self.fail(
                f'invalid restart policy "{text}"; use no, always, on-failure[:N] or '
                "unless-stopped",
                "restart",
            ) from None
        if retries is not None and parsed is not RestartPolicy.ON_FAILURE:
            raise self.fail(f'"{text}": only on-failure takes a retry count', "restart")
        return parsed, retries

    def resources(self, kind: str) -> Resources:
        deploy = self.data.get("deploy") or {}
        value = (deploy.get("resources") or {}).get(kind) or {}
        try:
            return Resources(
                cpus=None if value.get("cpus") is None else to_float(value["cpus"]),
                memory=None if value.get("memory") is None else parse_size(value["memory"]),
                pids=None if value.get("pids") is None else to_int(value["pids"]),
            )
        except ValueError as exc:
            raise self.fail(str(exc), "deploy", "resources", kind) from None

    def replicas(self) -> int:
        scale = self.get("scale", to_int)
        deploy = self.data.get("deploy") or {}
        replicas = deploy.get("replicas")
        try:
            from_deploy = None if replicas is None else to_int(replicas)
        except ValueError as exc:
            raise self.fail(str(exc), "deploy", "replicas") from None
        if scale is not None and from_deploy is not None and scale != from_deploy:
            raise self.fail(
                f"scale ({scale}) and deploy.replicas ({from_deploy}) differ; keep one", "scale"
            )
        count = scale if scale is not None else from_deploy
        if count is not None and count < 0:
            raise self.fail(f"scale must not be negative, not {count}", "scale")
        return 1 if count is None else count


def _command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        # Compose splits a string command into words (shellwords), it does not run `sh -c`.
        try:
            return tuple(shlex.split(value))
        except ValueError as exc:
            raise ValueError(f'invalid command "{value}": {exc}') from None
    return tuple(to_str(item) for item in value)


def _healthcheck(value: Mapping[str, Any]) -> Healthcheck:
    disable = to_bool(value.get("disable", False))
    test_value = value.get("test")
    test: tuple[str, ...]
    if isinstance(test_value, str):
        test = ("CMD-SHELL", test_value)
    else:
        test = tuple(to_str(item) for item in test_value or ())
        if test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError(
                f'healthcheck test must start with CMD, CMD-SHELL or NONE: "{test[0]}"'
            )
    if test[:1] == ("NONE",):
        disable = True
    if disable:
        return Healthcheck(test=("NONE",), disable=True)

    def seconds(key: str) -> float | None:
        raw = value.get(key)
        return None if raw is None else parse_duration(raw)

    retries = value.get("retries")
    return Healthcheck(
        test=test,
        interval=seconds("interval"),
        timeout=seconds("timeout"),
        start_period=seconds("start_period"),
        start_interval=seconds("start_interval"),
        retries=None if retries is None else to_int(retries),
    )


def _string_map(value: Any) -> dict[str, str]:
    return {str(k): "" if v is None else to_str(v) for k, v in (value or {}).items()}


def _extra_hosts(value: Any) -> tuple[str, ...]:
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                pairs.append((str(host), to_str(ip)))
    else:
        for item in value:
            text = str(item)
            # `host=ip` is Compose's form; `host:ip` Docker's (an IPv6 ip has colons itself).
            host, sep, ip = text.partition("=") if "=" in text else text.partition(":")
            if not sep or not host or not ip:
                raise ValueError(f'invalid extra_hosts entry "{text}"; write HOST=IP')
            pairs.append((host, ip.strip("[]")))
    return tuple(f"{host}:{ip}" for host, ip in pairs)


def _ulimits(value: Mapping[str, Any]) -> tuple[Ulimit, ...]:
    out = []
    for name, limit in sorted(value.items()):
        if isinstance(limit, Mapping):
            soft, hard = to_int(limit["soft"]), to_int(limit["hard"])
        else:
            soft = hard = to_int(limit)
        if soft > hard:
            raise ValueError(f"ulimit {name}: soft limit {soft} exceeds hard limit {hard}")
        out.append(Ulimit(name, soft, hard))
    return tuple(out)


def _pull_policy(value: Any) -> PullPolicy:
    text = str(value)
    if text == "if_not_present":
        return PullPolicy.MISSING
    try:
        return PullPolicy(text)
    except ValueError:
        raise ValueError(
            f'invalid pull_policy "{text}"; use always, never, missing or build'
        ) from None


def _logging(value: Mapping[str, Any]) -> Logging:
    options = {str(k): to_str(v) for k, v in (value.get("options") or {}).items() if v is not None}
    return Logging(driver=value.get("driver"), options=frozen_map(options))


def _file_grant(prefix: str) -> Callable[[Any], list[ServiceFile]]:
    def grant(item: Any) -> list[ServiceFile]:
        if isinstance(item, str):
            return [ServiceFile(item, f"{prefix}{item}")]
        if item.get("source") is None:
            raise ValueError("a long-syntax grant needs source:; name the secret or config")
        source = str(item["source"])
        target = str(item.get("target") or source)
        if not target.startswith("/"):
            target = f"{prefix}{target}"
        mode = item.get("mode")
        return [
            ServiceFile(
                source=source,
                target=target,
                uid=None if item.get("uid") is None else str(item["uid"]),
                gid=None if item.get("gid") is None else str(item["gid"]),
                mode=None if mode is None else _file_mode(mode),
            )
        ]

    return grant


def _file_mode(value: Any) -> int:
    """A grant's `mode`: YAML reads `0440` as an octal number already; a string (quoted, or
    interpolated) is octal text too, as Compose reads it."""
    if isinstance(value, str):
        try:
            mode = int(value.strip(), 8)
        except ValueError:
            raise ValueError(f'mode "{value}" is not an octal number; write e.g. 0440') from None
    else:
        mode = to_int(value)
    if not 0 <= mode <= 0o7777:
        raise ValueError(f"mode {value} is out of range; write e.g. 0440")
    return mode


def read_service(name: str, tree: Tree, project_dir: str, lookup: Lookup) -> Service:
    """Normalise service `name` of the merged tree (paths resolved against `project_dir`)."""
    return ServiceReader(name, tree, project_dir, lookup).service()
