"""Schema validation: violations name file, line and key path; warnings for what we skip."""

from __future__ import annotations

import pytest

from dockyard.compose.errors import ComposeError
from dockyard.compose.schema import validate, warnings_for
from dockyard.compose.source import parse_yaml
from dockyard.compose.tree import tree_of


def check(text: str) -> list[str]:
    tree = tree_of(parse_yaml(text, "compose.yaml"))
    validate(tree)
    return [str(w) for w in warnings_for(tree)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "services:\n  web:\n    image: x\n    imgae: y\n",
            'compose.yaml:4: services.web.imgae: unknown key "imgae"',
        ),
        (
            "services:\n  web:\n    image: [x]\n",
            "compose.yaml:3: services.web.image: must be a string, not a sequence",
        ),
        (
            "services:\n  web:\n    depends_on:\n      db:\n        condition: soon\n",
            'compose.yaml:5: services.web.depends_on.db.condition: invalid value "soon"; '
            "use one of service_started, service_healthy, service_completed_successfully",
        ),
        (
            "services:\n  web:\n    depends_on:\n      db: {restart: true}\n",
            'compose.yaml:4: services.web.depends_on.db: "condition" is required',
        ),
        (
            "services:\n  web/1:\n    image: x\n",
            'compose.yaml:2: services.web/1: invalid name "web/1"',
        ),
        ("servics:\n  web: {}\n", 'compose.yaml:1: servics: unknown key "servics"'),
        (
            "services:\n  web:\n    cap_add: [A, A]\n",
            "compose.yaml:3: services.web.cap_add: contains duplicate entries",
        ),
        ("services: []\n", "compose.yaml:1: services: must be a mapping, not a sequence"),
        (
            "services:\n  web:\n    volumes:\n      - type: bind\n        source: /a\n"
            "        target: /b\n        mode: ro\n",
            'compose.yaml:7: services.web.volumes\\[0\\].mode: unknown key "mode"',
        ),
    ],
)
def test_violations(text: str, message: str) -> None:
    with pytest.raises(ComposeError, match=message):
        check(text)


def test_valid_file_without_warnings() -> None:
    assert check("services:\n  web:\n    image: x\n    x-custom: 1\nx-anchors: {}\n") == []


def test_obsolete_version_warns() -> None:
    assert check("version: '3.8'\nservices: {}\n") == [
        'compose.yaml:1: version: the top-level "version" is obsolete and ignored; remove it'
    ]


def test_unsupported_keys_are_listed_never_ignored_silently() -> None:
    assert check(
        "services:\n  web:\n    image: x\n    ipc: host\n    pid: host\n"
        "    build:\n      context: .\n      ssh: [default]\n"
        "    deploy:\n      placement: {}\nnetworks:\n  n: {attachable: true}\n"
    ) == [
        "compose.yaml:4: services.web: not supported by dockyard, ignored: ipc, pid",
        "compose.yaml:8: services.web.build: not supported by dockyard, ignored: ssh",
        "compose.yaml:10: services.web.deploy: not supported by dockyard, ignored: placement",
        "compose.yaml:12: networks.n: not supported by dockyard, ignored: attachable",
    ]
