"""`--env-file` and `-e` exactly as the Docker CLI reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.engine.envfile import merge_env, parse_env_args, parse_env_file, read_env_file
from dockyard.errors import InvalidArgument


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "env_list.txt"
    path.write_bytes(data)
    return path


def test_env_file_format(tmp_path: Path) -> None:
    text = (
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "QUOTED=\"kept\" 'as is'\n"
        "SPACES=  around  \n"
        "   INDENTED=yes\n"
        "EMPTY=\n"
        "EQUALS=a=b=c\n"
        "S3S1N2_Name=컨테이너\n"
        "FROM_HOST\n"
        "NOT_ON_HOST\n"
        "    # indented comment\n"
        "CRLF=windows\r\n"
    )
    path = _write(tmp_path, text.encode())
    env = read_env_file(path, environ={"FROM_HOST": "host value"})
    assert env == [
        "PLAIN=value",
        "QUOTED=\"kept\" 'as is'",
        "SPACES=  around  ",
        "INDENTED=yes",
        "EMPTY=",
        "EQUALS=a=b=c",
        "S3S1N2_Name=컨테이너",
        "FROM_HOST=host value",
        "CRLF=windows",
    ]


def test_env_file_bom_and_no_final_newline() -> None:
    assert parse_env_file("\ufeffA=1\nB=2".encode(), "f", {}) == ["A=1", "B=2"]


@pytest.mark.parametrize(
    ("line", "why"),
    [("MY VAR=1", "contains whitespace"), ("KEY =1", "contains whitespace"), ("=x", "no variable")],
)
def test_env_file_bad_key(tmp_path: Path, line: str, why: str) -> None:
    path = _write(tmp_path, f"OK=1\n{line}\n".encode())
    with pytest.raises(InvalidArgument) as e:
        read_env_file(path, environ={})
    assert str(e.value).startswith(f"--env-file {path}: line 2")
    assert why in str(e.value)


def test_env_file_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, b"A=1\nB=\xff\xfe\n")
    with pytest.raises(InvalidArgument) as e:
        read_env_file(path, environ={})
    assert str(e.value) == f"--env-file {path}: line 2 is not UTF-8; re-encode the file as UTF-8"


def test_env_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument) as e:
        read_env_file(tmp_path / "nope", environ={})
    assert str(e.value) == f"--env-file {tmp_path / 'nope'}: no such file; give an existing path"
    with pytest.raises(InvalidArgument, match="is a directory"):
        read_env_file(tmp_path, environ={})


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
        st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n\r")),
        max_size=8,
    )
)
def test_env_file_values_verbatim(pairs: dict[str, str]) -> None:
    data = "".join(f"{k}={v}\n" for k, v in pairs.items()).encode()
    assert parse_env_file(data, "f", {}) == [f"{k}={v}" for k, v in pairs.items()]


def test_env_args() -> None:
    host = {"HOME": "/root", "EMPTY": ""}
    assert parse_env_args(["A=1", "HOME", "UNSET", "EMPTY", "B="], host) == [
        "A=1",
        "HOME=/root",
        "EMPTY=",
        "B=",
    ]
    with pytest.raises(InvalidArgument) as e:
        parse_env_args(["=x"], host)
    assert str(e.value) == 'invalid -e "=x": the variable needs a name, KEY=VALUE'


def test_merge_env_replaces_in_place_and_unsets() -> None:
    base = ["PATH=/bin", "HOSTNAME=h", "A=1"]
    assert merge_env(base, ["A=2", "PATH=/usr/bin", "NEW=x", "HOSTNAME"]) == [
        "PATH=/usr/bin",
        "A=2",
        "NEW=x",
    ]
