"""Build a busybox root file system from the host's `busybox-static`, for tests and bootstrap."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dockyard.errors import Unavailable

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    "user:x:1000:1000:user:/home/user:/bin/sh\n"
)
GROUP = "root:x:0:\ndaemon:x:1:\nusers:x:100:user\nuser:x:1000:\nnogroup:x:65534:\n"


def find_busybox() -> Path:
    """Path of a statically linked busybox on this host, or `Unavailable`."""
    for cand in BUSYBOX_CANDIDATES:
        path = Path(cand)
        if path.is_file():
            return path
    raise Unavailable("busybox not found: install it with `apt-get install busybox-static`")


def make_busybox_rootfs(dest: Path) -> Path:
    """Populate `dest` with busybox, one symlink per applet, and minimal /etc files."""
    busybox = find_busybox()
    for sub in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user", "var", "run"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    shutil.copy2(busybox, dest / "bin" / "busybox")
    applets = subprocess.run(
        [str(busybox), "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    for applet in applets:
        link = dest / "bin" / applet
        if applet != "busybox" and not link.exists():
            link.symlink_to("busybox")
    (dest / "etc" / "passwd").write_text(PASSWD)
    (dest / "etc" / "group").write_text(GROUP)
    os.chown(dest / "home" / "user", 1000, 1000)
    return dest
