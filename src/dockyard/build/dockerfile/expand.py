"""Variable substitution in the instructions where Docker allows it.

Docker substitutes in ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR (and
ONBUILD triggers, but only when they fire in a child build); RUN, CMD, ENTRYPOINT, SHELL and
HEALTHCHECK are left to the shell. Only EXPOSE splits a substituted value into several words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from dockyard.build.dockerfile.errors import DockerfileError, LexError
from dockyard.build.dockerfile.heredocs import is_heredoc
from dockyard.build.dockerfile.instructions import (
    Add,
    Arg,
    Copy,
    Env,
    Expose,
    From,
    Instruction,
    KeyValue,
    Label,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from dockyard.build.dockerfile.shellwords import Lex


def expand(
    instr: Instruction, env: Mapping[str, str], *, escape: str = "\\", name: str = "Dockerfile"
) -> Instruction:
    """`instr` with `$VAR` substituted from `env` and quotes removed where Docker does so.

    Instructions Docker does not substitute in are returned unchanged. Raises DockerfileError
    (naming the file and line) for a bad substitution such as `${A` or `${A:?unset}`.
    """
    lex = Lex(escape=escape)

    def word(text: str) -> str:
        return lex.process_word(text, env)

    def opt(text: str | None) -> str | None:
        return None if text is None else word(text)

    def pairs(items: tuple[KeyValue, ...]) -> tuple[KeyValue, ...]:
        return tuple(KeyValue(word(p.key), opt(p.value)) for p in items)

    try:
        match instr:
            case Env() | Label():
                return replace(instr, pairs=pairs(instr.pairs))
            case Arg():
                return replace(instr, args=pairs(instr.args))
            case Expose():
                ports = tuple(w for p in instr.ports for w in lex.process_words(p, env))
                return replace(instr, ports=ports)
            case Volume():
                return replace(instr, paths=tuple(word(p) for p in instr.paths))
            case Workdir():
                return replace(instr, path=word(instr.path))
            case User():
                return replace(instr, user=word(instr.user))
            case StopSignal():
                return replace(instr, signal=word(instr.signal))
            case From():
                return replace(instr, image=word(instr.image), platform=opt(instr.platform))
            case Copy():
                return replace(
                    instr,
                    sources=tuple(s if is_heredoc(s) else word(s) for s in instr.sources),
                    dest=word(instr.dest),
                    from_=opt(instr.from_),
                    chown=opt(instr.chown),
                    chmod=opt(instr.chmod),
                    excludes=tuple(word(e) for e in instr.excludes),
                )
            case Add():
                return replace(
                    instr,
                    sources=tuple(s if is_heredoc(s) else word(s) for s in instr.sources),
                    dest=word(instr.dest),
                    chown=opt(instr.chown),
                    chmod=opt(instr.chmod),
                    excludes=tuple(word(e) for e in instr.excludes),
                    checksum=opt(instr.checksum),
                )
            case _:
                return instr
    except LexError as err:
        raise DockerfileError(str(err), file=name, line=instr.start_line) from None
