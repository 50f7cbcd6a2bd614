"""Typed Dockerfile instructions, one frozen dataclass each, with a canonical `to_source()`.

Values are kept as written (quotes, escapes and `$VAR` intact) because Docker substitutes
variables only when a stage runs, with the ARG/ENV values of that moment; see `expand.py`.
Line numbers do not take part in equality, so a formatted and re-parsed file compares equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

from dockyard.build.dockerfile.durations import format_duration
from dockyard.build.dockerfile.words import parse_json_array, quote_flag


@dataclass(frozen=True)
class Heredoc:
    """A here-document: `<<[-]NAME` on the instruction line and the lines up to NAME."""

    name: str
    content: str = ""
    expand: bool = True  # False when the delimiter was quoted: no substitution in content
    chomp: bool = False  # `<<-`: leading tabs are stripped from every content line
    fd: int = 0  # `3<<EOF` feeds file descriptor 3; 0 means the default (stdin)

    @property
    def text(self) -> str:
        """The content as delivered: leading tabs removed for `<<-`."""
        if not self.chomp:
            return self.content
        return "".join(line.lstrip("\t") for line in self.content.splitlines(keepends=True))

    def to_source(self) -> str:
        """The heredoc body and its terminator line."""
        return f"{self.content}{self.name}\n"


@dataclass(frozen=True)
class CommandLine:
    """A command in shell form (`args` is one string run by SHELL) or exec (JSON) form."""

    args: tuple[str, ...]
    shell_form: bool = True

    def to_source(self) -> str:
        """The command as written after the keyword."""
        if self.shell_form:
            return " ".join(self.args)
        return _json(self.args)


@dataclass(frozen=True)
class KeyValue:
    """One `key=value` of ENV or LABEL, or one `name[=default]` of ARG (value None: no default)."""

    key: str
    value: str | None


@dataclass(frozen=True, kw_only=True)
class Instruction:
    """Base of every instruction; `start_line`/`end_line` are 1-based and inclusive."""

    keyword: ClassVar[str] = ""
    start_line: int = field(default=0, compare=False)
    end_line: int = field(default=0, compare=False)

    def to_source(self) -> str:
        """Canonical Dockerfile text for this instruction (with heredoc bodies, newline-ended)."""
        flags, rest, heredocs = self._parts()
        return _line(self.keyword, flags, rest) + "".join(h.to_source() for h in heredocs)

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class From(Instruction):
    """`FROM [--platform=P] IMAGE [AS NAME]`; NAME is lower-cased as Docker does."""

    keyword: ClassVar[str] = "FROM"
    image: str
    name: str | None = None
    platform: str | None = None

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        flags = _opt("platform", self.platform)
        rest = self.image if self.name is None else f"{self.image} AS {self.name}"
        return flags, rest, ()


@dataclass(frozen=True, kw_only=True)
class Run(Instruction):
    """`RUN [--mount=…]… [--network=…] [--security=…] COMMAND` with optional heredocs."""

    keyword: ClassVar[str] = "RUN"
    command: CommandLine
    mounts: tuple[str, ...] = ()
    network: str | None = None
    security: str | None = None
    heredocs: tuple[Heredoc, ...] = ()

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        flags = [f"--mount={m}" for m in self.mounts]
        flags += _opt("network", self.network) + _opt("security", self.security)
        return flags, self.command.to_source(), self.heredocs


@dataclass(frozen=True, kw_only=True)
class Cmd(Instruction):
    """`CMD` in shell or exec form: the default command of the image."""

    keyword: ClassVar[str] = "CMD"
    command: CommandLine

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], self.command.to_source(), ()


@dataclass(frozen=True, kw_only=True)
class Entrypoint(Instruction):
    """`ENTRYPOINT` in shell or exec form."""

    keyword: ClassVar[str] = "ENTRYPOINT"
    command: CommandLine

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], self.command.to_source(), ()


@dataclass(frozen=True, kw_only=True)
class Shell(Instruction):
    """`SHELL ["executable", "parameters"]`: the shell for later shell-form commands."""

    keyword: ClassVar[str] = "SHELL"
    args: tuple[str, ...]

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], _json(self.args), ()


@dataclass(frozen=True, kw_only=True)
class Env(Instruction):
    """`ENV k=v …`, or the legacy one-pair form `ENV k v` (`legacy`)."""

    keyword: ClassVar[str] = "ENV"
    pairs: tuple[KeyValue, ...]
    legacy: bool = False

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], _pairs(self.pairs, self.legacy), ()


@dataclass(frozen=True, kw_only=True)
class Label(Instruction):
    """`LABEL k=v …`, or the legacy one-pair form `LABEL k v` (`legacy`)."""

    keyword: ClassVar[str] = "LABEL"
    pairs: tuple[KeyValue, ...]
    legacy: bool = False

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], _pairs(self.pairs, self.legacy), ()


@dataclass(frozen=True, kw_only=True)
class Arg(Instruction):
    """`ARG name[=default] …`: build arguments (global before the first FROM)."""

    keyword: ClassVar[str] = "ARG"
    args: tuple[KeyValue, ...]

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        words = [a.key if a.value is None else f"{a.key}={a.value}" for a in self.args]
        return [], " ".join(words), ()


@dataclass(frozen=True, kw_only=True)
class Expose(Instruction):
    """`EXPOSE port[/proto] …`."""

    keyword: ClassVar[str] = "EXPOSE"
    ports: tuple[str, ...]

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], " ".join(self.ports), ()


@dataclass(frozen=True, kw_only=True)
class Volume(Instruction):
    """`VOLUME path …` or `VOLUME ["path", …]`."""

    keyword: ClassVar[str] = "VOLUME"
    paths: tuple[str, ...]
    json_form: bool = False

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], _list(self.paths, self.json_form), ()


@dataclass(frozen=True, kw_only=True)
class Workdir(Instruction):
    """`WORKDIR path`."""

    keyword: ClassVar[str] = "WORKDIR"
    path: str

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], self.path, ()


@dataclass(frozen=True, kw_only=True)
class User(Instruction):
    """`USER user[:group]`."""

    keyword: ClassVar[str] = "USER"
    user: str

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], self.user, ()


@dataclass(frozen=True, kw_only=True)
class StopSignal(Instruction):
    """`STOPSIGNAL signal` (a name like SIGTERM or a number)."""

    keyword: ClassVar[str] = "STOPSIGNAL"
    signal: str

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], self.signal, ()


@dataclass(frozen=True, kw_only=True)
class Maintainer(Instruction):
    """`MAINTAINER name` (deprecated: use `LABEL maintainer=…`)."""

    keyword: ClassVar[str] = "MAINTAINER"
    name: str

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        return [], self.name, ()


@dataclass(frozen=True, kw_only=True)
class Copy(Instruction):
    """`COPY [--from] [--chown] [--chmod] [--link] [--exclude]… [--parents] SRC… DEST`.

    A source written `<<NAME` refers to the heredoc NAME in `heredocs` (inline file content).
    """

    keyword: ClassVar[str] = "COPY"
    sources: tuple[str, ...]
    dest: str
    json_form: bool = False
    from_: str | None = None
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    excludes: tuple[str, ...] = ()
    parents: bool = False
    heredocs: tuple[Heredoc, ...] = ()

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        flags = _opt("from", self.from_) + _copy_flags(self)
        flags += ["--parents"] if self.parents else []
        return flags, _list((*self.sources, self.dest), self.json_form), self.heredocs


@dataclass(frozen=True, kw_only=True)
class Add(Instruction):
    """`ADD [--chown] [--chmod] [--link] [--exclude]… [--checksum] [--keep-git-dir] SRC… DEST`."""

    keyword: ClassVar[str] = "ADD"
    sources: tuple[str, ...]
    dest: str
    json_form: bool = False
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    excludes: tuple[str, ...] = ()
    checksum: str | None = None
    keep_git_dir: bool = False
    heredocs: tuple[Heredoc, ...] = ()

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        flags = _copy_flags(self) + _opt("checksum", self.checksum)
        flags += ["--keep-git-dir"] if self.keep_git_dir else []
        return flags, _list((*self.sources, self.dest), self.json_form), self.heredocs


@dataclass(frozen=True, kw_only=True)
class Healthcheck(Instruction):
    """`HEALTHCHECK NONE` (command None) or `HEALTHCHECK [options] CMD command`.

    Durations are in nanoseconds as in the image config; None means "not given".
    """

    keyword: ClassVar[str] = "HEALTHCHECK"
    command: CommandLine | None
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None

    @property
    def test(self) -> tuple[str, ...]:
        """The image config's `Healthcheck.Test` list."""
        if self.command is None:
            return ("NONE",)
        kind = "CMD-SHELL" if self.command.shell_form else "CMD"
        return (kind, *self.command.args)

    def _parts(self) -> tuple[list[str], str, tuple[Heredoc, ...]]:
        if self.command is None:
            return [], "NONE", ()
        flags: list[str] = []
        for name, value in (
            ("interval", self.interval),
            ("timeout", self.timeout),
            ("start-period", self.start_period),
            ("start-interval", self.start_interval),
        ):
            if value is not None:
                flags.append(f"--{name}={format_duration(value)}")
        if self.retries is not None:
            flags.append(f"--retries={self.retries}")
        return flags, f"CMD {self.command.to_source()}", ()


