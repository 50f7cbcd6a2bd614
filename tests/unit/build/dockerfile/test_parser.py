"""Parser syntax: directives, continuations, comments, heredocs, forms, flags, errors.

Examples are taken from Docker's Dockerfile reference and buildkit's parser tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.build.dockerfile import (
    CommandLine,
    Copy,
    DockerfileError,
    From,
    Heredoc,
    Run,
    parse,
    parse_file,
)
from dockyard.build.dockerfile.heredocs import file_sources
from dockyard.errors import InvalidArgument


def only(text: str) -> object:
    (instr,) = parse(text).instructions
    return instr


def test_directives_syntax_and_escape() -> None:
    d = parse("# syntax=docker/dockerfile:1\n# escape=`\n\nFROM scratch\n")
    assert d.syntax == "docker/dockerfile:1"
    assert d.escape == "`"


def test_directive_forms_are_case_and_space_insensitive() -> None:
    assert parse("#   ESCAPE  =  `  \nFROM a\n").escape == "`"
    assert parse("#escape=`\nFROM a\n").escape == "`"


def test_directive_after_a_comment_is_a_comment() -> None:
    d = parse("# About my dockerfile\n# escape=`\nFROM a\n")
    assert d.escape == "\\"


def test_directive_after_an_instruction_or_blank_line_is_a_comment() -> None:
    assert parse("FROM a\n# escape=`\nRUN x\n").escape == "\\"
    assert parse("\n# escape=`\nFROM a\n").escape == "\\"


def test_unknown_directive_ends_directives() -> None:
    assert parse("# unknowndirective=value\n# escape=`\nFROM a\n").escape == "\\"


def test_duplicate_directive_is_an_error_with_its_line() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: only one escape") as info:
        parse("# escape=\\\n# escape=`\nFROM a\n")
    assert info.value.line == 2


def test_bad_escape_token() -> None:
    with pytest.raises(DockerfileError, match="invalid escape token"):
        parse("# escape=x\nFROM a\n")


def test_backtick_escape_windows_example() -> None:
    d = parse("# escape=`\n\nFROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\n")
    copy, run = d.instructions[1], d.instructions[2]
    assert isinstance(copy, Copy) and copy.dest == "c:\\"
    assert isinstance(run, Run) and run.command == CommandLine(("dir c:\\",))


def test_backtick_continuation() -> None:
    run = only("# escape=`\nRUN echo a `\n  b\n")
    assert isinstance(run, Run)
    assert run.command.args == ("echo a   b",)
    assert (run.start_line, run.end_line) == (2, 3)


def test_line_continuation_and_line_numbers() -> None:
    d = parse("FROM busybox\nRUN echo hello \\\nworld\nRUN ok\n")
    run = d.instructions[1]
    assert isinstance(run, Run)
    assert run.command.args == ("echo hello world",)
    assert (run.start_line, run.end_line) == (2, 3)
    assert (d.instructions[2].start_line, d.instructions[2].end_line) == (4, 4)


def test_escaped_escape_is_not_a_continuation() -> None:
    d = parse("FROM a\nRUN echo \\\\\nRUN b\n")
    assert d.instructions[1] == Run(command=CommandLine(("echo \\\\",)))
    assert len(d.instructions) == 3


def test_comments_inside_continuations_are_dropped() -> None:
    text = "RUN echo hello \\\n# comment\n  # indented comment\nworld\n"
    run = only(text)
    assert isinstance(run, Run)
    assert run.command.args == ("echo hello world",)
    assert run.end_line == 4


def test_empty_continuation_line_is_skipped_with_a_warning() -> None:
    d = parse("FROM a\nRUN echo a \\\n\n  b\n")
    assert d.instructions[1] == Run(command=CommandLine(("echo a   b",)))
    assert d.warnings and "empty continuation" in d.warnings[0]


def test_hash_inside_an_instruction_is_not_a_comment() -> None:
    assert only("RUN echo hello # world\n") == Run(command=CommandLine(("echo hello # world",)))


def test_leading_whitespace_and_crlf() -> None:
    d = parse("\ufeff  FROM a\r\n\t RUN b\r\n")
    assert d.instructions == (From(image="a"), Run(command=CommandLine(("b",))))


def test_keywords_are_case_insensitive() -> None:
    assert only("from Alpine as Build\n") == From(image="Alpine", name="build")


def test_exec_and_shell_form() -> None:
    d = parse('FROM a\nRUN ["/bin/bash", "-c", "echo hello"]\nRUN echo $HOME\n')
    assert d.instructions[1] == Run(command=CommandLine(("/bin/bash", "-c", "echo hello"), False))
    assert d.instructions[2] == Run(command=CommandLine(("echo $HOME",), True))


def test_invalid_json_falls_back_to_shell_form() -> None:
    run = only("RUN ['single', 'quotes']\n")
    assert run == Run(command=CommandLine(("['single', 'quotes']",)))


def test_json_with_non_strings_is_an_error() -> None:
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: when using JSON array syntax"):
        parse('FROM a\nCMD ["sleep", 10]\n')


def test_flags_are_split_off() -> None:
    run = only("RUN --mount=type=cache,target=/root/.cache --network=none pip install x\n")
    assert run == Run(
        command=CommandLine(("pip install x",)),
        mounts=("type=cache,target=/root/.cache",),
        network="none",
    )


def test_quoted_flag_value() -> None:
    copy = only('COPY --chown="app user" a b\n')
    assert isinstance(copy, Copy) and copy.chown == "app user"
    assert parse(copy.to_source()).instructions == (copy,)


def test_double_dash_ends_flags() -> None:
    assert only("WORKDIR -- --odd\n").to_source() == "WORKDIR -- --odd\n"


class TestHeredocs:
    def test_run_heredoc(self) -> None:
        run = only("RUN <<EOF\napt-get update\napt-get install -y vim\nEOF\n")
        assert isinstance(run, Run)
        assert run.command == CommandLine(("<<EOF",))
        assert run.heredocs == (Heredoc("EOF", "apt-get update\napt-get install -y vim\n"),)
        assert (run.start_line, run.end_line) == (1, 4)

    def test_heredoc_with_interpreter_and_next_instruction(self) -> None:
        d = parse("FROM a\nRUN python3 <<EOF\nprint('hi')\nEOF\nRUN next\n")
        assert d.instructions[1].end_line == 4
        assert d.instructions[2] == Run(command=CommandLine(("next",)), start_line=5)
        assert d.instructions[2].start_line == 5

    def test_chomp_strips_tabs_and_terminator_may_be_indented(self) -> None:
        run = only("RUN <<-EOT\n\techo a\n\t\techo b\n\tEOT\n")
        assert isinstance(run, Run)
        (doc,) = run.heredocs
        assert doc.chomp and doc.content == "\techo a\n\t\techo b\n"
        assert doc.text == "echo a\necho b\n"

    def test_quoted_delimiter_disables_expansion(self) -> None:
        for word in ('<<"EOF"', "<<'EOF'", '<<E"O"F'):
            run = only(f"RUN cat {word}\n$HOME\nEOF\n")
            assert isinstance(run, Run)
            assert run.heredocs == (Heredoc("EOF", "$HOME\n", expand=False),)
        run = only("RUN cat <<EOF\n$HOME\nEOF\n")
        assert isinstance(run, Run) and run.heredocs[0].expand

    def test_several_heredocs_on_one_line(self) -> None:
        run = only(
            "RUN cat <<FILE1 > file1 && cat <<FILE2 > file2\n"
            "I am\nfirst\nFILE1\nI am\nsecond\nFILE2\n"
        )
        assert isinstance(run, Run)
        assert [h.name for h in run.heredocs] == ["FILE1", "FILE2"]
        assert run.heredocs[1].content == "I am\nsecond\n"
        assert run.end_line == 7

    def test_file_descriptor(self) -> None:
        run = only("RUN 3<<EOF cat /proc/self/fd/3\nx\nEOF\n")
        assert isinstance(run, Run) and run.heredocs[0].fd == 3

    def test_copy_heredoc(self) -> None:
        copy = only('COPY <<EOF /app/config.json\n{"a": 1}\nEOF\n')
        assert isinstance(copy, Copy)
        assert copy.sources == ("<<EOF",) and copy.dest == "/app/config.json"
        assert copy.heredocs == (Heredoc("EOF", '{"a": 1}\n'),)

    def test_exec_form_has_no_heredocs(self) -> None:
        d = parse('FROM a\nRUN ["cat", "<<EOF"]\n')
        assert d.instructions[1] == Run(command=CommandLine(("cat", "<<EOF"), False))

    def test_onbuild_heredoc(self) -> None:
        d = parse("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n")
        assert d.instructions[1].end_line == 4
        assert "echo hi" in d.to_source()

    def test_unterminated_heredoc(self) -> None:
        with pytest.raises(DockerfileError, match=r"Dockerfile:2: unterminated heredoc <<EOF"):
            parse("FROM a\nRUN <<EOF\necho hi\n")

    def test_heredoc_destination_is_an_error(self) -> None:
        with pytest.raises(DockerfileError, match="heredoc as the destination"):
            parse("COPY a <<EOF\nx\nEOF\n")


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "line", "fragment"),
        [
            ("FROM a\nFOO bar\n", 2, "unknown instruction: FOO"),
            ("FROM a\nRUN\n", 2, "RUN requires at least one argument"),
            ("FROM\n", 1, "FROM requires either one or three arguments"),
            ("FROM a b\n", 1, "FROM requires either one or three arguments"),
            ("FROM a AS 1x\n", 1, "invalid stage name"),
            ("FROM a\nCOPY only\n", 2, "COPY requires at least two arguments"),
            ("FROM a\nADD\n", 2, "ADD requires at least two arguments"),
            ("FROM a\nENV\n", 2, "ENV requires at least one argument"),
            ("FROM a\nENV a\n", 2, "ENV must have two arguments"),
            ("FROM a\nENV a=b c\n", 2, "can't find ="),
            ("FROM a\nLABEL =x\n", 2, "LABEL names can not be blank"),
            ("FROM a\nARG\n", 2, "ARG requires at least one argument"),
            ("FROM a\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
            ("FROM a\nWORKDIR\n", 2, "WORKDIR requires exactly one argument"),
            ("FROM a\nUSER\n", 2, "USER requires exactly one argument"),
            ("FROM a\nVOLUME\n", 2, "VOLUME requires at least one argument"),
            ('FROM a\nVOLUME [""]\n', 2, "can not be an empty string"),
            ("FROM a\nSTOPSIGNAL\n", 2, "STOPSIGNAL requires exactly one argument"),
            ("FROM a\nSHELL sh -c\n", 2, "SHELL requires the arguments in JSON form"),
            ("FROM a\nONBUILD\n", 2, "ONBUILD requires at least one argument"),
            ("FROM a\nONBUILD ONBUILD RUN x\n", 2, "chaining ONBUILD"),
            ("FROM a\nONBUILD FROM b\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
            ("FROM a\nONBUILD FOO x\n", 2, "unknown instruction: FOO"),
            ("FROM a\nHEALTHCHECK\n", 2, "HEALTHCHECK requires at least one argument"),
            ("FROM a\nHEALTHCHECK CMD\n", 2, "missing command after HEALTHCHECK CMD"),
            ("FROM a\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
            ("FROM a\nHEALTHCHECK RUN x\n", 2, "unknown type"),
            ("FROM a\nHEALTHCHECK --interval=5 CMD x\n", 2, "not a duration"),
            ("FROM a\nHEALTHCHECK --timeout=0s CMD x\n", 2, "less than 1ms"),
            ("FROM a\nHEALTHCHECK --retries=0 CMD x\n", 2, "at least 1"),
            ("FROM a\nCOPY --nope a b\n", 2, "unknown flag --nope for COPY"),
            ("FROM a\nCOPY --from=a --from=b a b\n", 2, "duplicate flag"),
            ("FROM a\nCOPY --from a b\n", 2, "missing a value on flag --from"),
            ("FROM a\nCOPY --link=maybe a b\n", 2, "expecting a boolean"),
            ("FROM a\nENV --x=1 a=b\n", 2, "unknown flag --x for ENV"),
            ("FROM a\nRUN --network=bridge x\n", 2, "RUN --network=bridge is not supported"),
            ("FROM a\nRUN --security=root x\n", 2, "RUN --security=root is not supported"),
            ("FROM a\n\nRUN x \\\n  y\nRUN [1]\n", 5, "JSON array"),
            ("", 0, "file with no instructions"),
            ("# just a comment\n\n", 2, "file with no instructions"),
        ],
    )
    def test_error_names_file_and_line(self, text: str, line: int, fragment: str) -> None:
        with pytest.raises(DockerfileError) as info:
            parse(text, name="ctx/Dockerfile")
        err = info.value
        assert isinstance(err, InvalidArgument)
        assert err.line == line and err.file == "ctx/Dockerfile"
        assert fragment in str(err)
        assert str(err).startswith(f"ctx/Dockerfile:{line}: " if line else "ctx/Dockerfile")


class TestHostileInput:
    """Inputs that once overflowed the stack or mis-round-tripped; each is one clear error."""

    def test_deep_onbuild_chain(self) -> None:
        with pytest.raises(DockerfileError, match="chaining ONBUILD"):
            parse("FROM a\n" + "ONBUILD " * 5000 + "RUN x\n")

    def test_deeply_nested_json(self) -> None:
        with pytest.raises(DockerfileError, match="strings only"):
            parse("FROM a\nCMD " + "[" * 100_000 + "\n")

    def test_deeply_nested_substitution_is_left_to_the_shell_in_run(self) -> None:
        run = parse("FROM a\nRUN " + "${a:-" * 3000 + "\n").instructions[1]
        assert isinstance(run, Run)

    def test_value_ending_in_escape_before_a_vertical_tab(self) -> None:
        d = parse("# escape=`\nFROM x`\v\n")
        assert d.instructions == (From(image="x`"),)
        assert parse(d.to_source()) == d


class TestParseFile:
    def test_reads_bytes_so_a_lone_carriage_return_stays_in_the_line(self, scratch: Path) -> None:
        path = scratch / "Dockerfile"
        path.write_bytes(b"FROM a\r\nRUN echo a\rb\r\n")
        d = parse_file(path)
        assert d.name == str(path)
        assert d.instructions[1] == Run(command=CommandLine(("echo a\rb",)))

    def test_errors_name_the_path(self, scratch: Path) -> None:
        with pytest.raises(DockerfileError, match="no such file"):
            parse_file(scratch / "missing")
        with pytest.raises(DockerfileError, match="is a directory"):
            parse_file(scratch)
        bad = scratch / "Dockerfile.bad"
        bad.write_bytes(b"FROM a\n\xff\n")
        with pytest.raises(DockerfileError, match=r"Dockerfile.bad: not UTF-8"):
            parse_file(bad)
        unknown = scratch / "Dockerfile.unknown"
        unknown.write_text("FROM a\nBOGUS x\n")
        with pytest.raises(DockerfileError, match=rf"^{unknown}:2: unknown instruction: BOGUS"):
            parse_file(unknown)


def test_file_sources_split_paths_and_inline_files() -> None:
    copy = only("COPY a <<one b <<-'two' /dest/\n1\none\n\t2\n\ttwo\n")
    assert isinstance(copy, Copy)
    paths, inline = file_sources(copy)
    assert paths == ("a", "b")
    assert [(h.name, h.text, h.expand) for h in inline] == [
        ("one", "1\n", True),
        ("two", "2\n", False),
    ]
