""".dockerignore rules, with the cases of moby/patternmatcher's tests, and walk_context."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.build.context import (
    IgnoreRule,
    Matcher,
    parse_dockerignore,
    read_dockerignore,
    walk_context,
)
from dockyard.errors import InvalidArgument, NotFound

EXACT, INEXACT, FAIL = "exact", "inexact", "fail"
WHEEL = "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"

# (pattern, path, how it matches), from patternmatcher_test.go TestMatches.
MATCHES = [
    ("**", "file", EXACT),
    ("**", "file/", EXACT),
    ("**/", "file", EXACT),
    ("**/", "file/", EXACT),
    ("**", "/", EXACT),
    ("**/", "/", EXACT),
    ("**", "dir/file", EXACT),
    ("**/", "dir/file", EXACT),
    ("**", "dir/file/", EXACT),
    ("**/", "dir/file/", EXACT),
    ("**/**", "dir/file", EXACT),
    ("**/**", "dir/file/", EXACT),
    ("dir/**", "dir/file", EXACT),
    ("dir/**", "dir/file/", EXACT),
    ("dir/**", "dir/dir2/file", EXACT),
    ("dir/**", "dir/dir2/file/", EXACT),
    ("**/dir", "dir", EXACT),
    ("**/dir", "dir/file", INEXACT),
    ("**/dir2/*", "dir/dir2/file", EXACT),
    ("**/dir2/*", "dir/dir2/file/", INEXACT),
    ("**/dir2/**", "dir/dir2/dir3/file", EXACT),
    ("**/dir2/**", "dir/dir2/dir3/file/", EXACT),
    ("**file", "file", EXACT),
    ("**file", "dir/file", EXACT),
    ("**/file", "dir/file", EXACT),
    ("**file", "dir/dir/file", EXACT),
    ("**/file", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file.txt", EXACT),
    ("**/file*txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt*", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt2", "dir/dir/file.txt", FAIL),
    ("**/*.txt", "file.txt", EXACT),
    ("**/**/*.txt", "file.txt", EXACT),
    ("a**/*.txt", "a/file.txt", EXACT),
    ("a**/*.txt", "a/dir/file.txt", EXACT),
    ("a**/*.txt", "a/dir/dir/file.txt", EXACT),
    ("a/*.txt", "a/dir/file.txt", FAIL),
    ("a/*.txt", "a/file.txt", EXACT),
    ("a/*.txt**", "a/file.txt", EXACT),
    ("a[b-d]e", "ae", FAIL),
    ("a[b-d]e", "ace", EXACT),
    ("a[b-d]e", "aae", FAIL),
    ("a[^b-d]e", "aze", EXACT),
    (".*", ".foo", EXACT),
    (".*", "foo", FAIL),
    ("abc.def", "abcdef", FAIL),
    ("abc.def", "abc.def", EXACT),
    ("abc.def", "abcZdef", FAIL),
    ("abc?def", "abcZdef", EXACT),
    ("abc?def", "abcdef", FAIL),
    ("**/foo/bar", "foo/bar", EXACT),
    ("**/foo/bar", "dir/foo/bar", EXACT),
    ("**/foo/bar", "dir/dir2/foo/bar", EXACT),
    ("abc/**", "abc", FAIL),
    ("abc/**", "abc/def", EXACT),
    ("abc/**", "abc/def/ghi", EXACT),
    ("**/.foo", ".foo", EXACT),
    ("**/.foo", "bar.foo", FAIL),
    ("a(b)c/def", "a(b)c/def", EXACT),
    ("a(b)c/def", "a(b)c/xyz", FAIL),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", EXACT),
    (WHEEL, WHEEL, EXACT),
    ("dist/*.whl", WHEEL, EXACT),
    ("a\\\\", "a\\", EXACT),
    ("a\\*b", "a*b", EXACT),
]  # fmt: skip

MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", FAIL),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", EXACT),
    (["**", f"!{WHEEL}"], WHEEL, FAIL),
    (["**", "!dist/*.whl"], WHEEL, FAIL),
]  # fmt: skip

# (pattern, path, matches, bad pattern), from patternmatcher_test.go matchTests (Go's Match).
GO_MATCH = [
    ("abc", "abc", True, False),
    ("*", "abc", True, False),
    ("*c", "abc", True, False),
    ("a*", "a", True, False),
    ("a*", "abc", True, False),
    ("a*", "ab/c", True, False),
    ("a*/b", "abc/b", True, False),
    ("a*/b", "a/c/b", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False, False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True, False),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False),
    ("ab[c]", "abc", True, False),
    ("ab[b-d]", "abc", True, False),
    ("ab[e-g]", "abc", False, False),
    ("ab[^c]", "abc", False, False),
    ("ab[^b-d]", "abc", False, False),
    ("ab[^e-g]", "abc", True, False),
    ("a\\*b", "a*b", True, False),
    ("a\\*b", "ab", False, False),
    ("a?b", "a☺b", True, False),
    ("a[^a]b", "a☺b", True, False),
    ("a???b", "a☺b", False, False),
    ("a[^a][^a][^a]b", "a☺b", False, False),
    ("[a-ζ]*", "\u03b1", True, False),
    ("*[a-ζ]", "A", False, False),
    ("a?b", "a/b", False, False),
    ("a*b", "a/b", False, False),
    ("[\\]a]", "]", True, False),
    ("[\\-]", "-", True, False),
    ("[x\\-]", "x", True, False),
    ("[x\\-]", "-", True, False),
    ("[x\\-]", "z", False, False),
    ("[\\-x]", "x", True, False),
    ("[\\-x]", "-", True, False),
    ("[\\-x]", "a", False, False),
    ("[]a]", "]", False, True),
    ("[-]", "-", False, True),
    ("[x-]", "x", False, True),
    ("[-x]", "x", False, True),
    ("\\", "a", False, True),
    ("[a-b-c]", "a", False, True),
    ("[", "a", False, True),
    ("[^", "a", False, True),
    ("[^bc", "a", False, True),
    ("a[", "a", False, True),
    ("*x", "xxx", True, False),
    ("[z-a]", "a", False, True),  # Go's regexp refuses it when patternmatcher compiles
]


@pytest.mark.parametrize(("pattern", "path", "how"), MATCHES)
def test_patternmatcher_matches(pattern: str, path: str, how: str) -> None:
    rule = IgnoreRule.parse(pattern)
    assert rule is not None
    assert rule.matches(path) == (how == EXACT)
    assert Matcher((rule,)).excludes(path) == (how != FAIL)


@pytest.mark.parametrize(("patterns", "path", "how"), MULTI)
def test_patternmatcher_multi(patterns: list[str], path: str, how: str) -> None:
    assert Matcher.from_patterns(patterns).excludes(path) == (how != FAIL)


@pytest.mark.parametrize(("pattern", "path", "matches", "bad"), GO_MATCH)
def test_go_match_cases(pattern: str, path: str, matches: bool, bad: bool) -> None:
    if bad:
        with pytest.raises(InvalidArgument, match="syntax error in pattern"):
            Matcher.from_patterns([pattern])
    else:
        assert Matcher.from_patterns([pattern]).excludes(path) == matches


def test_simple_rules() -> None:
    assert Matcher.from_patterns(["*"]).excludes("fileutils.go")
    assert Matcher.from_patterns(["*.go"]).excludes("fileutils.go")
    assert Matcher.from_patterns(["!fileutils.go", "*.go"]).excludes("fileutils.go")
    assert not Matcher.from_patterns(["*.go", "!fileutils.go"]).excludes("fileutils.go")
    assert not Matcher.from_patterns(["*.go"]).excludes(".")
    assert not Matcher.from_patterns([]).excludes("/any/path/there")


@pytest.mark.parametrize("folder", ["docs", "docs/", "docs/*"])
def test_folder_with_exception(folder: str) -> None:
    matcher = Matcher.from_patterns([folder, "!docs/README.md"])
    assert not matcher.excludes("docs/README.md")
    assert matcher.excludes("docs/other.md")


def test_lone_exclamation_is_an_error() -> None:
    with pytest.raises(InvalidArgument, match='illegal exception pattern "!"'):
        Matcher.from_patterns(["!"])


def test_cleaning_and_blanks() -> None:
    matcher = Matcher.from_patterns(["docs", "config", "", "  !docs/README.md  "])
    assert [r.pattern for r in matcher.rules] == ["docs", "config", "docs/README.md"]
    assert matcher.has_exceptions


def test_parse_file_comments_slashes_and_exceptions() -> None:
    text = "\ufeff# comment\n/abs\n./rel/\n  spaced  \r\n!  /keep\n\n  # not a comment\n/\n"
    assert parse_dockerignore(text) == ["abs", "rel", "spaced", "!keep", "# not a comment", "/"]


def test_last_matching_rule_wins() -> None:
    matcher = Matcher.from_patterns(["*.md", "!README*.md", "README-secret.md"])
    assert matcher.excludes("CHANGES.md")
    assert not matcher.excludes("README.md")
    assert matcher.excludes("README-secret.md")


def make_tree(root: Path, paths: list[str]) -> None:
    for rel in paths:
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rel)


class TestWalkContext:
    TREE = [
        "Dockerfile",
        ".dockerignore",
        ".git/config",
        "app/main.py",
        "app/__pycache__/main.pyc",
        "docs/README.md",
        "docs/guide.md",
        "docs/img/logo.png",
        "node_modules/a/index.js",
        "empty/",
    ]

    def test_excludes_and_reincludes(self, scratch: Path) -> None:
        make_tree(scratch, self.TREE)
        patterns = [".git", "**/__pycache__", "docs", "!docs/README.md", "node_modules", "*.md"]
        assert list(walk_context(scratch, patterns)) == [
            ".dockerignore",
            "Dockerfile",
            "app",
            "app/main.py",
            "docs",
            "docs/README.md",
            "empty",
        ]

    def test_exception_inside_excluded_dir_brings_its_parents(self, scratch: Path) -> None:
        make_tree(scratch, self.TREE)
        patterns = ["docs", "!docs/img/logo.png", "node_modules", ".git", "app"]
        assert list(walk_context(scratch, patterns)) == [
            ".dockerignore",
            "Dockerfile",
            "docs",
            "docs/img",
            "docs/img/logo.png",
            "empty",
        ]

    def test_dockerfile_and_dockerignore_are_always_sent(self, scratch: Path) -> None:
        make_tree(scratch, [*self.TREE, "build/Dockerfile.dev"])
        sent = list(walk_context(scratch, ["*", "build"], dockerfile="build/Dockerfile.dev"))
        assert sent == [".dockerignore", "build", "build/Dockerfile.dev"]
        assert list(walk_context(scratch, ["**"], dockerfile="./Dockerfile")) == [
            ".dockerignore",
            "Dockerfile",
        ]

    def test_excluded_dir_is_pruned(self, scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        make_tree(scratch, self.TREE)
        opened: list[str] = []
        real_scandir = os.scandir

        def recording_scandir(path: Path) -> Iterator[os.DirEntry[str]]:
            opened.append(os.path.relpath(path, scratch))
            return real_scandir(path)

        # Records which directories the walk opens; the real scandir still does the work.
        monkeypatch.setattr(os, "scandir", recording_scandir)
        walk = list(walk_context(scratch, ["node_modules", "docs", "!docs/img"]))
        assert "node_modules" not in walk and "docs/img/logo.png" in walk
        assert "docs/guide.md" not in walk
        assert sorted(opened) == [
            ".",
            ".git",
            "app",
            "app/__pycache__",
            "docs",
            "docs/img",
            "empty",
        ]

    def test_symlinks_are_not_followed(self, scratch: Path) -> None:
        make_tree(scratch, ["real/file"])
        (scratch / "link").symlink_to(scratch / "real")
        assert list(walk_context(scratch, [])) == ["link", "real", "real/file"]

    def test_dockerfile_name_with_glob_characters_is_kept_literally(self, scratch: Path) -> None:
        make_tree(scratch, ["Dockerfile[prod]", "Dockerfilep"])
        sent = list(walk_context(scratch, ["*"], dockerfile="Dockerfile[prod]"))
        assert sent == ["Dockerfile[prod]"]

    def test_missing_context(self, scratch: Path) -> None:
        with pytest.raises(NotFound, match="no such directory"):
            list(walk_context(scratch / "nope", []))

    def test_read_dockerignore(self, scratch: Path) -> None:
        assert read_dockerignore(scratch) == []
        (scratch / ".dockerignore").write_text("# c\n*.log\n!keep.log\n")
        assert read_dockerignore(scratch) == ["*.log", "!keep.log"]


PATTERN_PARTS = ["a", "b", "*", "**", "?", "[ab]", "x.md", "*.md", "c"]
pattern = st.builds(
    lambda bang, parts: ("!" if bang else "") + "/".join(parts),
    st.booleans(),
    st.lists(st.sampled_from(PATTERN_PARTS), min_size=1, max_size=3),
)
WALK_TREE = ["a/x.md", "a/b/c", "a/b/x.md", "b/a/c", "b/x.md", "c", "x.md", "ab/c/a", "e/"]


def test_walk_agrees_with_excludes(scratch: Path) -> None:
    make_tree(scratch, WALK_TREE)
    every = sorted(
        os.path.relpath(os.path.join(d, n), scratch)
        for d, dirs, files in os.walk(scratch)
        for n in dirs + files
    )

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.lists(pattern, max_size=4))
    def check(patterns: list[str]) -> None:
        matcher = Matcher.from_patterns(patterns)
        kept = {p for p in every if not matcher.excludes(p)}
        # A directory is also sent when something below it is (it leads to that entry).
        kept |= {p.rsplit("/", i)[0] for p in kept for i in range(1, p.count("/") + 1)}
        expected = sorted(kept, key=lambda p: p.split("/"))
        # (The tree has neither a Dockerfile nor a .dockerignore to force in.)
        assert list(walk_context(scratch, matcher, dockerfile="none")) == expected

    check()


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(st.text(alphabet="ab/*?[]^-\\!. \t", max_size=8), max_size=4), st.text(max_size=8))
def test_any_pattern_compiles_or_is_invalid_argument(patterns: list[str], path: str) -> None:
    try:
        matcher = Matcher.from_patterns(parse_dockerignore("\n".join(patterns)))
    except InvalidArgument:
        return
    matcher.excludes(path)
