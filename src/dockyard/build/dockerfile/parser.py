"""Dockerfile text → `Dockerfile` of typed instructions, as Docker's reference parser.

Handles parser directives (`# syntax=`, `# escape=`), line continuations with the escape
character, comments (also inside continuations), empty continuation lines, and heredocs;
ported from moby/buildkit `frontend/dockerfile/parser/parser.go`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from dockyard.build.dockerfile.convert import Node, to_instruction
from dockyard.build.dockerfile.errors import DockerfileError, LexError
from dockyard.build.dockerfile.heredocs import heredoc_from_word
from dockyard.build.dockerfile.instructions import Heredoc, Instruction
from dockyard.build.dockerfile.shellwords import Lex
from dockyard.build.dockerfile.words import (
    NotStringArray,
    extract_flags,
    parse_json_array,
    trim_left_space,
    trim_space,
)

# Go's `\s` is ASCII [\t\n\f\r ]; Python's would match any Unicode space.
_DIRECTIVE = re.compile(
    r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*"
)
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_COMMAND_SPLIT = re.compile(r"[\t\v\f\r ]+")
_HEREDOC_COMMANDS = ("run", "copy", "add")


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile: its directives and instructions, in order."""

    instructions: tuple[Instruction, ...]
    escape: str = "\\"
    syntax: str | None = None
    name: str = field(default="Dockerfile", compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def to_source(self) -> str:
        """Canonical text: parse(d.to_source()) == d for every parsed `d`."""
        head = ""
        if self.syntax is not None:
            head += f"# syntax={self.syntax}\n"
        if self.escape != "\\":
            head += f"# escape={self.escape}\n"
        if head:
            head += "\n"  # a blank line ends the directives before any instruction
        cont = _Directives(escape=self.escape).continuation()
        return head + "".join(_no_continuation(i.to_source(), cont) for i in self.instructions)


def _no_continuation(text: str, cont: re.Pattern[str]) -> str:
    first, newline, after = text.partition("\n")
    if cont.search(first):
        # The value ended in the escape char followed by a blank Docker trims but that does not
        # continue a line (e.g. "\v"); keep such a blank so the line still does not continue.
        first += "\v"
    return first + newline + after


@dataclass
class _Directives:
    """Parser-directive state while reading the head of the file."""

    escape: str = "\\"
    syntax: str | None = None
    done: bool = False
    seen: set[str] = field(default_factory=set)

    def check(self, line: str) -> None:
        if self.done:
            return
        match = _DIRECTIVE.fullmatch(line)
        key = match.group(1).lower() if match else ""
        if match is None or key not in _KNOWN_DIRECTIVES:
            self.done = True
            return
        if key in self.seen:
            raise ValueError(f"only one {key} parser directive can be used; remove the others")
        self.seen.add(key)
        value = match.group(2)
        if key == "escape":
            if value not in ("\\", "`"):
                raise ValueError(f"invalid escape token {value!r}: use ` or \\")
            self.escape = value
        elif key == "syntax":
            self.syntax = value

    def continuation(self) -> re.Pattern[str]:
        e = re.escape(self.escape)
        # The escape char as the last non-blank char continues the line, unless it is itself
        # escaped (buildkit's lineContinuationRegex; `\Z` because Python's `$` allows a `\n`).
        return re.compile(rf"([^{e}]){e}[ \t]*\Z|\A{e}[ \t]*\Z")


def _lines(text: str) -> list[str]:
    # Only "\n" ends a line, as Go's scanner; str.splitlines would also split on "\r", "\x0b"...
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _is_comment(raw: str) -> bool:
    return trim_left_space(raw.rstrip("\r\n")).startswith("#")


def _process(d: _Directives, raw: str, strip_left: bool) -> str:
    token = raw.rstrip("\r\n")
    if strip_left:
        token = trim_left_space(token)
    d.check(token)
    return "" if token.startswith("#") else token


def _node(line: str, escape: str, start: int, end: int, nested: bool = False) -> Node | None:
    parts = _COMMAND_SPLIT.split(trim_space(line), maxsplit=1)
    if parts[0] == "":
        return None
    flags: list[str] = []
    rest = ""
    if len(parts) == 2:
        rest, flags = extract_flags(parts[1])
    rest = trim_space(rest)
    # Only one level: `ONBUILD ONBUILD …` is refused later, and must not recurse without end.
    is_onbuild = parts[0].lower() == "onbuild" and rest != "" and not nested
    sub = _node(rest, escape, start, end, nested=True) if is_onbuild else None
    return Node(parts[0], tuple(flags), rest, start, end, escape, (), sub)


def _takes_heredocs(node: Node) -> bool:
    if node.keyword.lower() == "onbuild" and node.sub is not None:
        node = node.sub
    if node.keyword.lower() not in _HEREDOC_COMMANDS:
        return False
    try:
        return parse_json_array(node.rest) is None
    except NotStringArray:
        return False


def _heredocs_in(line: str) -> list[Heredoc]:
    lex = Lex(raw_quotes=True, raw_escapes=True, skip_unset=True)
    try:
        words = lex.process_words(line, {})
    except LexError:
        words = []
    return [h for h in (heredoc_from_word(w) for w in words) if h is not None]


@dataclass
class _Reader:
    """Cursor over the physical lines; `line` is the 1-based number of the last line read."""

    lines: list[str]
    index: int = 0
    line: int = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.index >= len(self.lines):
            raise StopIteration
        raw = self.lines[self.index]
        self.index += 1
        self.line += 1
        return raw


def _fail(err: Exception, name: str, line: int) -> DockerfileError:
    return DockerfileError(str(err), file=name, line=line)


def parse(text: str, name: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile `text`; `name` appears in errors. Raises DockerfileError."""
    d = _Directives()
    reader = _Reader(_lines(text.removeprefix("\ufeff")))
    instructions: list[Instruction] = []
    warnings: list[str] = []
    for raw in reader:
        start = reader.line  # the iterator has just read line `start`
        try:
            instruction = _instruction(raw, d, reader, name, warnings)
        except DockerfileError:
            raise
        except (ValueError, LexError) as err:
            raise _fail(err, name, start) from None
        if instruction is not None:
            instructions.append(instruction)
    if not instructions:
        raise DockerfileError("file with no instructions", file=name, line=reader.line)
    return Dockerfile(tuple(instructions), d.escape, d.syntax, name, tuple(warnings))


def _instruction(
    raw: str, d: _Directives, reader: _Reader, name: str, warnings: list[str]
) -> Instruction | None:
    """The instruction starting at physical line `raw` (None for a blank or comment line)."""
    processed = _process(d, raw, strip_left=True)
    start = reader.line
    cont = d.continuation()
    line, n = cont.subn(r"\1", processed, count=1)
    if n == 0 and line == "":
        return None
    empty_continuation = False
    while n:
        try:
            more = next(reader)
        except StopIteration:
            break
        processed = _process(d, more, strip_left=False)
        if _is_comment(more):
            continue
        if trim_left_space(processed) == "":
            empty_continuation = True
            continue
        part, n = cont.subn(r"\1", processed, count=1)
        line += part
    if empty_continuation:
        warnings.append(f"{name}:{start}: empty continuation line (will be an error)")
    node = _node(line, d.escape, start, reader.line)
    if node is None:
        return None
    if _takes_heredocs(node):
        node = _read_heredocs(node, line, reader, name)
    return to_instruction(replace(node, end_line=reader.line))


def _read_heredocs(node: Node, line: str, reader: _Reader, name: str) -> Node:
    docs = []
    for doc in _heredocs_in(line):
        content: list[str] = []
        for raw in reader:
            candidate = raw.rstrip("\r\n")
            if doc.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == doc.name:
                break
            content.append(raw)
        else:
            raise DockerfileError(
                f"unterminated heredoc <<{doc.name}: end it with a line holding only {doc.name}",
                file=name,
                line=node.start_line,
            )
        docs.append(replace(doc, content="".join(content)))
    return replace(node, heredocs=tuple(docs))


def parse_file(path: Path) -> Dockerfile:
    """Read and parse the Dockerfile at `path` (UTF-8)."""
    try:
        # Bytes, not read_text: universal newlines would turn a lone "\r" into a line break.
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DockerfileError(
            "no such file; pass -f PATH to name the Dockerfile", file=str(path)
        ) from None
    except IsADirectoryError:
        raise DockerfileError("is a directory; pass -f PATH/Dockerfile", file=str(path)) from None
    except PermissionError:
        raise DockerfileError("permission denied; make it readable", file=str(path)) from None
    except UnicodeDecodeError as err:
        raise DockerfileError(
            f"not UTF-8 ({err.reason}); save it as UTF-8", file=str(path)
        ) from None
    return parse(text, name=str(path))
