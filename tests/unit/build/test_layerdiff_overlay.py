"""layerdiff: overlay's whiteout devices and opaque dirs become OCI whiteout entries."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from dockyard.build.layerdiff import tar_upper

pytestmark = pytest.mark.root


def test_whiteouts_opaque_dirs_and_xattrs(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "etc" / "conf.d").mkdir(parents=True)
    os.mknod(upper / "etc" / "gone", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    os.setxattr(upper / "etc" / "conf.d", "trusted.overlay.opaque", b"y")
    (upper / "etc" / "conf.d" / "new").write_text("n")
    (upper / "cap").write_text("c")
    os.setxattr(upper / "cap", "user.note", b"hi")
    buf = io.BytesIO()
    tar_upper(upper, buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == [
        "cap",
        "etc",
        "etc/conf.d",
        "etc/conf.d/.wh..wh..opq",
        "etc/conf.d/new",
        "etc/.wh.gone",
    ]
    assert members["etc/.wh.gone"].isfile() and members["etc/.wh.gone"].size == 0
    assert members["cap"].pax_headers["SCHILY.xattr.user.note"] == "hi"
    assert not any("trusted.overlay" in k for k in members["etc/conf.d"].pax_headers)
