"""Build a busybox root file system from the host's `busybox-static` (tests use it directly)."""

from __future__ import annotations

from dockyard.image.bootstrap import find_busybox, make_busybox_rootfs

__all__ = ["find_busybox", "make_busybox_rootfs"]
