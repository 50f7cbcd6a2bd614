"""Layer unpacking on the real file system: metadata, whiteouts, hostile tars, compression."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.storage.decompress import Compression, LayerReader
from dockyard.storage.unpack import clean_name, unpack
from dockyard.testing.snapshotter_suite import Entry, compress, d, f, hard, make_tar, sym
from dockyard.testing.snapshotter_suite import tar_diff_id as diff_id

# Tests that create root-owned files, devices or trusted.* xattrs need root; the rest do not.


def _unpack(dest: Path, entries: list[Entry], **kw: object) -> Path:
    dest.mkdir()
    raw = make_tar(entries)
    unpack(io.BytesIO(raw), dest, expected_diff_id=diff_id(raw), **kw)  # type: ignore[arg-type]
    return dest


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.root
@pytest.mark.parametrize("how", ["none", "gzip", "zstd"])
def test_regular_tree_with_metadata(scratch: Path, how: str) -> None:
    entries = [
        d("etc", 0o755),
        f("etc/passwd", b"root:x:0:0\n", mode=0o644),
        f("etc/shadow", b"secret", 0o640, 0, 42),
        f("usr/bin/su", b"\x7fELF", mode=0o4755),  # parent dirs missing from the tar
        d("home/user", 0o750, 1000, 1000),
        f("home/user/.profile", b"x" * 3_000_000, 0o600, 1000, 1000),
        sym("bin", "usr/bin"),
        hard("etc/passwd-", "etc/passwd"),
        f("cap", b"", xattrs={"user.note": "hi", "trusted.overlay.redirect": "/evil"}),
        Entry("fifo", tarfile.FIFOTYPE, mode=0o600),
    ]
    raw = make_tar(entries)
    dest = scratch / "l"
    dest.mkdir()
    result = unpack(io.BytesIO(compress(raw, how)), dest, expected_diff_id=diff_id(raw))
    assert result.diff_id == diff_id(raw)
    assert result.compression == Compression(how)
    assert result.size == 11 + 6 + 4 + 3_000_000

    assert (dest / "etc/passwd").read_bytes() == b"root:x:0:0\n"
    shadow = os.lstat(dest / "etc/shadow")
    assert (stat.S_IMODE(shadow.st_mode), shadow.st_uid, shadow.st_gid) == (0o640, 0, 42)
    assert stat.S_IMODE(os.lstat(dest / "usr/bin/su").st_mode) == 0o4755
    assert stat.S_IMODE(os.lstat(dest / "usr").st_mode) == 0o755
    home = os.lstat(dest / "home/user")
    assert (stat.S_IMODE(home.st_mode), home.st_uid, home.st_gid) == (0o750, 1000, 1000)
    assert home.st_mtime == 1_600_000_000  # set after its children were written
    prof = os.lstat(dest / "home/user/.profile")
    assert (prof.st_size, prof.st_uid, stat.S_IMODE(prof.st_mode)) == (3_000_000, 1000, 0o600)
    assert prof.st_mtime == 1_600_000_000
    assert os.readlink(dest / "bin") == "usr/bin"
    assert os.lstat(dest / "etc/passwd-").st_ino == os.lstat(dest / "etc/passwd").st_ino
    assert os.getxattr(dest / "cap", "user.note") == b"hi"
    assert "trusted.overlay.redirect" not in os.listxattr(dest / "cap")
    assert stat.S_ISFIFO(os.lstat(dest / "fifo").st_mode)


@pytest.mark.root
def test_whiteouts_become_overlay_form(scratch: Path) -> None:
    dest = _unpack(
        scratch / "l",
        [
            d("a"),
            f("a/.wh.gone"),
            d("opaque"),
            f("opaque/.wh..wh..opq"),
            f("opaque/kept", b"1"),
            f(".wh..wh.plnk"),
        ],
    )
    gone = os.lstat(dest / "a/gone")
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert os.getxattr(dest / "opaque", "trusted.overlay.opaque") == b"y"
    assert _tree(dest) == ["a", "a/gone", "opaque", "opaque/kept"]


@pytest.mark.root
def test_later_entry_replaces_earlier(scratch: Path) -> None:
    dest = _unpack(
        scratch / "l",
        [
            f("x", b"old"),
            f("x", b"new"),
            d("dir"),
            f("dir/f"),
            f("dir", b"now a file"),
            sym("s", "a"),
        ],
    )
    assert (dest / "x").read_bytes() == b"new"
    assert (dest / "dir").read_bytes() == b"now a file"


@pytest.mark.root
@pytest.mark.parametrize(
    "entries",
    [
        [f("../x", b"evil")],
        [f("a/../../x", b"evil")],
        [sym("link", "/"), f("link/x", b"evil")],
        [sym("link", "../../.."), d("link/sub")],
        [d("dir"), sym("dir/up", "../.."), f("dir/up/x", b"evil")],
        [hard("h", "../../outside")],
        [hard("h", "/etc/passwd")],  # contained: the layer has no etc/passwd
        [sym("s", "/etc/passwd"), hard("h", "s/x")],
        [Entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)],
        [f("a/.wh..."), f("x")],
    ],
    ids=[
        "dotdot", "nested-dotdot", "symlink-then-write", "symlink-then-mkdir",
        "nested-symlink", "hardlink-outside", "hardlink-absolute", "hardlink-through-symlink",
        "device", "bad-whiteout",
    ],
)  # fmt: skip
def test_hostile_entries_are_rejected_and_nothing_escapes(
    scratch: Path, entries: list[Entry]
) -> None:
    dest = scratch / "deep" / "er" / "layer"
    dest.mkdir(parents=True)
    before = _tree(scratch)
    raw = make_tar(entries)
    with pytest.raises(InvalidArgument, match="layer"):
        unpack(io.BytesIO(raw), dest)
    after = [p for p in _tree(scratch) if not p.startswith("deep/er/layer/")]
    assert after == before
    assert not os.path.exists("/etc/passwd/x")


@pytest.mark.root
def test_absolute_names_are_contained(scratch: Path) -> None:
    dest = _unpack(scratch / "l", [f("/etc/x", b"in"), f("./y", b"y")])
    assert (dest / "etc/x").read_bytes() == b"in"
    assert _tree(dest) == ["etc", "etc/x", "y"]


@pytest.mark.root
def test_devices_when_allowed(scratch: Path) -> None:
    dest = _unpack(
        scratch / "l",
        [Entry("null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)],
        allow_devices=True,
    )
    st = os.lstat(dest / "null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(st.st_mode) == 0o666


@pytest.mark.root
def test_diff_id_mismatch_is_an_error(scratch: Path) -> None:
    raw = make_tar([f("x", b"1")])
    (scratch / "l").mkdir()
    with pytest.raises(InvalidArgument, match="expected sha256:0+, got " + diff_id(raw)):
        unpack(io.BytesIO(raw), scratch / "l", expected_diff_id="sha256:" + "0" * 64)


@pytest.mark.root
@pytest.mark.parametrize("how", ["gzip", "zstd", "none"])
def test_truncated_or_corrupt_stream_is_an_error(scratch: Path, how: str) -> None:
    raw = make_tar([f("x", os.urandom(200_000))])
    blob = compress(raw, how)
    (scratch / "l").mkdir()
    with pytest.raises(InvalidArgument):
        unpack(io.BytesIO(blob[: len(blob) // 2]), scratch / "l", expected_diff_id=diff_id(raw))


def test_not_a_tar(scratch: Path) -> None:
    (scratch / "l").mkdir()
    with pytest.raises(InvalidArgument, match="not a valid tar"):
        unpack(io.BytesIO(b"garbage" * 200), scratch / "l")


def test_clean_name() -> None:
    assert clean_name("./a//b/./c/") == "a/b/c"
    assert clean_name("/abs/x") == "abs/x"
    assert clean_name("a/../b") == "b"
    assert clean_name("./") == ""
    with pytest.raises(InvalidArgument):
        clean_name("a/../../b")


def test_layer_reader_hashes_everything_including_padding() -> None:
    raw = make_tar([f("x", b"1")]) + b"\0" * 10240
    for how in ("none", "gzip", "zstd"):
        reader = LayerReader(io.BytesIO(compress(raw, how)))
        assert reader.read(100) == raw[:100]
        reader.drain()
        assert reader.diff_id() == diff_id(raw)
        assert reader.size == len(raw)


def test_multi_member_gzip() -> None:
    raw = make_tar([f("x", b"1" * 5000)])
    blob = compress(raw[:3000], "gzip") + compress(raw[3000:], "gzip")
    assert LayerReader(io.BytesIO(blob)).read(-1) == raw


def test_reader_thread_ends_when_unpack_fails_early(scratch: Path) -> None:
    import threading

    raw = make_tar([f("../evil", b"x"), f("big", os.urandom(1 << 20))] * 20)
    (scratch / "l").mkdir()
    before = threading.active_count()
    with pytest.raises(InvalidArgument):
        unpack(io.BytesIO(compress(raw, "gzip")), scratch / "l")
    assert threading.active_count() == before


def test_source_errors_reach_the_caller(scratch: Path) -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("registry went away")
            return make_tar([f("x", b"1" * 4096)])[:2048]

    (scratch / "l").mkdir()
    with pytest.raises(ConnectionResetError):
        unpack(Broken(), scratch / "l")  # type: ignore[arg-type]


def _summary(root: Path) -> dict[str, tuple[int, int, int, int, int, str]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        extra = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
        if stat.S_ISREG(st.st_mode):
            extra = str(hash(path.read_bytes()))
        mode = 0 if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)
        mtime = 0 if stat.S_ISDIR(st.st_mode) else int(st.st_mtime)
        out[str(path.relative_to(root))] = (
            stat.S_IFMT(st.st_mode),
            mode,
            st.st_uid,
            st.st_gid,
            mtime,
            extra,
        )
    return out


@pytest.mark.root
def test_busybox_rootfs_matches_gnu_tar(busybox_template: Path, scratch: Path) -> None:
    import subprocess

    blob = scratch / "layer.tar.gz"
    subprocess.run(
        ["tar", "--numeric-owner", "-C", str(busybox_template), "-czf", str(blob), "."],
        check=True,
    )
    (scratch / "gnu").mkdir()
    subprocess.run(["tar", "-xpzf", str(blob), "-C", str(scratch / "gnu")], check=True)
    (scratch / "ours").mkdir()
    with blob.open("rb") as src:
        unpack(src, scratch / "ours")
    assert _summary(scratch / "ours") == _summary(scratch / "gnu")


@pytest.mark.root
def test_many_directories_under_a_low_fd_limit(scratch: Path) -> None:
    import resource

    entries = [e for i in range(600) for e in (d(f"d{i % 7}/sub{i}"), f(f"d{i % 7}/sub{i}/f"))]
    raw = make_tar(entries)
    (scratch / "l").mkdir()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
            unpack(io.BytesIO(raw), scratch / "l", expected_diff_id=diff_id(raw))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(list((scratch / "l").rglob("f"))) == 600
    assert (scratch / "l/d3/sub3").stat().st_mtime == 1_600_000_000


@pytest.mark.root
@pytest.mark.parametrize("workers", [1, 4])
def test_pooled_writes_keep_tar_order(scratch: Path, workers: int) -> None:
    # Each later entry depends on a file an earlier one may still be writing on a worker.
    payload = os.urandom(300_000)
    entries = [f(f"bulk/{i}", payload) for i in range(40)]
    entries += [
        f("x", payload),
        hard("x-link", "x"),
        f("replaced", b"old" * 1000),
        f("replaced", b"new"),
        f("dir/inner", payload),
        f("dir/.wh.inner"),
        f("gone/file", payload),
        f(".wh.gone"),
        f("bulk2/a", payload),
        d("bulk2", 0o700),
    ]
    raw = make_tar(entries)
    dest = scratch / "l"
    dest.mkdir()
    unpack(io.BytesIO(raw), dest, expected_diff_id=diff_id(raw), workers=workers)
    assert all((dest / f"bulk/{i}").read_bytes() == payload for i in range(40))
    assert os.lstat(dest / "x-link").st_ino == os.lstat(dest / "x").st_ino
    assert (dest / "x-link").read_bytes() == payload
    assert (dest / "replaced").read_bytes() == b"new"
    assert stat.S_ISCHR(os.lstat(dest / "dir/inner").st_mode)
    assert stat.S_ISCHR(os.lstat(dest / "gone").st_mode)
    assert (dest / "bulk2/a").read_bytes() == payload
    assert stat.S_IMODE(os.lstat(dest / "bulk2").st_mode) == 0o700


@pytest.mark.root
@pytest.mark.parametrize("workers", [1, 4])
def test_path_through_a_file_is_rejected_with_any_pool(scratch: Path, workers: int) -> None:
    raw = make_tar([f("a", b"file"), f("a/b", b"evil")])
    (scratch / "l").mkdir()
    with pytest.raises(InvalidArgument, match="non-directory"):
        unpack(io.BytesIO(raw), scratch / "l", workers=workers)
    assert (scratch / "l/a").read_bytes() == b"file"
