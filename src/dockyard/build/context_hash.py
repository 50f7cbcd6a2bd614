"""COPY/ADD sources: which entries of a tree a source names, and a hash of their content.

A tree is the build context (only what `.dockerignore` lets through) or another stage's or
image's root (everything). The hash covers each copied entry's path, type, mode, owner and
content (or link target) — not its mtime, as BuildKit — so an unchanged context hits the cache.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_GLOB = re.compile(r"[*?\[]")
_CHUNK = 1 << 20


class SourceError(ValueError):
    """A source names nothing, or something outside its tree; the builder adds the line."""


@dataclass(frozen=True)
class Tree:
    """A directory to copy from; `allowed` lists the context entries `.dockerignore` keeps."""

    root: Path
    allowed: frozenset[str] | None = None

    def children(self, rel: str) -> Iterator[str]:
        """Every entry below directory `rel` ("" = the root), sorted, parents first."""
        if self.allowed is not None:
            prefix = f"{rel}/" if rel else ""
            yield from sorted(p for p in self.allowed if p.startswith(prefix) and p != rel)
            return
        base = self.root / rel if rel else self.root
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            here = os.path.relpath(dirpath, self.root)
            here = "" if here == "." else here
            for name in sorted(dirnames + filenames):
                yield f"{here}/{name}" if here else name
        # os.walk does not descend into symlinked dirs: they are copied as links.

    def exists(self, rel: str) -> bool:
        """Whether `rel` is in the tree (and not ignored)."""
        if rel == "":
            return True
        if self.allowed is not None and rel not in self.allowed:
            return False
        return os.path.lexists(self.root / rel)

    def entries(self) -> list[str]:
        """Every entry of the tree (for glob matching)."""
        return list(self.children(""))


def clean_source(source: str, *, absolute_ok: bool) -> str:
    """A source path relative to its tree; `../x` leaving the context is a `SourceError`."""
    if source.startswith("/") and not absolute_ok:
        source = source.lstrip("/")  # Docker reads /x in the context as x
    cleaned = posixpath.normpath("/" + source).lstrip("/")
    if not absolute_ok and posixpath.normpath(source).startswith(".."):
        raise SourceError(f"{source}: outside the build context; copy only files inside it")
    return "" if cleaned == "." else cleaned


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    # Go's filepath.Match, as Docker uses: `*` and `?` never match `/`.
    parts = [fnmatch.translate(p).replace(".*", "[^/]*").replace("(?s:", "(?:") for p in
             pattern.split("/")]  # fmt: skip
    body = "/".join(p.removesuffix(r"\Z") for p in parts)
    return re.compile(body + r"\Z", re.S)


def match_sources(tree: Tree, source: str, *, absolute_ok: bool = False) -> list[str]:
    """The entries of `tree` that `source` (a path or a glob) names; a `SourceError` if none."""
    rel = clean_source(source, absolute_ok=absolute_ok)
    if not _GLOB.search(rel):
        if not tree.exists(rel):
            raise SourceError(f"{source}: no such file or directory in the build context")
        return [rel]
    regex = _compile(rel)
    depth = rel.count("/")
    found = [p for p in tree.entries() if p.count("/") == depth and regex.match(p)]
    if not found:
        raise SourceError(f"{source}: no source files were specified (the pattern matches none)")
    return found


def expand(tree: Tree, rel: str) -> list[str]:
    """`rel` and, when it is a directory, everything below it."""
    path = tree.root / rel if rel else tree.root
    if rel and not stat.S_ISDIR(os.lstat(path).st_mode):
        return [rel]
    return [rel, *tree.children(rel)]


def file_digest(path: Path) -> str:
    """sha256 of a file's content."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def hash_sources(tree: Tree, sources: list[str]) -> str:
    """One digest of every entry the sources copy: path, type, mode, owner, content."""
    sha = hashlib.sha256()
    for source in sources:
        for rel in expand(tree, source):
            path = tree.root / rel if rel else tree.root
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                what = file_digest(path)
            elif stat.S_ISLNK(st.st_mode):
                what = os.readlink(path)
            else:
                what = ""
            sha.update(f"{source}\0{rel}\0{st.st_mode:o}\0{st.st_uid}:{st.st_gid}\0{what}\n"
                       .encode("utf-8", "surrogateescape"))  # fmt: skip
    return "sha256:" + sha.hexdigest()
