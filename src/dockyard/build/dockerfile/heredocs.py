"""Heredoc words (`<<EOF`, `<<-'EOF'`, `3<<EOF`) and the inline files of COPY and ADD."""

from __future__ import annotations

import re

from dockyard.build.dockerfile.errors import LexError
from dockyard.build.dockerfile.instructions import Add, Copy, Heredoc
from dockyard.build.dockerfile.shellwords import Lex

_MAX_FD = 2**64 - 1
_HEREDOC_WORD = re.compile(r"([0-9]*)<<(-?)([^<]*)")  # buildkit reHeredoc


def heredoc_from_word(word: str) -> Heredoc | None:
    """The heredoc a word like `<<EOF`, `<<-"EOF"` or `3<<EOF` opens (no content), or None."""
    match = _HEREDOC_WORD.fullmatch(word)
    if match is None or not match.group(3):
        return None
    rest = match.group(3)
    words = Lex(skip_unset=True).process_words(rest, {})
    if len(words) != 1:
        return None
    raw = Lex(skip_unset=True, raw_quotes=True).process_words(rest, {})
    if len(raw) != 1:
        raise LexError(f"inconsistent heredoc delimiter {rest!r}")
    # A delimiter with any quoted part disables substitution in the body, as in sh.
    expand = sum(words[0].count(q) for q in "'\"") == sum(raw[0].count(q) for q in "'\"")
    digits = match.group(1)
    fd = int(digits) if digits and len(digits) <= 20 else 0
    if fd > _MAX_FD:
        fd = 0  # Go's ParseUint fails on overflow and buildkit then uses 0
    return Heredoc(name=words[0], expand=expand, chomp=match.group(2) == "-", fd=fd)


def is_heredoc(word: str) -> bool:
    """Whether `word` opens a heredoc (BuildKit's MustParseHeredoc is not nil)."""
    try:
        return heredoc_from_word(word) is not None
    except LexError:
        return False


def file_sources(instr: Copy | Add) -> tuple[tuple[str, ...], tuple[Heredoc, ...]]:
    """The sources of COPY/ADD split into paths and inline files (a `<<NAME` source)."""
    by_name = {doc.name: doc for doc in instr.heredocs}
    paths: list[str] = []
    inline: list[Heredoc] = []
    for source in instr.sources:
        opened = heredoc_from_word(source) if is_heredoc(source) else None
        if opened is None:
            paths.append(source)
        else:
            # A source heredoc without a body (JSON form) is an empty file, as in BuildKit.
            inline.append(by_name.get(opened.name, opened))
    return tuple(paths), tuple(inline)
