""".dockerignore rules as Docker's (moby/patternmatcher and its ignorefile reader).

Patterns are matched against slash-separated paths relative to the context root. A path is
excluded when the last rule that matches it, or one of its parent directories, is not a `!`
exception. `**` matches any number of directories, `*` and `?` never match `/`.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dockyard.errors import InvalidArgument, NotFound


class _Kind(Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    REGEXP = "regexp"


def _bad(pattern: str) -> InvalidArgument:
    return InvalidArgument(f".dockerignore: syntax error in pattern {pattern!r}; fix or remove it")


def _class_end(pattern: str, start: int) -> int:
    """Index just past the `[...]` class at `start`; raises for a malformed one (Go's rules)."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    ranges = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges > 0:
            return i + 1
        low, i = _class_char(pattern, i)
        if i < len(pattern) and pattern[i] == "-":
            high, i = _class_char(pattern, i + 1)
            if high < low:
                raise _bad(pattern)  # Go's regexp refuses a reversed range
        ranges += 1


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise _bad(pattern)
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise _bad(pattern)
    if i + 1 >= len(pattern):
        raise _bad(pattern)
    return pattern[i], i + 1


def _class_regex(body: str) -> str:
    out = ["["]
    i = 0
    if body.startswith("^"):
        out.append("^")
        i = 1
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 1
            out.append(re.escape(body[i]))
        elif ch == "-":
            out.append("-")
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out) + "]"


def _compile(pattern: str) -> tuple[_Kind, re.Pattern[str] | None]:
    """Translate a cleaned pattern as patternmatcher's compile() does."""
    parts: list[str] = []
    kind = _Kind.EXACT
    i = 0
    first = True
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*" and pattern.startswith("**", i):
            i += 2
            if i < len(pattern) and pattern[i] == "/":
                i += 1  # `**/` is the same as `**`
            if i >= len(pattern):
                if kind is _Kind.EXACT:
                    kind = _Kind.PREFIX
                else:
                    parts.append(".*")
                    kind = _Kind.REGEXP
            else:
                parts.append("(.*/)?")
                kind = _Kind.REGEXP
            if first:
                kind = _Kind.SUFFIX
        elif ch == "*":
            parts.append("[^/]*")
            kind = _Kind.REGEXP
            i += 1
        elif ch == "?":
            parts.append("[^/]")
            kind = _Kind.REGEXP
            i += 1
        elif ch == "\\":
            if i + 1 >= len(pattern):
                raise _bad(pattern)
            parts.append(re.escape(pattern[i + 1]))
            kind = _Kind.REGEXP
            i += 2
        elif ch == "[":
            end = _class_end(pattern, i)
            parts.append(_class_regex(pattern[i + 1 : end - 1]))
            kind = _Kind.REGEXP
            i = end
        else:
            parts.append(re.escape(ch))
            i += 1
        first = False
    if kind is _Kind.REGEXP:
        # `\Z`, not `$`: Go's `$` does not match before a trailing newline as Python's does.
        return kind, re.compile("".join(parts) + r"\Z")
    return kind, None


def _clean(path: str) -> str:
    cleaned = posixpath.normpath(path) if path else "."
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")  # Go's Clean also folds a leading "//"
    return cleaned