@dataclass(frozen=True, kw_only=True)
class Onbuild(Instruction):
    """`ONBUILD INSTRUCTION`: a trigger run when the image is used as a base."""

    keyword: ClassVar[str] = "ONBUILD"
    instruction: Instruction

    def to_source(self) -> str:
        """`ONBUILD` followed by the trigger's own canonical text."""
        return f"ONBUILD {self.instruction.to_source()}"


def _line(keyword: str, flags: list[str], rest: str) -> str:
    parts = [keyword, *(quote_flag(f) for f in flags)]
    if rest.startswith("--"):
        parts.append("--")  # a bare `--` ends the flags, so the argument is not taken for one
    if rest:
        parts.append(rest)
    return " ".join(parts) + "\n"


def _opt(name: str, value: str | None) -> list[str]:
    return [] if value is None else [f"--{name}={value}"]


def _copy_flags(instr: Copy | Add) -> list[str]:
    flags = _opt("chown", instr.chown) + _opt("chmod", instr.chmod)
    flags += ["--link"] if instr.link else []
    return flags + [f"--exclude={e}" for e in instr.excludes]


def _json(args: tuple[str, ...]) -> str:
    return json.dumps(list(args), ensure_ascii=False)


def _list(words: tuple[str, ...], json_form: bool) -> str:
    if json_form:
        return _json(words)
    joined = " ".join(words)
    try:
        is_json = parse_json_array(joined) is not None
    except ValueError:
        is_json = True
    # Words split from text that was not JSON can, joined by one space, happen to spell a
    # JSON array (a raw tab inside quotes, a vertical tab between items). A vertical tab is
    # a separator to the parser but never valid JSON, so it keeps the list a list.
    return "\v".join(words) if is_json else joined


def _pairs(pairs: tuple[KeyValue, ...], legacy: bool) -> str:
    if legacy:
        (pair,) = pairs
        return f"{pair.key} {pair.value}"
    return " ".join(f"{p.key}={p.value}" for p in pairs)
