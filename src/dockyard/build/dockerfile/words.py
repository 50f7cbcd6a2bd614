"""Word-level helpers shared by the parser: Go's notion of space, flags, JSON arrays, words.

These follow moby/buildkit's `frontend/dockerfile/parser` (line_parsers.go, split_command.go)
closely, because what counts as one word decides what a Dockerfile means.
"""

from __future__ import annotations

import json
import re

# Go's unicode.IsSpace; Python's str.isspace also counts U+001C..U+001F, Go does not.
_NOT_GO_SPACE = frozenset("\x1c\x1d\x1e\x1f")
# buildkit splits some instructions on this ASCII set only (reWhitespace).
_RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")


class NotStringArray(ValueError):
    """A JSON array holds something other than strings."""


def is_space(ch: str) -> bool:
    """Whether `ch` is a space as Go's unicode.IsSpace sees it."""
    return ch.isspace() and ch not in _NOT_GO_SPACE


def trim_space(text: str) -> str:
    """Strip leading and trailing Go spaces."""
    start, end = 0, len(text)
    while start < end and is_space(text[start]):
        start += 1
    while end > start and is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def trim_left_space(text: str) -> str:
    """Strip leading Go spaces."""
    start = 0
    while start < len(text) and is_space(text[start]):
        start += 1
    return text[start:]


def split_whitespace(text: str) -> list[str]:
    """Split on runs of ASCII blanks, as buildkit's parseStringsWhitespaceDelimited."""
    if text == "":
        return []
    return _RE_WHITESPACE.split(text)


def split_whitespace_once(text: str) -> list[str]:
    """Split at the first run of ASCII blanks into at most two parts."""
    return _RE_WHITESPACE.split(text, maxsplit=1)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json_array(text: str) -> list[str] | None:
    """The strings of a JSON array, or None when `text` is not a JSON array.

    Raises NotStringArray when it is an array with a non-string element (an error in Docker).
    """
    text = trim_left_space(text)
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return None
    except RecursionError:
        # Only arrays nested thousands deep get here: valid JSON, but not of strings.
        raise NotStringArray("JSON arrays must hold strings only, not nested arrays") from None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise NotStringArray(
            "when using JSON array syntax, arrays must be comprised of strings only"
        )
    return value


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on spaces keeping quotes and escapes in each word (buildkit parseWords)."""
    words: list[str] = []
    word: list[str] = []
    in_word = False
    blank_ok = False
    quote = ""
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        if not in_word:
            if is_space(ch):
                pos += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if pos + 1 == n:
                    pos += 1
                    continue  # an escape at the very end is dropped
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        if is_space(ch):
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok, in_word = [], False, False
            pos += 1
            continue
        if ch in "'\"":
            quote, blank_ok = ch, True
        elif ch == escape:
            if pos + 1 == n:
                pos += 1
                continue
            word.append(ch)
            pos += 1
            ch = rest[pos]
        word.append(ch)
        pos += 1
    if in_word and (blank_ok or word):
        words.append("".join(word))
    return words


def extract_flags(line: str) -> tuple[str, list[str]]:
    """Split leading `--flag[=value]` words off `line`; returns (rest, flags).

    Quotes and backslashes inside a flag are processed, as buildkit's extractBuilderFlags.
    """
    flags: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and is_space(line[pos]):
            pos += 1
        if pos >= n:
            return "", flags
        if not line.startswith("--", pos):
            return line[pos:], flags
        word: list[str] = []
        quote = ""
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                    pos += 1
                    continue
            elif is_space(ch):
                break
            elif ch in "'\"":
                quote = ch
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    quote = ""
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], flags
        flags.append(text)


def quote_flag(flag: str) -> str:
    """Render a processed `--name=value` flag so that extract_flags gives it back unchanged."""
    name, sep, value = flag.partition("=")
    if not sep:
        return flag
    if value and not any(is_space(c) or c in "'\"\\" for c in value):
        return flag
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'
