"""Variable substitution and word splitting as Docker's `shell.Lex` (moby/buildkit).

Supports `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
`${VAR:?msg}`, `${VAR?msg}`, single quotes (literal), double quotes, and the escape character.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.build.dockerfile.errors import LexError
from dockyard.build.dockerfile.words import is_space

_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_MAX_NESTING = 64  # `${A:-${B:-…}}` recurses; refuse absurd depths instead of overflowing


@dataclass
class _Words:
    """Accumulates the words of a line; text from expansions is split, quoted text is not."""

    words: list[str] = field(default_factory=list)
    word: list[str] = field(default_factory=list)
    in_word: bool = False

    def add_char(self, ch: str) -> None:
        if is_space(ch):
            if self.in_word and self.word:
                self.words.append("".join(self.word))
                self.word = []
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word.append(text)
        self.in_word = True

    def add_split(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def result(self) -> list[str]:
        if "".join(self.word):
            self.words.append("".join(self.word))
            self.word = []
        return self.words


@dataclass
class _Scanner:
    """One pass over one source string; holds the cursor (the Lex itself is immutable)."""

    lex: Lex
    src: str
    env: Mapping[str, str]
    pos: int = 0
    depth: int = 0

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch

    def process(self, stop: str = "") -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        escape = self.lex.escape
        while self.pos < len(self.src):
            ch = self.peek()
            if stop and ch == stop:
                self.pos += 1
                return "".join(result), words.result()
            if ch == "'":
                text = self.single_quote()
                result.append(text)
                words.add_raw(text)
            elif ch == '"':
                text = self.double_quote()
                result.append(text)
                words.add_raw(text)
            elif ch == "$":
                text = self.dollar()
                result.append(text)
                words.add_split(text)
            else:
                self.pos += 1
                if ch == escape:
                    nxt = self.next()
                    if not nxt:
                        if self.lex.raw_escapes:
                            result.append(ch)
                            words.add_raw(ch)
                        break
                    if self.lex.raw_escapes:
                        result.append(ch)
                        words.add_raw(ch)
                    result.append(nxt)
                    words.add_raw(nxt)
                else:
                    result.append(ch)
                    words.add_char(ch)
        if stop:
            raise LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def single_quote(self) -> str:
        # Nothing is special between single quotes, not even the escape character.
        self.pos += 1
        end = self.src.find("'", self.pos)
        if end < 0:
            raise LexError("unexpected end of statement while looking for matching single-quote")
        text = self.src[self.pos : end]
        self.pos = end + 1
        return f"'{text}'" if self.lex.raw_quotes else text

    def double_quote(self) -> str:
        self.pos += 1
        out: list[str] = []
        escape = self.lex.escape
        while True:
            ch = self.peek()
            if not ch:
                raise LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.pos += 1
                text = "".join(out)
                return f'"{text}"' if self.lex.raw_quotes else text
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == escape:
                nxt = self.peek()
                if not nxt:
                    continue  # an escape at the end of the word is dropped
                if nxt in ('"', "$", escape):
                    self.pos += 1
                    if self.lex.raw_escapes:
                        out.append(ch)
                    ch = nxt
            out.append(ch)

    def name(self) -> str:
        start = self.pos
        ch = self.peek()
        if ch.isdigit():
            while self.peek().isdigit():
                self.pos += 1
            return self.src[start : self.pos]
        if ch in _SPECIAL_PARAMS and ch:
            self.pos += 1
            return ch
        while (c := self.peek()) and (c.isalnum() or c == "_"):
            self.pos += 1
        return self.src[start : self.pos]

    def lookup(self, name: str) -> str | None:
        return self.env.get(name)

    def dollar(self) -> str:
        start = self.pos
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.lookup(name)
            if value is None:
                return self.src[start : self.pos] if self.lex.skip_unset else ""
            return value
        self.pos += 1
        ch = self.peek()
        if not ch:
            raise LexError("syntax error: missing '}'")
        if ch in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            value = self.lookup(name)
            if value is None:
                return self.src[start : self.pos] if self.lex.skip_unset else ""
            return value
        if not ch:
            raise LexError("syntax error: missing '}'")
        colon = ch == ":"
        modifier = self.next() if colon else ch
        if modifier not in ("-", "+", "?"):
            raise LexError(f"unsupported modifier ({modifier or 'EOF'}) in substitution")
        if self.depth >= _MAX_NESTING:
            raise LexError(f"substitutions nested deeper than {_MAX_NESTING}; simplify it")
        self.depth += 1
        try:
            word, _ = self.process(stop="}")
        except LexError:
            if not self.peek():
                raise LexError("syntax error: missing '}'") from None
            raise
        finally:
            self.depth -= 1
        value = self.lookup(name)
        unset = value is None or (colon and value == "")
        if self.lex.skip_unset and value is None:
            return self.src[start : self.pos]
        if modifier == "-":
            return word if unset else (value or "")
        if modifier == "+":
            return "" if unset else word
        if unset:
            raise LexError(f"{name}: {word or 'parameter null or not set'}")
        return value or ""


@dataclass(frozen=True)
class Lex:
    """A word processor: `escape` is the Dockerfile's escape character (backslash or backtick)."""

    escape: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_unset: bool = False

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """Substitute variables and remove quotes, keeping spaces: one word in, one out."""
        return _Scanner(self, word, env).process()[0]

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Substitute variables, then split into words on unquoted spaces."""
        return _Scanner(self, word, env).process()[1]
