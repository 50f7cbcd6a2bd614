"""Base images made offline from the host's packages: busybox from `busybox-static`, Debian from
`mmdebstrap`. Same inputs and SOURCE_DATE_EPOCH give the same image digest."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from dockyard.errors import InvalidArgument, Unavailable
from dockyard.image.importer import import_tarball
from dockyard.image.store import ImageRecord, ImageStore

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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


def _epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "0")
    return int(value) if value.isdigit() else 0


def write_deterministic_tar(root: Path, out: Path) -> None:
    """A tar of `root` with sorted entries and every mtime set to SOURCE_DATE_EPOCH (or 0)."""
    mtime = _epoch()

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = mtime
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                arcname = os.path.normpath(os.path.join(rel_dir, name))
                tar.add(full, arcname=arcname, recursive=False, filter=normalise)


def bootstrap_busybox(store: ImageStore, tag: str = "busybox:latest") -> ImageRecord:
    """The busybox image from the host's busybox-static."""
    with tempfile.TemporaryDirectory(prefix="bootstrap-", dir=store.scratch_dir()) as tmp:
        rootfs = make_busybox_rootfs(Path(tmp) / "rootfs")
        tarball = Path(tmp) / "rootfs.tar"
        write_deterministic_tar(rootfs, tarball)
        return import_tarball(
            store,
            tarball,
            tags=(tag,),
            config={"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": ["sh"]},
            comment="dockyard image bootstrap busybox",
        )


def bootstrap_debian(
    store: ImageStore, suite: str = "bookworm", include: tuple[str, ...] = (), tag: str = ""
) -> ImageRecord:
    """A Debian image made by mmdebstrap (minbase) from Debian's mirror."""
    if shutil.which("mmdebstrap") is None:
        raise Unavailable("mmdebstrap not found: install it with `apt-get install mmdebstrap`")
    if not suite.isalnum():
        raise InvalidArgument(f"invalid Debian suite {suite!r}")
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(_epoch()))
    with tempfile.TemporaryDirectory(prefix="bootstrap-", dir=store.scratch_dir()) as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        # Device nodes in /dev are the runtime's to make (and unpacking refuses them).
        cmd = ["mmdebstrap", "--variant=minbase", "--quiet", "--skip=output/dev"]
        if include:
            cmd.append("--include=" + ",".join(include))
        cmd += [suite, str(tarball)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            raise Unavailable(f"mmdebstrap {suite}: {last}")
        return import_tarball(
            store,
            tarball,
            tags=(tag or f"debian:{suite}",),
            config={"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": ["bash"]},
            comment=f"dockyard image bootstrap debian:{suite}",
        )
