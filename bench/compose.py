"""Benchmark: `compose up -d` and `compose down -v` of a 5-service busybox stack.

The stack (one network, two named volumes, published ports) runs on the busybox image made
with `dockyard image bootstrap busybox`:

- dockyard:       `dockyard --root R compose -f STACK up -d` / `down -v`;
- podman-compose: `podman-compose -f STACK up -d` / `down -v` with /work/shared/peers/podman-peer
                  as `podman` on PATH (when podman and podman-compose are installed); the same
                  busybox image is loaded into podman with `dockyard save` / `podman load`.

The tools alternate, at least 5 runs each; medians and ratios are printed. Goal (issue 7):
dockyard <= 0.5x podman-compose for `up -d` and for `down`. Run as root:

    .venv/bin/python bench/compose.py [--runs 5]

(`PODMAN_COMPOSE=/path/to/podman-compose` when it is installed in a venv of its own.)
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

SERVICE = """
  {name}:
    image: {image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    ports: ["{port}:80"]
    volumes: [{volume}:/data]
    networks: [net]
"""


def stack(image: str, base_port: int) -> str:
    """Five services on one network, sharing two volumes, each publishing a port."""
    services = "".join(
        SERVICE.format(name=f"s{i}", image=image, port=base_port + i, volume=f"v{i % 2}")
        for i in range(5)
    )
    return f"services:{services}networks:\n  net: {{}}\nvolumes:\n  v0: {{}}\n  v1: {{}}\n"


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds the command took; a failure stops the benchmark with its error."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, env=env
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed: {(proc.stderr or proc.stdout)[-500:]}")
    return took


def podman_env(work: Path) -> dict[str, str] | None:
    """PATH with `podman` = the peer wrapper, or None when podman/podman-compose are missing."""
    compose = (
        os.environ.get("PODMAN_COMPOSE")
        or shutil.which("podman-compose")
        or str(Path(sys.executable).parent / "podman-compose")
    )
    if not (PODMAN_PEER.exists() and shutil.which("podman") and os.path.exists(compose)):
        return None
    bindir = work / "peer-bin"
    bindir.mkdir()
    # The peer wrapper execs `podman` from PATH: it must see the original PATH, not itself.
    shim = bindir / "podman"
    shim.write_text(f'#!/bin/sh\nPATH="{os.environ["PATH"]}" exec {PODMAN_PEER} "$@"\n')
    shim.chmod(0o755)
    (bindir / "podman-compose").symlink_to(compose)
    return dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(5, args.runs)
    with tempfile.TemporaryDirectory(prefix="bench-compose-") as tmp:
        work = Path(tmp)
        root = work / "root"
        run([DOCKYARD, "--root", str(root), "image", "bootstrap", "busybox"])
        ours = work / "dockyard"
        ours.mkdir()
        (ours / "compose.yaml").write_text(stack("busybox:latest", 18100))
        tools: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "dockyard": (
                [DOCKYARD, "--root", str(root), "compose", "-p", "bench", "-f"],
                None,
            ),
        }
        peer_env = podman_env(work)
        if peer_env is not None:
            archive = work / "busybox.tar"
            run([DOCKYARD, "--root", str(root), "save", "-o", str(archive), "busybox:latest"])
            run(["podman", "load", "-i", str(archive)], peer_env)
            theirs = work / "podman"
            theirs.mkdir()
            (theirs / "compose.yaml").write_text(stack("docker.io/library/busybox:latest", 18200))
            tools["podman-compose"] = (["podman-compose", "-p", "bench", "-f"], peer_env)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(runs):
            for tool, (prefix, env) in tools.items():
                file = str(work / ("dockyard" if tool == "dockyard" else "podman") / "compose.yaml")
                up = run([*prefix, file, "up", "-d"], env)
                down = run([*prefix, file, "down", "-v"], env)
                times.setdefault((tool, "up -d"), []).append(up)
                times.setdefault((tool, "down -v"), []).append(down)
        print(f"5 busybox services, 1 network, 2 volumes, 5 published ports; {runs} runs each")
        medians = {key: statistics.median(values) for key, values in times.items()}
        for (tool, step), median in medians.items():
            values = times[(tool, step)]
            print(f"{tool:<15} {step:<8} median {median:.3f}s  (min {min(values):.3f}s)")
        if peer_env is None:
            print(
                "podman-compose: not installed (apt-get install podman runc; pip install "
                "podman-compose) — skipped"
            )
            return
        for step in ("up -d", "down -v"):
            ratio = medians[("dockyard", step)] / medians[("podman-compose", step)]
            print(f"dockyard / podman-compose {step}: {ratio:.2f}x (goal <= 0.5x)")


if __name__ == "__main__":
    main()
