"""RUN --mount: bind, cache, tmpfs, secret (BuildKit semantics) on real RUN containers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.build.conftest import write
from tests.e2e.cli.conftest import Dockyard

pytestmark = pytest.mark.root


def _files(dy: Dockyard, image: str, *paths: str) -> list[str]:
    """Which of `paths` exist in the image (run with `ls -d`)."""
    out = dy("run", "--rm", "--network", "none", image, "sh", "-c",
             " ".join(f"[ -e {p} ] && echo {p};" for p in paths))  # fmt: skip
    return out.stdout.split()


def _layer_paths(dy: Dockyard, scratch: Path, image: str) -> list[str]:
    """Every path in the image's last layer (from `save`)."""
    archive = scratch / f"{image.replace(':', '_')}.tar"
    dy("save", "-o", str(archive), image, check=True)
    out = scratch / "unpacked"
    out.mkdir(exist_ok=True)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(out)], check=True)
    manifest = json.loads((out / "manifest.json").read_text())
    last = manifest[0]["Layers"][-1]
    listing = subprocess.run(
        ["tar", "-tf", str(out / last)], capture_output=True, text=True, check=True
    )
    return listing.stdout.split()


def _no_mounts_left(root: Path) -> None:
    with open("/proc/self/mountinfo") as f:
        assert str(root) not in f.read()


def test_bind_mount_from_the_context_is_read_only_and_not_in_the_layer(
    dy: Dockyard, ctx: Path, scratch: Path
) -> None:
    write(
        ctx,
        {
            "src/data.txt": "from the context\n",
            "Dockerfile": "FROM busybox\n"
            "RUN --mount=target=/mnt/src,source=src cat /mnt/src/data.txt > /out.txt"
            " && ! touch /mnt/src/new 2>/dev/null\n"
            "RUN --mount=type=bind,source=src,target=/srv/rw,rw "
            "echo scribble > /srv/rw/data.txt && cat /srv/rw/data.txt > /rw.txt\n",
        },
    )
    done = dy("build", "-t", "bind:1", str(ctx))
    assert done.returncode == 0, done.stdout + done.stderr
    out = dy("run", "--rm", "bind:1", "cat", "/out.txt", "/rw.txt")
    assert out.stdout == "from the context\nscribble\n"
    assert (ctx / "src/data.txt").read_text() == "from the context\n"  # rw writes discarded
    assert _files(dy, "bind:1", "/mnt", "/mnt/src", "/srv", "/srv/rw") == []
    assert _layer_paths(dy, scratch, "bind:1") == ["rw.txt"]
    # The cache key includes what the bind reads: a change reruns the step.
    again = dy("build", str(ctx))
    assert again.stdout.count("Using cache") == 2
    (ctx / "src/data.txt").write_text("changed\n")
    changed = dy("build", "-t", "bind:2", str(ctx))
    assert "Using cache" not in changed.stdout
    assert dy("run", "--rm", "bind:2", "cat", "/out.txt").stdout == "changed\n"
    _no_mounts_left(dy.root)


def test_bind_mount_from_a_stage(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {
            "Dockerfile": "FROM busybox AS tools\nRUN mkdir /opt && echo built > /opt/artifact\n"
            "FROM busybox\n"
            "RUN --mount=from=tools,source=/opt,target=/tools cp /tools/artifact /artifact\n"
        },
    )
    done = dy("build", "-t", "from:1", str(ctx))
    assert done.returncode == 0, done.stdout + done.stderr
    assert dy("run", "--rm", "from:1", "cat", "/artifact").stdout == "built\n"
    assert _files(dy, "from:1", "/tools", "/opt") == []


def test_bind_source_outside_the_context_is_refused(dy: Dockyard, ctx: Path) -> None:
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=source=../etc,target=/x true\n"})
    done = dy("build", str(ctx))
    assert done.returncode == 125
    assert done.stderr.count("\n") == 1
    assert "Dockerfile:2:" in done.stderr and "outside the build context" in done.stderr
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=source=absent,target=/x true\n"})
    missing = dy("build", str(ctx))
    assert missing.returncode == 125
    assert "Dockerfile:2:" in missing.stderr and "absent" in missing.stderr


def test_cache_mount_persists_between_builds_and_stays_out_of_the_layer(
    dy: Dockyard, ctx: Path, scratch: Path
) -> None:
    dockerfile = (
        "FROM busybox\nARG RUNNO\n"
        "RUN --mount=type=cache,target=/var/cache/app,uid=1000,mode=0750 "
        "echo $RUNNO >> /var/cache/app/log && cat /var/cache/app/log > /seen"
        " && stat -c '%u %a' /var/cache/app >> /seen\n"
    )
    write(ctx, {"Dockerfile": dockerfile})
    dy("build", "-t", "cache:1", "--build-arg", "RUNNO=1", str(ctx), check=True)
    dy("build", "-t", "cache:2", "--build-arg", "RUNNO=2", str(ctx), check=True)
    assert dy("run", "--rm", "cache:2", "cat", "/seen").stdout == "1\n2\n1000 750\n"
    assert _files(dy, "cache:2", "/var/cache/app") == []
    assert _layer_paths(dy, scratch, "cache:2") == ["seen"]
    # `builder prune -a` deletes the cache mount, as Docker's.
    dy("builder", "prune", "-a", "-f", check=True)
    dy("build", "-t", "cache:3", "--build-arg", "RUNNO=3", str(ctx), check=True)
    assert dy("run", "--rm", "cache:3", "cat", "/seen").stdout == "3\n1000 750\n"


