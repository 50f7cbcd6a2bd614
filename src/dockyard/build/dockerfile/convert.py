"""Raw parse nodes → typed instructions, with the argument rules of each instruction.

Follows buildkit's `parser/line_parsers.go` (how each instruction splits its arguments) and
`instructions/parse.go` (what each accepts); errors are ValueErrors the parser locates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from dockyard.build.dockerfile.durations import parse_duration
from dockyard.build.dockerfile.flags import Flags
from dockyard.build.dockerfile.heredocs import is_heredoc
from dockyard.build.dockerfile.instructions import (
    Add,
    Arg,
    Cmd,
    CommandLine,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Heredoc,
    Instruction,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from dockyard.build.dockerfile.mounts import parse_mount
from dockyard.build.dockerfile.words import (
    is_space,
    parse_json_array,
    parse_words,
    split_whitespace,
    split_whitespace_once,
)

_STAGE_NAME = re.compile(r"[a-z][a-z0-9\-_.]*")
_MIN_DURATION_NS = 1_000_000  # Docker refuses healthcheck durations under 1ms
_NETWORKS = ("default", "none", "host")  # buildkit's RUN --network modes
_SECURITY = ("sandbox", "insecure")


@dataclass(frozen=True)
class Node:
    """One logical Dockerfile line: keyword, flags, the argument text, heredocs, location."""

    keyword: str
    flags: tuple[str, ...]
    rest: str
    start_line: int
    end_line: int
    escape: str = "\\"
    heredocs: tuple[Heredoc, ...] = ()
    sub: Node | None = None


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def _command(node: Node) -> CommandLine:
    args = parse_json_array(node.rest)
    if args is not None:
        return CommandLine(tuple(args), shell_form=False)
    return CommandLine((node.rest,) if node.rest else (), shell_form=True)


def _list(node: Node) -> tuple[tuple[str, ...], bool]:
    args = parse_json_array(node.rest)
    if args is not None:
        return tuple(args), True
    return tuple(split_whitespace(node.rest)), False


def _pairs(node: Node, kw: str) -> tuple[tuple[KeyValue, ...], bool]:
    words = parse_words(node.rest, node.escape)
    _need(bool(words), f"{kw} requires at least one argument")
    if "=" not in words[0]:
        parts = split_whitespace_once(node.rest)
        _need(len(parts) == 2, f"{kw} must have two arguments: {kw} NAME VALUE or {kw} NAME=VALUE")
        pairs: tuple[KeyValue, ...] = (KeyValue(parts[0], parts[1]),)
        legacy = True
    else:
        found = []
        for word in words:
            _need("=" in word, f"can't find = in {word!r}; {kw} takes NAME=VALUE pairs")
            key, _, value = word.partition("=")
            found.append(KeyValue(key, value))
        pairs, legacy = tuple(found), False
    _need(all(p.key for p in pairs), f"{kw} names can not be blank")
    return pairs, legacy


def _some(node: Node, kw: str) -> str:
    _need(node.rest != "", f"{kw} requires at least one argument")
    return node.rest


def _one(node: Node, kw: str) -> str:
    _need(node.rest != "", f"{kw} requires exactly one argument")
    return node.rest


def _from(node: Node, fl: Flags) -> From:
    args = split_whitespace(node.rest)
    name = None
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        _need(
            _STAGE_NAME.fullmatch(name) is not None,
            f"invalid stage name {args[2]!r}: start with a letter; use letters, digits, -_.",
        )
    else:
        _need(len(args) == 1, "FROM requires either one or three arguments: FROM IMAGE [AS NAME]")
    return From(image=args[0], name=name, platform=fl.string("platform"))


def _run(node: Node, fl: Flags) -> Run:
    _need(node.rest != "", "RUN requires at least one argument")
    network, security = fl.string("network"), fl.string("security")
    _need(
        network in (None, *_NETWORKS),
        f"RUN --network={network} is not supported; use one of {', '.join(_NETWORKS)}",
    )
    _need(
        security in (None, *_SECURITY),
        f"RUN --security={security} is not supported; use one of {', '.join(_SECURITY)}",
    )
    mounts = fl.strings("mount")
    for spec in mounts:
        if "$" not in spec:  # with variables it can only be checked when the step runs
            parse_mount(spec)
    return Run(
        command=_command(node),
        mounts=mounts,
        network=network,
        security=security,
        heredocs=node.heredocs,
    )


def _shell(node: Node, fl: Flags) -> Shell:
    args = parse_json_array(node.rest)
    _need(args is not None, 'SHELL requires the arguments in JSON form: SHELL ["sh", "-c"]')
    _need(bool(args), "SHELL requires at least one argument")
    return Shell(args=tuple(args or ()))


def _files(node: Node, kw: str) -> tuple[tuple[str, ...], str, bool]:
    args, json_form = _list(node)
    _need(len(args) >= 2, f"{kw} requires at least two arguments: {kw} SRC... DEST")
    dest = args[-1]
    _need(not is_heredoc(dest), f"{kw} does not support a heredoc as the destination")
    return args[:-1], dest, json_form


def _copy(node: Node, fl: Flags) -> Copy:
    sources, dest, json_form = _files(node, "COPY")
    return Copy(
        sources=sources,
        dest=dest,
        json_form=json_form,
        from_=fl.string("from"),
        chown=fl.string("chown"),
        chmod=fl.string("chmod"),
        link=fl.boolean("link"),
        excludes=fl.strings("exclude"),
        parents=fl.boolean("parents"),
        heredocs=node.heredocs,
    )


def _add(node: Node, fl: Flags) -> Add:
    sources, dest, json_form = _files(node, "ADD")
    return Add(
        sources=sources,
        dest=dest,
        json_form=json_form,
        chown=fl.string("chown"),
        chmod=fl.string("chmod"),
        link=fl.boolean("link"),
        excludes=fl.strings("exclude"),
        checksum=fl.string("checksum"),
        keep_git_dir=fl.boolean("keep-git-dir"),
        heredocs=node.heredocs,
    )


def _duration(fl: Flags, name: str) -> int | None:
    text = fl.string(name)
    if text is None:
        return None
    try:
        value = parse_duration(text)
    except ValueError:
        raise ValueError(f"--{name}={text} is not a duration; write e.g. 30s, 1m30s") from None
    _need(value >= _MIN_DURATION_NS, f"--{name} cannot be less than 1ms")
    return value


def _healthcheck(node: Node, fl: Flags) -> Healthcheck:
    rest = node.rest
    _need(rest != "", "HEALTHCHECK requires at least one argument: NONE or CMD command")
    sep = 0
    while sep < len(rest) and not is_space(rest[sep]):
        sep += 1
    kind, body = rest[:sep].upper(), rest[sep:]
    while body and is_space(body[0]):
        body = body[1:]
    if kind == "NONE":
        _need(body == "", "HEALTHCHECK NONE takes no arguments")
        fl.ignore_all()  # Docker ignores options given to HEALTHCHECK NONE
        return Healthcheck(command=None)
    _need(kind == "CMD", f"unknown type {rest[:sep]!r} in HEALTHCHECK; write HEALTHCHECK CMD …")
    sub = Node(node.keyword, (), body, node.start_line, node.end_line, node.escape)
    command = _command(sub)
    _need(bool(command.args), "missing command after HEALTHCHECK CMD")
    retries = fl.string("retries")
    count = None
    if retries is not None:
        _need(re.fullmatch(r"[+-]?[0-9]{1,10}", retries) is not None, "--retries takes a number")
        count = int(retries)
        _need(count >= 1, f"--retries must be at least 1 (not {count})")
    return Healthcheck(
        command=command,
        interval=_duration(fl, "interval"),
        timeout=_duration(fl, "timeout"),
        start_period=_duration(fl, "start-period"),
        start_interval=_duration(fl, "start-interval"),
        retries=count,
    )


def _arg(node: Node, fl: Flags) -> Arg:
    words = parse_words(node.rest, node.escape)
    _need(bool(words), "ARG requires at least one argument: ARG NAME[=DEFAULT]")
    args = []
    for word in words:
        key, sep, value = word.partition("=")
        _need(key != "", "ARG names can not be blank")
        args.append(KeyValue(key, value if sep else None))
    return Arg(args=tuple(args))


def _onbuild(node: Node, fl: Flags) -> Onbuild:
    _need(node.sub is not None, "ONBUILD requires at least one argument")
    assert node.sub is not None
    inner = node.sub.keyword.upper()
    _need(inner != "ONBUILD", "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    _need(inner not in ("FROM", "MAINTAINER"), f"{inner} isn't allowed as an ONBUILD trigger")
    sub = Node(
        node.sub.keyword,
        node.sub.flags,
        node.sub.rest,
        node.start_line,
        node.end_line,
        node.escape,
        node.heredocs,
    )
    return Onbuild(instruction=to_instruction(sub))


def _env(node: Node) -> Env:
    pairs, legacy = _pairs(node, "ENV")
    return Env(pairs=pairs, legacy=legacy)


def _label(node: Node) -> Label:
    pairs, legacy = _pairs(node, "LABEL")
    return Label(pairs=pairs, legacy=legacy)


def _volume(node: Node) -> Volume:
    paths, json_form = _list(node)
    _need(bool(paths), "VOLUME requires at least one argument")
    _need(all(paths), "VOLUME specified can not be an empty string")
    return Volume(paths=paths, json_form=json_form)


def _simple(make: Callable[[Node], Instruction]) -> Callable[[Node, Flags], Instruction]:
    return lambda node, _fl: make(node)


_BUILDERS: Mapping[str, Callable[[Node, Flags], Instruction]] = MappingProxyType(
    {
        "from": _from,
        "run": _run,
        "cmd": _simple(lambda n: Cmd(command=_command(n))),
        "entrypoint": _simple(lambda n: Entrypoint(command=_command(n))),
        "shell": _shell,
        "env": _simple(_env),
        "label": _simple(_label),
        "arg": _arg,
        "expose": _simple(lambda n: Expose(ports=tuple(split_whitespace(_some(n, "EXPOSE"))))),
        "volume": _simple(_volume),
        "workdir": _simple(lambda n: Workdir(path=_one(n, "WORKDIR"))),
        "user": _simple(lambda n: User(user=_one(n, "USER"))),
        "stopsignal": _simple(lambda n: StopSignal(signal=_one(n, "STOPSIGNAL"))),
        "maintainer": _simple(lambda n: Maintainer(name=_one(n, "MAINTAINER"))),
        "copy": _copy,
        "add": _add,
        "healthcheck": _healthcheck,
        "onbuild": _onbuild,
    }
)


def to_instruction(node: Node) -> Instruction:
    """The typed instruction for `node`; raises ValueError (unlocated) when it is invalid."""
    build = _BUILDERS.get(node.keyword.lower())
    if build is None:
        known = ", ".join(sorted(k.upper() for k in _BUILDERS))
        raise ValueError(f"unknown instruction: {node.keyword}; known are {known}")
    flags = Flags(node.keyword.upper(), node.flags)
    instruction = build(node, flags)
    flags.check()
    return _located(instruction, node)


def _located(instruction: Instruction, node: Node) -> Instruction:
    return replace(instruction, start_line=node.start_line, end_line=node.end_line)
