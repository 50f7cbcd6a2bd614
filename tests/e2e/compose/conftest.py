"""The `dockyard` CLI fixture (a private root with busybox) for compose tests."""

from tests.e2e.cli.conftest import dockyard, image_root

__all__ = ["dockyard", "image_root"]
