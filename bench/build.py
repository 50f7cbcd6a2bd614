"""Benchmark: `dockyard build` of a 10-step Dockerfile on busybox, cold and fully cached,
against `podman build` (buildah) of the same context through /work/shared/peers/podman-peer.

The context holds a 2000-file tree (20 dirs x 100 small files) that one step COPYs; the
other steps are RUN, ENV, WORKDIR, ARG, LABEL, EXPOSE, CMD. Cold = `--no-cache`; cached = the
same build again with nothing changed. Both tools use host networking for RUN (dockyard's
`default` is host until the bridge lands). Runs alternate, at least 5 each; medians and
ratios are printed. Goal (issue 6): cold <= 1.0x podman, cached <= 0.5x podman. As root:

    .venv/bin/python bench/build.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
PODMAN_PEER = Path("/work/shared/peers/podman-peer")

DOCKERFILE = """\
FROM busybox
ENV APP=/app MODE=bench
WORKDIR /app
RUN echo one > /one.txt
COPY tree/ /app/tree/
RUN find /app/tree -type f | wc -l > /count.txt
ARG V=1
LABEL bench=yes
RUN rm -rf /app/tree/d00
EXPOSE 8080
CMD ["cat", "/count.txt"]
"""


def run(cmd: list[str], **env: str) -> str:
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
        env=dict(os.environ, **env),
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed: {(proc.stderr or proc.stdout)[-800:]}")
    return proc.stdout


def make_context(path: Path) -> None:
    """The Dockerfile and a 2000-file tree."""
    for d in range(20):
        directory = path / "tree" / f"d{d:02d}"
        directory.mkdir(parents=True)
        for f in range(100):
            (directory / f"f{f:03d}.txt").write_text(f"file {d} {f}\n" * 4)
    (path / "Dockerfile").write_text(DOCKERFILE)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    run(cmd)
    return time.perf_counter() - start


def podman_ready(root: Path) -> bool:
    """Load dockyard's busybox into podman's store under the name FROM busybox resolves to."""
    if not PODMAN_PEER.exists() or shutil.which("podman") is None:
        return False
    archive = root.parent / "busybox.tar"
    run([DOCKYARD, "--root", str(root), "save", "-o", str(archive), "busybox:latest"])
    run([str(PODMAN_PEER), "load", "-i", str(archive)])
    run([str(PODMAN_PEER), "tag", "busybox:latest", "docker.io/library/busybox:latest"])
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(args.runs, 5)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        base = Path(tmp)
        root = base / "root"
        run([DOCKYARD, "--root", str(root), "image", "bootstrap", "busybox"])
        context = base / "ctx"
        make_context(context)
        dockyard = [DOCKYARD, "--root", str(root), "build", "-q", "-t", "bench:1"]
        podman = [str(PODMAN_PEER), "build", "-q", "--pull=never", "--network=host"]
        podman += ["--layers", "-t", "bench:1"]
        tools = {"dockyard": dockyard}
        if podman_ready(root):
            tools["podman"] = podman
        else:
            print("podman-peer or podman missing: dockyard only")
        cold: dict[str, list[float]] = {t: [] for t in tools}
        cached: dict[str, list[float]] = {t: [] for t in tools}
        for _ in range(runs):
            for name, cmd in tools.items():
                cold[name].append(timed([*cmd, "--no-cache", str(context)]))
                cached[name].append(timed([*cmd, str(context)]))
        print(f"{runs} runs each, medians (s):")
        for label, data in (("cold", cold), ("cached", cached)):
            medians = {name: statistics.median(times) for name, times in data.items()}
            line = "  ".join(f"{name} {value:.3f}" for name, value in medians.items())
            if "podman" in medians:
                line += f"  ratio dockyard/podman {medians['dockyard'] / medians['podman']:.2f}x"
            print(f"{label:>7}: {line}")
        if "podman" in tools:
            subprocess.run(
                [str(PODMAN_PEER), "rmi", "-f", "bench:1"], check=False, capture_output=True
            )


if __name__ == "__main__":
    main()