@dataclass(frozen=True)
class IgnoreRule:
    """One cleaned pattern; `exception` is True for `!pattern` (re-include)."""

    pattern: str
    exception: bool
    kind: _Kind
    regex: re.Pattern[str] | None

    @classmethod
    def parse(cls, text: str) -> IgnoreRule | None:
        """The rule for one pattern line, or None for a blank one; raises for bad syntax."""
        text = _clean(text.strip()) if text.strip() else ""
        if not text:
            return None
        exception = text.startswith("!")
        if exception:
            text = text[1:]
            if not text:
                raise InvalidArgument('.dockerignore: illegal exception pattern "!"; remove it')
        kind, regex = _compile(text)
        return cls(text, exception, kind, regex)

    def matches(self, path: str) -> bool:
        """Whether the pattern matches `path` itself (no parent logic)."""
        if self.kind is _Kind.EXACT:
            return path == self.pattern
        if self.kind is _Kind.PREFIX:
            return path.startswith(self.pattern[:-2])
        if self.kind is _Kind.SUFFIX:
            suffix = self.pattern[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None

    def may_match_below(self, directory: str) -> bool:
        """Whether this pattern could match some path strictly inside `directory`."""
        if "**" in self.pattern or "\\" in self.pattern:
            return True  # conservatively: these can span any depth
        want = self.pattern.split("/")
        have = directory.split("/")
        if len(want) <= len(have):
            return False
        return all(_component(w).match(h) is not None for w, h in zip(want, have, strict=False))


def _component(pattern: str) -> re.Pattern[str]:
    regex = _compile(pattern)[1]
    if regex is None:
        return re.compile(re.escape(pattern) + r"\Z")
    return regex


@dataclass(frozen=True)
class Matcher:
    """An ordered list of rules; the last rule matching a path or a parent decides."""

    rules: tuple[IgnoreRule, ...] = ()

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> Matcher:
        """Compile patterns (as read by read_dockerignore); raises InvalidArgument."""
        rules = (IgnoreRule.parse(p) for p in patterns)
        return cls(tuple(r for r in rules if r is not None))

    @property
    def has_exceptions(self) -> bool:
        """Whether any rule is a `!` exception."""
        return any(r.exception for r in self.rules)

    def excludes(self, path: str) -> bool:
        """Whether `path` (slash-separated, relative) is excluded from the context."""
        path = _clean(path)
        if path == ".":
            return False  # the context root itself is never excluded
        parents = path.split("/")[:-1]
        prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        return self.decide(path, [any(r.matches(p) for p in prefixes) for r in self.rules])[0]

    def decide(self, path: str, parent: list[bool], is_dir: bool = True) -> tuple[bool, list[bool]]:
        """Whether `path` is excluded, given which rules matched its parent directory.

        Also returns which rules match `path` or a parent, for its children. A rule that
        cannot change the outcome is skipped, but not for a directory: patternmatcher's
        MatchesUsingParentResults skips it there too and so wrongly excludes `a/b` under
        `a/b` then `!a`, which MatchesOrParentMatches (and `excludes`) re-include.
        """
        excluded = False
        state = []
        for rule, parent_hit in zip(self.rules, parent, strict=True):
            hit = parent_hit
            if not hit and (is_dir or rule.exception == excluded):
                hit = rule.matches(path)
            state.append(hit)
            if hit:
                excluded = not rule.exception
        return excluded, state

    def may_reinclude_below(self, directory: str) -> bool:
        """Whether an exception could re-include something inside an excluded `directory`."""
        return any(r.exception and r.may_match_below(directory) for r in self.rules)


def parse_dockerignore(text: str) -> list[str]:
    """The patterns of a .dockerignore file: comments and blanks dropped, paths cleaned."""
    patterns = []
    for line in text.removeprefix("\ufeff").split("\n"):
        if line.startswith("#"):
            continue
        pattern = line.removesuffix("\r").strip()
        if not pattern:
            continue
        exception = pattern.startswith("!")
        if exception:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = _clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]  # "/foo" means "foo" at the context root
        patterns.append("!" + pattern if exception else pattern)
    return patterns


def read_dockerignore(context: Path) -> list[str]:
    """The patterns of `context/.dockerignore`, or none when it does not exist."""
    try:
        text = (context / ".dockerignore").read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return parse_dockerignore(text)


def walk_context(
    root: Path, patterns: Iterable[str] | Matcher, dockerfile: str = "Dockerfile"
) -> Iterator[str]:
    """Relative slash paths of the files, links and directories sent to the build, sorted.

    Excluded directories are not descended into unless an exception may re-include something
    below them; then the directories leading to a re-included entry are yielded before it.
    `.dockerignore` and the Dockerfile are always sent, as Docker's client does.
    """
    if not root.is_dir():
        raise NotFound(f"build context {root}: no such directory; pass an existing directory")
    matcher = patterns if isinstance(patterns, Matcher) else Matcher.from_patterns(patterns)
    extra = [
        f"!{_literal(p)}" for p in (".dockerignore", _clean(dockerfile)) if matcher.excludes(p)
    ]
    if extra:
        matcher = Matcher(matcher.rules + Matcher.from_patterns(extra).rules)
    yield from _walk(root, matcher)


def _literal(path: str) -> str:
    """A pattern matching exactly `path`, even if it holds `*`, `?`, `[` or `\\`."""
    return re.sub(r"([*?\[\\])", r"\\\1", path)


def _walk(
    root: Path, matcher: Matcher, rel: str = "", state: list[bool] | None = None
) -> Iterator[str]:
    # Depth-first, each directory before its contents; `state` carries which rules matched
    # a parent so each rule is tried once per path (patternmatcher's MatchesUsingParentResults).
    parent = state if state is not None else [False] * len(matcher.rules)
    try:
        with os.scandir(root / rel if rel else root) as it:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
    except FileNotFoundError:
        return  # removed while walking
    except PermissionError:
        where = root / rel if rel else root
        raise InvalidArgument(
            f"build context: cannot read {where}: permission denied; fix it or .dockerignore it"
        ) from None
    for name, is_dir in entries:
        path = f"{rel}/{name}" if rel else name
        excluded, child = matcher.decide(path, parent, is_dir)
        if not excluded:
            yield path
            if is_dir:
                yield from _walk(root, matcher, path, child)
        elif is_dir and matcher.may_reinclude_below(path):
            inside = _walk(root, matcher, path, child)
            first = next(inside, None)
            if first is not None:
                yield path  # the directory is sent because something in it is re-included
                yield first
                yield from inside
