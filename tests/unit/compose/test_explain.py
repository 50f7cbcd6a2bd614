"""`config --explain` rows from a real load."""

from __future__ import annotations

from pathlib import Path

from dockyard.compose.explain import explain, format_explanations
from dockyard.compose.loader import LoadOptions, load_project


def test_every_value_names_its_source(scratch: Path) -> None:
    (scratch / ".env").write_text("# pinned\nTAG=1.36\n")
    (scratch / "compose.yaml").write_text(
        "services:\n  web:\n    image: ${IMAGE}:${TAG}\n    user: ${UID:-1000}\n"
        "    hostname: ${HOST}\n    working_dir: ${TAG:+/srv}\n"
    )
    loaded = load_project(LoadOptions(working_dir=str(scratch), environ={"IMAGE": "busybox"}))
    rows = explain(loaded.substitutions, loaded.project.working_dir)
    assert [(r.where, r.path, r.variable, r.value, r.source) for r in rows] == [
        ("compose.yaml:3", "services.web.image", "IMAGE", "busybox", "shell environment"),
        ("compose.yaml:3", "services.web.image", "TAG", "1.36", ".env:2"),
        ("compose.yaml:4", "services.web.user", "UID", "1000", "default in the compose file"),
        ("compose.yaml:5", "services.web.hostname", "HOST", "", "not set: empty string"),
        (
            "compose.yaml:6",
            "services.web.working_dir",
            "TAG",
            "/srv",
            "alternate value (${VAR:+…}), the variable is set",
        ),
    ]
    text = format_explanations(rows)
    assert text.splitlines()[1] == (
        "compose.yaml:3  services.web.image        TAG=1.36       <- .env:2"
    )
    assert format_explanations([]) == ""