def test_tmpfs_mount(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {
            "Dockerfile": "FROM busybox\n"
            "RUN --mount=type=tmpfs,target=/scratch,size=1m "
            "grep ' /scratch tmpfs ' /proc/mounts | grep -o size=1024k > /found"
            " && echo junk > /scratch/junk\n"
        },
    )
    done = dy("build", "-t", "tmpfs:1", str(ctx))
    assert done.returncode == 0, done.stdout + done.stderr
    assert dy("run", "--rm", "tmpfs:1", "cat", "/found").stdout == "size=1024k\n"
    assert _files(dy, "tmpfs:1", "/scratch") == []


def test_secret_mount_is_readable_in_run_and_nowhere_else(
    dy: Dockyard, ctx: Path, scratch: Path
) -> None:
    secret = scratch / "token.txt"
    secret.write_text("s3cr3t-value")
    write(
        ctx,
        {
            "Dockerfile": "FROM busybox\n"
            "RUN --mount=type=secret,id=token "
            "sha256sum /run/secrets/token | cut -c1-64 > /checked\n"
            "RUN --mount=type=secret,id=envtok,target=/etc/tok,required=true "
            "cat /etc/tok > /env-copy-proves-it-works\n"
        },
    )
    done = subprocess.run(
        [*_cli(dy), "build", "-t", "secret:1", "--secret", f"id=token,src={secret}",
         "--secret", "id=envtok,env=TOKEN_VAR", str(ctx)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "TOKEN_VAR": "from-env", "DOCKYARD_CGROUP_PARENT": dy.cgroup_parent},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    digest = hashlib.sha256(b"s3cr3t-value").hexdigest()
    assert dy("run", "--rm", "secret:1", "cat", "/checked").stdout == digest + "\n"
    assert _files(dy, "secret:1", "/run/secrets", "/etc/tok") == []
    archive = scratch / "secret.tar"
    dy("save", "-o", str(archive), "secret:1", check=True)
    assert b"s3cr3t-value" not in archive.read_bytes()
    history = json.dumps(dy.json("image", "inspect", "secret:1"))
    assert "s3cr3t-value" not in history
    cached = dy("build", "--secret", f"id=token,src={secret}", "--secret", "id=envtok,env=PATH",
                str(ctx))  # fmt: skip
    assert cached.stdout.count("Using cache") == 2, cached.stdout + cached.stderr


def test_missing_required_secret_and_ssh_are_clear_errors(dy: Dockyard, ctx: Path) -> None:
    write(
        ctx,
        {"Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=tok,required=true true\n"},
    )
    done = dy("build", str(ctx))
    assert done.returncode == 125
    assert done.stderr.count("\n") == 1
    assert "Dockerfile:2:" in done.stderr and "--secret id=tok" in done.stderr
    write(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=type=ssh true\n"})
    ssh = dy("build", str(ctx))
    assert ssh.returncode == 125
    assert "Dockerfile:2:" in ssh.stderr and "ssh is not supported" in ssh.stderr
    # An optional secret that is not given is simply absent.
    optional = "RUN --mount=type=secret,id=tok ! test -e /run/secrets/tok\n"
    write(ctx, {"Dockerfile": "FROM busybox\n" + optional})
    assert dy("build", str(ctx)).returncode == 0


def test_failing_run_with_mounts_leaves_nothing_behind(
    dy: Dockyard, ctx: Path, scratch: Path
) -> None:
    secret = scratch / "s"
    secret.write_text("x")
    write(
        ctx,
        {
            "src/f": "f",
            "Dockerfile": "FROM busybox AS other\nFROM busybox\n"
            "RUN --mount=source=src,target=/a --mount=type=cache,target=/c "
            "--mount=type=tmpfs,target=/t --mount=type=secret,id=s "
            "--mount=from=other,target=/o exit 7\n",
        },
    )
    done = dy("build", "--secret", f"id=s,src={secret}", str(ctx))
    assert done.returncode == 1
    assert "returned a non-zero code: 7" in done.stderr
    _no_mounts_left(dy.root)
    build_dir = dy.root / "build"
    assert sorted(p.name for p in build_dir.iterdir()) == ["cache-mounts"]
    assert dy("ps", "-aq").stdout == ""


def _cli(dy: Dockyard) -> list[str]:
    from tests.e2e.cli.conftest import DOCKYARD

    return [DOCKYARD, "--root", str(dy.root)]
