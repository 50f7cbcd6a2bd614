"""Benchmark: `dockyard run --rm --network none busybox true` against podman's, and `exec` latency.

Both engines get the same busybox root file system: dockyard bootstraps it, exports it, and
podman (through /work/shared/peers/podman-peer, runc and cgroupfs, in its own root) imports the
tarball. Runs alternate, at least 20 each; medians and the ratio dockyard/podman are printed
(goal, issue 4: at most 0.5x podman's run). A missing peer is skipped. Run as root:

    .venv/bin/python bench/run.py [--runs 20]
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
from collections.abc import Callable
from pathlib import Path

PEER = Path("/work/shared/peers/podman-peer")
IMAGE_PODMAN = "localhost/busybox:bench"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}… failed: {proc.stderr.decode().strip()}")
    return elapsed


class Engine:
    """One engine under test: how to call it, and where its state lives."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], image: str) -> None:
        self.name, self.argv, self.env, self.image = name, argv, env, image

    def __call__(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            [*self.argv, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=self.env,
            check=False,
        )
        if check and proc.returncode != 0:
            raise SystemExit(f"{self.name} {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode().strip()

    def time(self, *args: str) -> float:
        return timed([*self.argv, *args], self.env)


def setup(base: Path) -> list[Engine]:
    dockyard_bin = str(Path(sys.executable).parent / "dockyard")
    env = dict(os.environ, DOCKYARD_CGROUP_PARENT="/dockyard-bench")
    dockyard = Engine("dockyard", [dockyard_bin, "--root", str(base / "dockyard")], env, "busybox")
    dockyard("image", "bootstrap", "busybox")
    engines = [dockyard]
    if PEER.exists() and shutil.which("podman"):
        tarball = base / "busybox.tar"
        dockyard("create", "--name", "export-me", "busybox", "true")
        dockyard("export", "export-me", "-o", str(tarball))
        dockyard("rm", "export-me")
        penv = dict(os.environ, PEER_ROOT=str(base / "podman"))
        podman = Engine("podman", [str(PEER)], penv, IMAGE_PODMAN)
        podman("import", str(tarball), IMAGE_PODMAN)
        engines.append(podman)
    else:
        print(f"podman peer missing ({PEER}): dockyard alone", file=sys.stderr)
    return engines


def teardown(engines: list[Engine]) -> None:
    for engine in engines:
        ids = engine("ps", "-aq", check=False).split()
        if ids:
            engine("rm", "-f", *ids, check=False)
        if engine.name == "podman":
            engine("rmi", "-af", check=False)
            engine("system", "reset", "--force", check=False)
        else:  # its bridge and nft tables would outlive the temporary root
            engine("network", "rm", "dockyard0", check=False)


def alternate(
    engines: list[Engine], runs: int, measure: Callable[[Engine], float]
) -> dict[str, float]:
    samples: dict[str, list[float]] = {e.name: [] for e in engines}
    for i in range(runs + 1):
        for engine in engines:
            elapsed = measure(engine)
            if i:  # the first round warms caches (page cache, Python bytecode)
                samples[engine.name].append(elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title: str, medians: dict[str, float], goal: float | None) -> None:
    print(title)
    for name, value in medians.items():
        print(f"  {name:<9} median {value * 1000:7.1f} ms")
    if "podman" in medians:
        ratio = medians["dockyard"] / medians["podman"]
        verdict = (
            "" if goal is None else f" (goal ≤ {goal:.1f}x: {'met' if ratio <= goal else 'missed'})"
        )
        print(f"  ratio dockyard/podman {ratio:.2f}x{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-run-") as tmp:
        engines: list[Engine] = []
        try:
            engines = setup(Path(tmp))
            runs = alternate(
                engines,
                max(args.runs, 20),
                lambda e: e.time("run", "--rm", "--network", "none", e.image, "true"),
            )
            report(
                f"run --rm --network none busybox true ({max(args.runs, 20)} runs each)", runs, 0.5
            )
            for engine in engines:
                engine(
                    "run",
                    "-d",
                    "--name",
                    "bench-exec",
                    "--network",
                    "none",
                    engine.image,
                    "sleep",
                    "1000",
                )
            execs = alternate(
                engines, max(args.runs, 20), lambda e: e.time("exec", "bench-exec", "true")
            )
            report("exec CONTAINER true", execs, None)
        finally:
            teardown(engines)


if __name__ == "__main__":
    main()
