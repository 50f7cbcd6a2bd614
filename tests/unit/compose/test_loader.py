"""Loading projects from files: discovery, names, .env, env_file, include and extends."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from dockyard.compose.errors import ComposeError, ComposeFileNotFound, Location
from dockyard.compose.interpolate import SourceKind
from dockyard.compose.loader import LoadOptions, load_project, normalize_project_name


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(directory: Path, **kw: object) -> object:
    return load_project(LoadOptions(working_dir=str(directory), **kw))  # type: ignore[arg-type]


def test_file_is_found_walking_up_with_its_override(scratch: Path) -> None:
    write(scratch / "app" / "docker-compose.yml", "services:\n  web: {image: a}\n")
    write(scratch / "app" / "docker-compose.override.yml", "services:\n  web: {image: b}\n")
    (scratch / "app" / "sub" / "dir").mkdir(parents=True)
    loaded = load_project(LoadOptions(working_dir=str(scratch / "app" / "sub" / "dir")))
    assert loaded.files == (
        str(scratch / "app" / "docker-compose.yml"),
        str(scratch / "app" / "docker-compose.override.yml"),
    )
    assert loaded.project.name == "app"
    assert loaded.project.working_dir == str(scratch / "app")
    assert loaded.project.services["web"].image == "b"


def test_compose_yaml_comes_first(scratch: Path) -> None:
    write(scratch / "compose.yaml", "services:\n  web: {image: first}\n")
    write(scratch / "docker-compose.yml", "services:\n  web: {image: second}\n")
    assert load_project(LoadOptions(working_dir=str(scratch))).project.services["web"].image == (
        "first"
    )


def test_no_file_found(scratch: Path) -> None:
    with pytest.raises(ComposeFileNotFound, match="no compose file"):
        load_project(LoadOptions(working_dir=str(scratch)))


def test_several_files_and_compose_file_variable(scratch: Path) -> None:
    write(scratch / "a.yaml", "services:\n  web: {image: a, environment: [X=1]}\n")
    write(scratch / "b.yaml", "services:\n  web: {environment: [Y=2]}\n")
    by_flag = load_project(LoadOptions(files=("a.yaml", "b.yaml"), working_dir=str(scratch)))
    by_env = load_project(
        LoadOptions(working_dir=str(scratch), environ={"COMPOSE_FILE": f"a.yaml{os.pathsep}b.yaml"})
    )
    for loaded in (by_flag, by_env):
        assert dict(loaded.project.services["web"].environment) == {"X": "1", "Y": "2"}


@pytest.mark.parametrize(
    ("options", "environ", "expected"),
    [
        ({"project_name": "flag"}, {"COMPOSE_PROJECT_NAME": "env"}, "flag"),
        ({}, {"COMPOSE_PROJECT_NAME": "env"}, "env"),
        ({}, {}, "top"),
    ],
)
def test_project_name_precedence(
    scratch: Path, options: dict[str, str], environ: dict[str, str], expected: str
) -> None:
    write(scratch / "compose.yaml", "name: top\nservices: {}\n")
    loaded = load_project(LoadOptions(working_dir=str(scratch), environ=environ, **options))  # type: ignore[arg-type]
    assert loaded.project.name == expected


def test_project_name_from_directory_is_normalised(scratch: Path) -> None:
    write(scratch / "My.App Dir" / "compose.yaml", "services: {}\n")
    loaded = load_project(LoadOptions(working_dir=str(scratch / "My.App Dir")))
    assert loaded.project.name == "myappdir"
    assert normalize_project_name("_-Web_App-2") == "web_app-2"


def test_invalid_project_name_flag(scratch: Path) -> None:
    write(scratch / "compose.yaml", "services: {}\n")
    with pytest.raises(ComposeError, match='invalid project name "Bad Name"'):
        load_project(LoadOptions(working_dir=str(scratch), project_name="Bad Name"))


def test_project_directory_moves_relative_paths_and_dotenv(scratch: Path) -> None:
    write(
        scratch / "files" / "compose.yaml", "services:\n  web:\n    image: ${IMG}\n    build: .\n"
    )
    write(scratch / "root" / ".env", "IMG=from-root\n")
    loaded = load_project(
        LoadOptions(
            files=("files/compose.yaml",), project_directory="root", working_dir=str(scratch)
        )
    )
    web = loaded.project.services["web"]
    assert web.image == "from-root"
    assert web.build is not None and web.build.context == str(scratch / "root")
    assert loaded.project.name == "root"


def test_shell_wins_over_dotenv_and_explain_shows_sources(scratch: Path) -> None:
    write(scratch / ".env", "# comment\nTAG=1.0\nIMAGE=from-dotenv\nPORT=8080\n")
    write(
        scratch / "compose.yaml",
        """
        services:
          web:
            image: ${IMAGE}:${TAG}
            ports: ["${PORT}:80"]
            user: ${USER_ID:-1000}
            hostname: ${MISSING}
        """,
    )
    loaded = load_project(LoadOptions(working_dir=str(scratch), environ={"IMAGE": "from-shell"}))
    assert loaded.project.services["web"].image == "from-shell:1.0"
    explained = {s.variable: (s.value, s.kind, s.origin, s.location) for s in loaded.substitutions}
    compose_file = str(scratch / "compose.yaml")
    dotenv = str(scratch / ".env")
    assert explained == {
        "IMAGE": ("from-shell", SourceKind.SHELL, None, Location(compose_file, 3)),
        "TAG": ("1.0", SourceKind.DOTENV, Location(dotenv, 2), Location(compose_file, 3)),
        "PORT": ("8080", SourceKind.DOTENV, Location(dotenv, 4), Location(compose_file, 4)),
        "USER_ID": ("1000", SourceKind.DEFAULT, None, Location(compose_file, 5)),
        "MISSING": ("", SourceKind.UNSET, None, Location(compose_file, 6)),
    }
    assert [str(w) for w in loaded.warnings] == [
        f"{compose_file}:6: services.web.hostname: variable MISSING is not set, "
        "using an empty string; set it in the shell or .env"
    ]


def test_env_file_flag_replaces_dotenv(scratch: Path) -> None:
    write(scratch / ".env", "IMG=default\n")
    write(scratch / "one.env", "IMG=one\nOTHER=x\n")
    write(scratch / "two.env", "IMG=two\n")
    write(scratch / "compose.yaml", "services:\n  web: {image: '${IMG}-${OTHER}'}\n")
    loaded = load_project(LoadOptions(working_dir=str(scratch), env_files=("one.env", "two.env")))
    assert loaded.project.services["web"].image == "two-x"
    with pytest.raises(ComposeFileNotFound):
        load_project(LoadOptions(working_dir=str(scratch), env_files=("absent.env",)))


def test_required_variable_error_names_the_file(scratch: Path) -> None:
    write(scratch / "compose.yaml", "services:\n  web:\n    image: ${IMG:?choose an image}\n")
    with pytest.raises(ComposeError) as caught:
        load_project(LoadOptions(working_dir=str(scratch)))
    assert str(caught.value) == (
        f"{scratch}/compose.yaml:3: services.web.image: required variable IMG is missing a "
        "value: choose an image"
    )


def test_invalid_yaml_is_one_line(scratch: Path) -> None:
    write(scratch / "compose.yaml", "services:\n  web:\n    image: 'x\n")
    with pytest.raises(ComposeError, match=rf"^{scratch}/compose.yaml:4: invalid YAML: "):
        load_project(LoadOptions(working_dir=str(scratch)))


def test_env_file_feeds_the_container_not_interpolation(scratch: Path) -> None:
    write(scratch / ".env", "FROM_DOTENV=d\n")
    write(
        scratch / "app.env",
        'A=1\nB="${FROM_DOTENV}-x"\nC=${A}2\nexport D=4\nE=shell-wins-not\nBARE\n',
    )
    write(scratch / "raw.env", "R='${A} kept'\n")
    write(
        scratch / "compose.yaml",
        """
        services:
          web:
            image: x-${A:-no}
            env_file:
              - app.env
              - path: ./optional.env
                required: false
              - path: raw.env
                format: raw
            environment:
              E: set-in-compose
        """,
    )
    loaded = load_project(LoadOptions(working_dir=str(scratch), environ={"BARE": "b"}))
    web = loaded.project.services["web"]
    assert web.image == "x-no"
    assert dict(web.environment) == {
        "A": "1",
        "B": "d-x",
        "C": "12",
        "D": "4",
        "E": "set-in-compose",
        "BARE": "b",
        "R": "'${A} kept'",
    }


def test_missing_env_file(scratch: Path) -> None:
    write(scratch / "compose.yaml", "services:\n  web:\n    image: x\n    env_file: [nope.env]\n")
    with pytest.raises(ComposeFileNotFound) as caught:
        load_project(LoadOptions(working_dir=str(scratch)))
    assert str(caught.value) == (
        f"{scratch}/compose.yaml:4: services.web.env_file[0]: env file {scratch}/nope.env "
        "not found; create it or add required: false"
    )


def test_schema_error_in_an_override_file_names_that_file(scratch: Path) -> None:
    write(scratch / "compose.yaml", "services:\n  web: {image: x}\n")
    write(scratch / "compose.override.yaml", "services:\n  web:\n    portz: [80]\n")
    with pytest.raises(ComposeError, match=r"compose\.override\.yaml:3: services\.web\.portz: "):
        load_project(LoadOptions(working_dir=str(scratch)))


def test_extends_same_file_and_other_file(scratch: Path) -> None:
    write(
        scratch / "common" / "base.yaml",
        """
        services:
          base:
            image: busybox
            env_file: base.env
            volumes: ["./data:/data"]
            environment: {TZ: utc, PORT: "80"}
        """,
    )
    write(scratch / "common" / "base.env", "FROM_BASE=1\n")
    write(
        scratch / "compose.yaml",
        """
        services:
          common:
            extends: {file: common/base.yaml, service: base}
            security_opt: [label:role:ROLE]
          cli:
            extends: common
            security_opt: [label:user:USER]
            environment: {PORT: "8080"}
            command: [sh]
        """,
    )
    cli = load_project(LoadOptions(working_dir=str(scratch))).project.services["cli"]
    assert cli.image == "busybox"
    assert dict(cli.environment) == {"FROM_BASE": "1", "TZ": "utc", "PORT": "8080"}
    assert cli.security_opt == ("label:role:ROLE", "label:user:USER")
    assert cli.volumes[0].source == str(scratch / "common" / "data")
    assert cli.command == ("sh",)


def test_extends_loop_and_unknown_base(scratch: Path) -> None:
    write(
        scratch / "compose.yaml",
        "services:\n  a: {image: x, extends: b}\n  b: {image: x, extends: a}\n",
    )
    with pytest.raises(ComposeError, match="extends loop: a -> b -> a"):
        load_project(LoadOptions(working_dir=str(scratch)))
    write(scratch / "compose.yaml", "services:\n  a: {image: x, extends: nope}\n")
    with pytest.raises(ComposeError, match='extends undefined service "nope"'):
        load_project(LoadOptions(working_dir=str(scratch)))


def test_include_brings_a_sub_project_with_its_own_paths_and_env(scratch: Path) -> None:
    write(scratch / "db" / ".env", "DB_IMAGE=postgres:16\n")
    write(
        scratch / "db" / "compose.yaml",
        """
        services:
          db:
            image: ${DB_IMAGE}
            volumes: ["./init:/docker-entrypoint-initdb.d", "dbdata:/var/lib/db"]
        volumes:
          dbdata: {}
        """,
    )
    write(
        scratch / "compose.yaml",
        """
        include:
          - db/compose.yaml
        services:
          web:
            image: web
            depends_on: [db]
        """,
    )
    p = load_project(LoadOptions(working_dir=str(scratch))).project
    assert list(p.services) == ["web", "db"]
    db = p.services["db"]
    assert db.image == "postgres:16"
    assert db.volumes[0].source == str(scratch / "db" / "init")
    assert p.volumes["dbdata"].name == f"{p.name}_dbdata"


def test_include_conflict_and_missing_file(scratch: Path) -> None:
    write(scratch / "other.yaml", "services:\n  web: {image: b}\n")
    write(scratch / "compose.yaml", "include: [other.yaml]\nservices:\n  web: {image: a}\n")
    with pytest.raises(ComposeError, match='service "web" is defined both here and in an incl'):
        load_project(LoadOptions(working_dir=str(scratch)))
    write(scratch / "compose.yaml", "include: [absent.yaml]\nservices: {}\n")
    with pytest.raises(ComposeFileNotFound, match=r"compose\.yaml:1: include\[0\]: included"):
        load_project(LoadOptions(working_dir=str(scratch)))


def test_compose_profiles_variable(scratch: Path) -> None:
    write(
        scratch / "compose.yaml",
        "services:\n  a: {image: x}\n  b: {image: x, profiles: [dev]}\n",
    )
    loaded = load_project(
        LoadOptions(working_dir=str(scratch), environ={"COMPOSE_PROFILES": "dev"})
    )
    assert list(loaded.project.services) == ["a", "b"]
